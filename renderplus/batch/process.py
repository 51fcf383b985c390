"""Child processes that Render+ owns: each in its own process group, ended as a group.

Blender may start helpers of its own, and a wrapper such as ``xvfb-run`` that receives SIGTERM
orphans the Blender under it (FACTS.md). So every job and hook runs in a new session; ending it
means SIGTERM to the whole group, then SIGKILL after a grace period, and once the main process
has exited any member of the group still alive is killed too. stdout and stderr share one pipe
that the caller drains line by line, so the child can never block on a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence

IS_WINDOWS = sys.platform == "win32"


class OwnedProcess:
    """A running child (argv list, or a shell command line for hooks) in its own group."""

    def __init__(self, command: Sequence[str] | str, *, env: Mapping[str, str] | None = None,
                 cwd: str | None = None) -> None:
        shell = isinstance(command, str)
        kwargs: dict[str, object] = {}
        if IS_WINDOWS:
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        else:
            kwargs["start_new_session"] = True
        self.popen = subprocess.Popen(
            command, shell=shell, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=dict(env) if env is not None else None, cwd=cwd,
            **kwargs)  # type: ignore[call-overload]
        self.pid = self.popen.pid
        self._kill_timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.terminated = False

    def lines(self) -> Iterator[str]:
        """stdout+stderr lines without their line ends, until the child closes the pipe."""
        stream = self.popen.stdout
        assert stream is not None
        for raw in stream:
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
        self._signal_group(signal.SIGKILL if not IS_WINDOWS else signal.SIGTERM)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        return code

    def _kill_if_alive(self) -> None:
        if self.popen.poll() is None:
            self._signal_group(signal.SIGKILL if not IS_WINDOWS else signal.SIGTERM)

    def _signal_group(self, sig: int) -> None:
        if IS_WINDOWS:
            if self.popen.poll() is None:
                self.popen.kill() if sig != signal.SIGTERM else self.popen.terminate()
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)


def group_alive(pgid: int) -> bool:
    """True while any process of group ``pgid`` exists (POSIX; used by tests and checks)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
