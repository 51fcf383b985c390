"""``--serve --handed-over PID``: the server a quitting Blender handed its batch to
(``renderplus.server.handover`` starts it).

In order: read the own token from ``--token-fd`` and load Bottle, then answer the launcher
(Blender may now exit); wait until process PID has ended (it owns the batch until then: one
owner per batch) and until the port is free (Blender's server frees it only as it exits: a
bounded wait, said in the log); continue the batch it left paused or interrupted (only the
missing frames; the frame in progress renders again, PRE_JOB hooks run again), then the queue;
stop by itself once nothing runs, is paused or would start from the queue. ``--serve`` alone
never stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from .common import UsageError

if TYPE_CHECKING:
    from ..batch.service import BatchService
    from ..batch.store.records import Owner
    from ..server import ServerHandle

PORT_WAIT = 120.0   # seconds a handed-over server waits for Blender's port
CHECK_EVERY = 0.25  # seconds between looks at the process and the port
MAX_TOKEN_LINE = 4096


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--handed-over", type=int, default=None, metavar="PID",
                       help="--serve: take over the paused or interrupted batch and the queue of "
                            "the Render+ in process PID (a quitting Blender) once that process "
                            "has ended and its port is free; stop when they are done")
    group.add_argument("--token-fd", type=int, default=None, metavar="FD",
                       help="--serve: read this server's own access token as one line from file "
                            "descriptor FD (kept as a token it made itself: reads stay open); "
                            "the add-on's hand-over passes it so")


def check(args: argparse.Namespace, explicit_token: bool) -> None:
    """The flags' combinations; UsageError with a sentence."""
    if args.token_fd is not None and explicit_token:
        raise UsageError("--token-fd and --token (or $RENDERPLUS_TOKEN) contradict each other: "
                         "give one of them")
    if args.handed_over is not None and args.handed_over <= 0:
        raise UsageError(f"--handed-over: a process id (got {args.handed_over})")
    if args.handed_over is not None and args.recipe:
        raise UsageError("--handed-over continues the batch it was handed: it loads no --recipe "
                         "(queue one with --queue once it runs)")


def _channel(fd: int) -> socket.socket | None:
    """The launcher's socket ``fd`` (None: a pipe or a file, read with ``os.read``)."""
    try:
        return socket.socket(fileno=fd)
    except OSError:
        return None


def token_from(fd: int) -> tuple[str | None, Callable[[], None]]:
    """The token line read from ``fd`` (None when empty) and what answers the launcher."""
    channel = _channel(fd)
    data = b""
    try:
        while not data.endswith(b"\n") and len(data) < MAX_TOKEN_LINE:
            chunk = channel.recv(MAX_TOKEN_LINE) if channel is not None else os.read(fd, MAX_TOKEN_LINE)
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        raise UsageError(f"--token-fd {fd}: cannot be read: {exc.strerror or exc}") from None
    token = data.decode("utf-8", "replace").strip() or None

    def answer() -> None:
        from ..server.handover import STARTED_ANSWER

        with contextlib.suppress(OSError):
            if channel is not None:
                channel.sendall(STARTED_ANSWER)
        if channel is not None:
            channel.close()
        else:
            with contextlib.suppress(OSError):
                os.close(fd)
    return token, answer


def check_own_token(token: str | None, no_token: bool) -> None:
    """A token from ``--token-fd`` that no client could send, or given with ``--no-token``:
    UsageError before the launcher is answered (it then says the server did not start)."""
    from ..server.guard import check_token

    if token is None:
        return
    if no_token:
        raise UsageError("--no-token and a token on --token-fd contradict each other")
    try:
        check_token(token)
    except ValueError as exc:
        raise UsageError(f"--token-fd: {exc}") from None


def wait_until_ended(pid: int, out: TextIO) -> None:
    """Until process ``pid`` has ended (reaped: a claim counts a zombie as its owner)."""
    owner = _owner(pid)
    if owner is None or not owner.alive():
        return
    _say(out, f"Waiting for process {pid} (the Blender that handed its batch over) to end")
    while owner.alive():
        time.sleep(CHECK_EVERY)
    _say(out, f"Process {pid} has ended")


def _owner(pid: int) -> Owner | None:
    """Process ``pid`` as it runs now (its start time tells it from a later one of that pid)."""
    from ..batch.spawner import boot_id, pid_exists, start_ticks
    from ..batch.store.records import Owner

    ticks = start_ticks(pid)
    if ticks is None:   # gone, or no /proc (then only the pid can be watched)
        return Owner(pid) if pid_exists(pid) and not os.path.isdir("/proc/self") else None
    return Owner(pid, boot_id(), ticks)


def listen_when_free(start: Callable[[], ServerHandle], host: str, port: int, out: TextIO,
                     wait: float = PORT_WAIT) -> ServerHandle:
    """``start()`` once the port is free: Blender's server closes it only as Blender exits.
    OSError when it is still taken after ``wait`` seconds (or fails otherwise)."""
    deadline = time.monotonic() + wait
    said = False
    while True:
        try:
            return start()
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)) \
                    or time.monotonic() > deadline:
                raise
        if not said:
            _say(out, f"Port {port} on {host} is still in use: waiting up to {wait:.0f} s for it "
                      "to be free")
            said = True
        time.sleep(CHECK_EVERY)


def take_over(service: BatchService, continue_queue: bool, out: TextIO) -> None:
    """Continue the batch left paused or interrupted (never re-run an ended one's failures),
    then let the queue go on when asked."""
    from ..batch.service import ServiceError

    batch = service.batch
    if batch is not None and not batch.running and (service.paused or service.interrupted_view()):
        try:
            resumed = service.resume()
        except ServiceError as exc:
            _say(out, f"The batch {batch.recipe.name!r} is not continued: {exc}")
        else:
            _say(out, f"Continuing the batch {resumed.recipe.name!r}: only the missing frames "
                      "render (the frame that was in progress renders again)")
    elif batch is None or not batch.running:
        _say(out, "No paused or interrupted batch to continue")
    if continue_queue:
        try:
            service.continue_queue()
        except ServiceError as exc:
            _say(out, f"The queue does not go on: {exc}")


def done(service: BatchService) -> bool:
    """The batch and the queue are done: the server stops (``BatchService.idle``)."""
    return service.idle()


def _say(out: TextIO, line: str) -> None:
    out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
    out.flush()
