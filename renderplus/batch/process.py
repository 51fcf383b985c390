"""Child processes that Render+ owns: each in its own process group, ended as a group.

Blender may start helpers of its own, and a wrapper such as ``xvfb-run`` that receives SIGTERM
orphans the Blender under it (docs/blender.md, Signals and process groups). So every job and
hook runs in a new session; ending it means SIGTERM to the whole group, then SIGKILL after a
grace period, and once the main process has exited any member of the group still alive is
killed too: at once, so that a grandchild holding the output pipe (a hook's ``sleep``) cannot
keep the reader waiting. stdout and stderr share one pipe that the caller drains line by line,
so the child can never block on a full pipe.

The group's leader is not reaped until the group has been killed (its id stays ours); after
that, a group is signalled only while a live member carries its marker (``process_groups``),
because a group keeps its id while any member lives, even when its leader has gone.

``run_command`` is the short form for the commands around a batch (notifications, sound,
power): run to the end, or killed as a group at a timeout, so none of them can hang a batch.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import process_groups

IS_WINDOWS = sys.platform == "win32"
IS_LINUX = sys.platform.startswith("linux")
HAS_PROC = os.path.isdir("/proc/self")
MAX_LINE = 64 * 1024     # longer output lines are cut here (the log keeps what Blender wrote)
DRAIN_AFTER_EXIT = 2.0   # s of silence on the pipe, once the group is killed, before reading stops
LEADER_CHECK = 0.5       # s between checks of the leader where no pidfd tells of its exit
_PR_SET_PDEATHSIG = 1


def _parent_death_preexec() -> Callable[[], None] | None:
    """A preexec_fn asking the kernel to SIGTERM the child when its spawning thread dies.

    Linux only. ``prctl`` is looked up here, in the parent: the child may only call it. If the
    parent died between fork and prctl, the child exits at once instead of running orphaned.
    """
    if not IS_LINUX:
        return None
    try:
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def shell_argv(command: str) -> list[str]:
    """A hook's shell line, run so that a TERM to the shell ends the whole group.

    The parent-death signal reaches only the shell, not what it started (``sleep``); the trap
    passes the TERM on to the process group, grandchildren included, and the shell then waits
    for the command to end, so the group keeps a live leader while the command runs (a command
    that ignores TERM is then killed with its group after the grace).
    """
    if IS_WINDOWS:
        return ["cmd", "/c", command]
    wrapped = ('trap \'trap "" TERM; kill -TERM 0; stopped=1\' TERM\n'
               f'( {command}\n) &\n'
               'child=$!\nwait "$child"; status=$?\n'
               'if [ -n "$stopped" ]; then wait "$child"; status=$?; fi\n'
               'exit "$status"')
    return ["/bin/sh", "-c", wrapped]


class OwnedProcess:
    """A running child (argv list, or a shell command line for hooks) in its own group.

    ``marker``: the group's mark (``process_groups``), in its environment as
    ``RENDERPLUS_GROUP``; a new one when not given."""

    def __init__(self, command: Sequence[str] | str, *, env: Mapping[str, str] | None = None,
                 cwd: str | None = None, die_with_parent: bool = False,
                 stdin_pipe: bool = False, marker: str | None = None) -> None:
        argv = shell_argv(command) if isinstance(command, str) else list(command)
        kwargs: dict[str, object] = {}
        if IS_WINDOWS:
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        else:
            kwargs["start_new_session"] = True
            if die_with_parent:
                kwargs["preexec_fn"] = _parent_death_preexec()
        self.argv = tuple(argv)
        self.marker = marker or process_groups.new_marker()
        child_env = dict(env if env is not None else os.environ)
        child_env[process_groups.GROUP_VAR] = self.marker
        self.popen = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=child_env, cwd=cwd, **kwargs)  # type: ignore[call-overload]
        self.pid = self.popen.pid
        self._pidfd = _open_pidfd(self.pid)
        self._kill_timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._ended = False
        self.terminated = False

    def lines(self, max_line: int = MAX_LINE) -> Iterator[str]:
        """stdout+stderr lines without their line ends, until the child closes the pipe, or
        (POSIX) until its main process has exited and the rest of its group was killed.

        A line longer than ``max_line`` bytes is cut there (the rest of it is read and dropped),
        so one endless line cannot take the memory of Render+.
        """
        stream = self.popen.stdout
        assert stream is not None
        if IS_WINDOWS:
            yield from _blocking_lines(stream, max_line)
            return
        for raw in self._watched_lines(stream.fileno(), max_line):
            yield raw.decode("utf-8", "replace").rstrip("\r\n")

    def _watched_lines(self, fd: int, max_line: int) -> Iterator[bytes]:
        """Read the pipe and watch the leader: once it has exited, kill the rest of the group
        and read only what is left (until EOF, or ``DRAIN_AFTER_EXIT`` s of silence)."""
        splitter = _LineSplitter(max_line)
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if self._pidfd is not None:
            poller.register(self._pidfd, select.POLLIN)
        leader_gone = False
        while True:
            if leader_gone:
                timeout: float | None = DRAIN_AFTER_EXIT * 1000
            else:
                timeout = None if self._pidfd is not None else LEADER_CHECK * 1000
            events = poller.poll(timeout)
            if not events and leader_gone:
                yield from splitter.end()
                return
            for ready, _ in events:
                if ready != fd:
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    yield from splitter.end()
                    return
                yield from splitter.feed(chunk)
            if not leader_gone and self._leader_exited(events):
                leader_gone = True
                if self._pidfd is not None:
                    poller.unregister(self._pidfd)
                self._signal_group(signal.SIGKILL)

    def _leader_exited(self, events: list[tuple[int, int]] | None = None) -> bool:
        """Whether the main process has exited, without reaping it (its id stays ours)."""
        if events is not None and self._pidfd is not None:
            return any(ready == self._pidfd for ready, _ in events)
        if self.popen.returncode is not None:
            return True
        if IS_WINDOWS or not hasattr(os, "waitid"):
            return self.popen.poll() is not None
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def terminate(self, grace: float) -> None:
        """SIGTERM to the group now, SIGKILL to it after ``grace`` seconds if still alive."""
        with self._lock:
            if self.terminated or self._ended or self._leader_exited():
                self.terminated = True
                return
            self.terminated = True
            timer = threading.Timer(grace, self._kill_if_alive)
            timer.daemon = True
            self._kill_timer = timer  # stored before the signal, so wait() can always cancel it
            timer.start()
            self._signal_group(signal.SIGTERM)

    def wait(self) -> int:
        """Wait for the child, then make sure nothing of its group survives; the exit code."""
        if not IS_WINDOWS and hasattr(os, "waitid") and self.popen.returncode is None:
            with contextlib.suppress(ChildProcessError):  # exited, not reaped: the id stays ours
                os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        with self._lock:
            if self._kill_timer is not None:
                self._kill_timer.cancel()
            self._signal_group(signal.SIGKILL)
            self._ended = True
        code = self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        process_groups.ended(self.marker)
        return code

    def kill_group_now(self) -> None:
        """SIGKILL whatever of the group still runs (Render+ is exiting)."""
        with self._lock:
            if not self._ended:
                self._signal_group(signal.SIGKILL)

    def _kill_if_alive(self) -> None:
        with self._lock:
            if not self._ended:
                self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> None:
        """Signal the group while its id is provably ours: its leader not yet reaped, or a live
        member carrying the group's marker. Without /proc (macOS) the group is signalled as
        before there was a marker: by its id."""
        if IS_WINDOWS or self.popen.returncode is None or not HAS_PROC:
            kill_group(self.popen, sig)
        else:
            process_groups.end_marked(self.marker, self.pid, sig)


def _open_pidfd(pid: int) -> int | None:
    """A descriptor that turns readable when ``pid`` exits (Linux 5.3+), or None."""
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        return int(opener(pid))
    except OSError:
        return None


class _LineSplitter:
    """Bytes from a pipe, cut into lines of at most ``max_line`` bytes (a longer one is cut
    and marked `` [...]``, its rest dropped)."""

    def __init__(self, max_line: int) -> None:
        self._max = max_line
        self._buffer = bytearray()
        self._dropping = False

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        buffer = self._buffer
        buffer += chunk
        while True:
            newline = buffer.find(b"\n")
            if self._dropping:
                if newline < 0:
                    buffer.clear()
                    return
                del buffer[:newline + 1]
                self._dropping = False
            elif 0 <= newline < self._max:
                yield bytes(buffer[:newline + 1])
                del buffer[:newline + 1]
            elif len(buffer) >= self._max:
                yield bytes(buffer[:self._max]) + b" [...]"
                del buffer[:self._max]
                self._dropping = True
            else:
                return

    def end(self) -> Iterator[bytes]:
        if self._buffer and not self._dropping:
            yield bytes(self._buffer)
        self._buffer.clear()


def _blocking_lines(stream: Any, max_line: int) -> Iterator[str]:
    """Windows: ``readline`` until the pipe closes (no poll on pipes there)."""
    while True:
        raw = stream.readline(max_line)
        if not raw:
            return
        if not raw.endswith(b"\n") and len(raw) >= max_line:
            while True:  # drop the rest of an over-long line, in bounded pieces
                rest = stream.readline(max_line)
                if not rest or rest.endswith(b"\n"):
                    break
            raw += b" [...]"
        yield raw.decode("utf-8", "replace").rstrip("\r\n")


def kill_group(popen: subprocess.Popen[Any], sig: int | None = None) -> None:
    """Send ``sig`` (default SIGKILL) to the child's whole process group; gone is fine."""
    if IS_WINDOWS:
        if popen.poll() is None:
            popen.terminate() if sig == signal.SIGTERM else popen.kill()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL if sig is None else sig)


