"""Every process group Render+ starts carries a marker, and is recorded until it is gone.

A hook may ignore SIGTERM, and the parent-death signal is SIGTERM only: such a hook outlives a
Render+ killed with SIGKILL, under PID 1, and its group's leader (the wrapper shell) may be gone
too, so the recorded leader alone cannot find it again. So each owned group gets a random
marker in its environment (``RENDERPLUS_GROUP``), which every process it starts inherits. The
marker is written to the ledgers (the batch stores of this process, ``store.groups``) before
the group starts and forgotten once it has ended; a later Render+ that finds a record whose
owner is dead ends the processes of that group that carry the marker (``marked_members``).

The marker also makes a late group kill safe: a process group keeps its id while any member
lives, and the id cannot be reused while it does, so a group whose leader has exited is still
signalled, but only once a live member with the group's marker proves the id is still ours.

Reading another process's environment and process group needs Linux's /proc; elsewhere
``marked_members`` finds nothing (only a leader Render+ has not yet waited for is signalled,
and a restart ends nothing it cannot see).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Callable
from typing import Protocol

GROUP_VAR = "RENDERPLUS_GROUP"
log = logging.getLogger("renderplus.batch")


class GroupLedger(Protocol):
    """A durable record of live groups (``store.groups.StoredGroups``). Each method returns
    False when the ledger can no longer be written (a closed store): it is then dropped."""

    def record(self, marker: str, what: str) -> bool: ...

    def placed(self, marker: str, pgid: int) -> bool: ...

    def forget(self, marker: str) -> bool: ...


class LiveGroup(Protocol):
    """What the exit handler needs of a running group (``process.OwnedProcess``)."""

    def kill_group_now(self) -> None: ...


_lock = threading.Lock()
_ledgers: list[GroupLedger] = []
_live: weakref.WeakValueDictionary[str, LiveGroup] = weakref.WeakValueDictionary()


def new_marker() -> str:
    return uuid.uuid4().hex


def keep_records_in(ledger: GroupLedger) -> None:
    """Record every group started from now on in ``ledger`` too (once, however often asked)."""
    with _lock:
        if ledger not in _ledgers:
            _ledgers.append(ledger)


def announce(marker: str, what: str) -> None:
    """Before a group starts: its record, so that even a kill in the next instant leaves it found."""
    _tell_ledgers(lambda ledger: ledger.record(marker, what[:300]))


def placed(marker: str, pgid: int, group: LiveGroup) -> None:
    """The group runs as ``pgid``: recorded, and ended at this process's exit if still alive."""
    with _lock:
        _live[marker] = group
        _keep_exit_handler()
    _tell_ledgers(lambda ledger: ledger.placed(marker, pgid))


def ended(marker: str) -> None:
    """Nothing of the group is left: its record goes."""
    with _lock:
        _live.pop(marker, None)
        _keep_exit_handler()
    _tell_ledgers(lambda ledger: ledger.forget(marker))


def _tell_ledgers(action: Callable[[GroupLedger], bool]) -> None:
    with _lock:
        ledgers = list(_ledgers)
    for ledger in ledgers:
        try:
            kept = action(ledger)
        except Exception:  # a record must never stop a hook or a job from running
            log.exception("cannot record a process group")
            kept = True
        if not kept:
            with _lock, contextlib.suppress(ValueError):
                _ledgers.remove(ledger)


# ------------------------------------------------------------------------ finding members

def marked_members(marker: str, pgid: int | None) -> list[int]:
    """Live processes (not zombies) whose environment carries ``marker`` and, when ``pgid`` is
    given, whose process group is ``pgid``. Empty where there is no /proc."""
    needle = f"{GROUP_VAR}={marker}".encode()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        group = group_of(entry)
        if group is None or (pgid is not None and group != pgid):
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry))
    return found


def group_of(pid: str) -> int | None:
    """The process group of a live process, None for a zombie or a process gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        return None if fields[0] == b"Z" else int(fields[2])
    except (OSError, IndexError, ValueError):
        return None


def end_marked(marker: str, pgid: int | None, sig: int = 9) -> list[int]:
    """SIGKILL (or ``sig``) the group ``pgid`` if a live member carries ``marker`` (without a
    pgid: each process carrying it); returns the marked processes found."""
    members = marked_members(marker, pgid)
    for pid in members if pgid is None else members[:1]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if pgid is None:
                os.kill(pid, sig)
            else:
                os.killpg(pgid, sig)
    return members


_exit_handler_registered = False


def _keep_exit_handler() -> None:
    """The exit handler is registered only while a group lives (call under ``_lock``): an
    add-on disabled with nothing running leaves no exit callback of its modules behind."""
    global _exit_handler_registered
    wanted = len(_live) > 0
    if wanted and not _exit_handler_registered:
        atexit.register(_end_live_groups)
    elif not wanted and _exit_handler_registered:
        atexit.unregister(_end_live_groups)
    _exit_handler_registered = wanted


def _end_live_groups() -> None:
    """At this process's exit, nothing it started may stay: SIGKILL what is still running (a
    hook ignoring SIGTERM would otherwise survive, as the parent-death signal is SIGTERM)."""
    with _lock:
        groups = list(_live.values())
    for group in groups:
        with contextlib.suppress(Exception):
            group.kill_group_now()
