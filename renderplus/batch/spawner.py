"""Every child of Render+ is started from one long-lived thread, and can be found again.

Linux's parent-death signal fires when the *thread* that forked a child ends, not the process
(measured: docs/blender.md, Children that die with their parent): a child started from a request
thread or a short-lived worker would be killed as soon as that thread finished. So Blender
processes and hooks are started by ``spawn``, which hands the fork to one daemon thread that
lives as long as Render+, and the child dies with Render+ even after a SIGKILL (when it heeds
the SIGTERM that signal is: one that ignores it is found again through its recorded marker,
``process_groups``).

``same_process`` reads a process's boot id, start time and argv, so a later run can end an
orphan of a dead run from its recorded handle without hitting a reused pid. The argv may be a
wrapper's that passes the recorded arguments on (``process_identity``): a ``blender_bin`` that is
a shell script or ``exec``s bubblewrap is recognised too, and a group whose wrapper has gone is
still ended while a member started after it runs the recorded arguments (the Blender a wrapper
ran as its child).
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import process_groups
from .process import OwnedProcess
from .process_identity import runs_recorded_command


@dataclass
class _Request:
    command: Sequence[str] | str | None    # None: the thread's signal to end
    env: Mapping[str, str] | None
    cwd: str | None
    done: threading.Event
    stdin_pipe: bool = False   # a pipe Render+ writes to (a session Blender's jobs)
    marker: str | None = None
    result: OwnedProcess | None = None
    error: BaseException | None = None


class _Spawner:
    def __init__(self) -> None:
        self._requests: queue.Queue[_Request] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="renderplus-spawner", daemon=True)
        self._thread.start()

    def spawn(self, command: Sequence[str] | str, env: Mapping[str, str] | None,
              cwd: str | None, stdin_pipe: bool = False, marker: str | None = None) -> OwnedProcess:
        if threading.current_thread() is self._thread:
            return OwnedProcess(command, env=env, cwd=cwd, die_with_parent=True,
                                stdin_pipe=stdin_pipe, marker=marker)
        request = _Request(command, env, cwd, threading.Event(), stdin_pipe=stdin_pipe,
                           marker=marker)
        self._requests.put(request)
        request.done.wait()
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def stop(self, timeout: float) -> None:
        self._requests.put(_Request(None, None, None, threading.Event()))
        self._thread.join(timeout)

    def _serve(self) -> None:
        while True:
            request = self._requests.get()
            if request.command is None:
                return
            try:
                request.result = OwnedProcess(request.command, env=request.env, cwd=request.cwd,
                                              die_with_parent=True, stdin_pipe=request.stdin_pipe,
                                              marker=request.marker)
            except BaseException as exc:  # handed to the caller, who raises it
                request.error = exc
            request.done.set()


_spawner: _Spawner | None = None
_spawner_lock = threading.Lock()


def shutdown(timeout: float = 5.0) -> None:
    """End the spawner thread (an add-on being disabled leaves no thread behind). Children it
    started and that still run get the parent-death signal; a later ``spawn`` starts anew."""
    global _spawner
    with _spawner_lock:
        spawner, _spawner = _spawner, None
    if spawner is not None:
        spawner.stop(timeout)


def spawn(command: Sequence[str] | str, *, env: Mapping[str, str] | None = None,
          cwd: str | None = None, stdin_pipe: bool = False) -> OwnedProcess:
    """Start an owned child from the long-lived spawner thread; OSError when it cannot start.
    ``stdin_pipe``: its stdin is a pipe Render+ writes to (a session Blender reads jobs there).
    The group is recorded (``process_groups``) before it starts, from the caller's thread."""
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = _Spawner()
        spawner = _spawner
    marker = process_groups.new_marker()
    process_groups.announce(marker, command if isinstance(command, str) else " ".join(command))
    try:
        process = spawner.spawn(command, env, cwd, stdin_pipe, marker)
    except BaseException:
        process_groups.ended(marker)
        raise
    process_groups.placed(marker, process.pid, process)
    return process


# ---------------------------------------------------------------- finding a process again

def boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def start_ticks(pid: int) -> int | None:
    """The process's start time (clock ticks after boot), from /proc/PID/stat; None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[19])  # field 22 of stat; fields here start at field 3
    except (IndexError, ValueError):
        return None


def cmdline(pid: int) -> tuple[str, ...] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return tuple(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)


def same_process(pid: int, boot: str | None, ticks: int | None, argv: Sequence[str]) -> bool:
    """True only when ``pid`` is still the very process recorded: same boot and start, and
    running the recorded argv (itself, or through a wrapper that keeps its arguments)."""
    if boot is None or ticks is None or boot != boot_id():
        return False
    live = cmdline(pid)
    return start_ticks(pid) == ticks and live is not None and runs_recorded_command(live, argv)


def recorded_members(pgid: int, boot: str | None, ticks: int | None, argv: Sequence[str]) -> list[int]:
    """Live members of group ``pgid`` that started no earlier than the recorded leader and run
    its recorded arguments: a wrapped Blender whose wrapper has gone. A group keeps its id while
    any member lives, so such a member proves the id is still the recorded group's."""
    if boot is None or ticks is None or boot != boot_id():
        return []
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []
    found = []
    for entry in entries:
        if process_groups.group_of(entry) != pgid:
            continue
        pid = int(entry)
        started, live = start_ticks(pid), cmdline(pid)
        if started is not None and started >= ticks and live is not None \
                and runs_recorded_command(live, argv):
            found.append(pid)
    return found


def pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def end_recorded_group(pid: int | None, pgid: int | None, boot: str | None, ticks: int | None,
                       argv: Sequence[str]) -> bool:
    """SIGKILL a dead run's process group, but only while its leader is still the very process
    recorded, or, its leader gone, a member started after it still runs the recorded arguments
    (pids and groups are reused); True when something was ended."""
    if pid is None or pgid is None:
        return False
    if not same_process(pid, boot, ticks, argv) and not recorded_members(pgid, boot, ticks, argv):
        return False
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True