# Short outside commands (notifications, sound, power): run to the end or killed at a timeout.


@dataclass(frozen=True)
class CommandResult:
    """What became of a command: ``ok``, and when not, a short ``detail`` for people."""

    ok: bool
    detail: str = ""
    timed_out: bool = False


def run_command(argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None,
                ) -> CommandResult:
    """Run ``argv`` (no shell) with no stdin; after ``timeout`` seconds kill its process group."""
    kwargs: dict[str, Any] = {}
    if sys.platform == "win32":
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    else:
        kwargs["start_new_session"] = True
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=dict(env) if env is not None else None,
                                **kwargs)
    except FileNotFoundError:
        return CommandResult(False, f"{argv[0]} is not installed")
    except OSError as exc:
        return CommandResult(False, f"{argv[0]} could not start ({exc.strerror or exc})")
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        with contextlib.suppress(subprocess.TimeoutExpired):  # a grandchild kept the pipes
            proc.communicate(timeout=2.0)
        return CommandResult(False, f"{argv[0]} did not finish within {timeout:g} s", timed_out=True)
    if proc.returncode == 0:
        return CommandResult(True)
    return CommandResult(False, f"{argv[0]} failed (exit status {proc.returncode})"
                         + _last_line(err or out))


def _last_line(output: bytes) -> str:
    lines = [ln.strip() for ln in output.decode("utf-8", "replace").splitlines() if ln.strip()]
    if not lines:
        return ""
    text = lines[-1]
    return ": " + (text if len(text) <= 300 else text[:297] + "...")
