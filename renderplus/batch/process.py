"""Child processes that Render+ owns: each in its own process group, ended as a group.

Blender may start helpers of its own, and a wrapper such as ``xvfb-run`` that receives SIGTERM
orphans the Blender under it (docs/blender.md, Signals and process groups). So every job and
hook runs in a new session; ending it means SIGTERM to the whole group, then SIGKILL after a
grace period, and once the main process has exited any member of the group still alive is
killed too. stdout and stderr share one pipe
that the caller drains line by line, so the child can never block on a full pipe.

``run_command`` is the short form for the commands around a batch (notifications, sound,
power): run to the end, or killed as a group at a timeout, so none of them can hang a batch.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

IS_WINDOWS = sys.platform == "win32"
IS_LINUX = sys.platform.startswith("linux")
MAX_LINE = 64 * 1024     # longer output lines are cut here (the log keeps what Blender wrote)
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
    passes the TERM on to the process group, grandchildren included.
    """
    if IS_WINDOWS:
        return ["cmd", "/c", command]
    wrapped = f'trap "trap - TERM; kill -TERM 0" TERM\n( {command}\n) &\nwait $!'
    return ["/bin/sh", "-c", wrapped]


class OwnedProcess:
    """A running child (argv list, or a shell command line for hooks) in its own group."""

    def __init__(self, command: Sequence[str] | str, *, env: Mapping[str, str] | None = None,
                 cwd: str | None = None, die_with_parent: bool = False,
                 stdin_pipe: bool = False) -> None:
        argv = shell_argv(command) if isinstance(command, str) else list(command)
        kwargs: dict[str, object] = {}
        if IS_WINDOWS:
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        else:
            kwargs["start_new_session"] = True
            if die_with_parent:
                kwargs["preexec_fn"] = _parent_death_preexec()
        self.argv = tuple(argv)
        self.popen = subprocess.Popen(
            argv, stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=dict(env) if env is not None else None, cwd=cwd,
            **kwargs)  # type: ignore[call-overload]
        self.pid = self.popen.pid
        self._kill_timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.terminated = False

    def lines(self, max_line: int = MAX_LINE) -> Iterator[str]:
        """stdout+stderr lines without their line ends, until the child closes the pipe.

        A line longer than ``max_line`` bytes is cut there (the rest of it is read and dropped),
        so one endless line cannot take the memory of Render+.
        """
        stream = self.popen.stdout
        assert stream is not None
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

    def terminate(self, grace: float) -> None:
        """SIGTERM to the group now, SIGKILL to it after ``grace`` seconds if still alive."""
        with self._lock:
            if self.terminated or self.popen.poll() is not None:
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
        code = self.popen.wait()
        with self._lock:
            if self._kill_timer is not None:
                self._kill_timer.cancel()
        self._signal_group(signal.SIGKILL)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        return code

    def _kill_if_alive(self) -> None:
        if self.popen.poll() is None:
            self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> None:
        kill_group(self.popen, sig)


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
