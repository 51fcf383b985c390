"""A job's encode on this machine: the encode script's Blender as an owned process, one at a time.

The job loop hands a job whose frames are all verified to ``MovieMaker.start`` and goes on
starting other jobs: the encode frees its render slot. Encodes run one after another (an encode
is CPU-bound; two at once would only slow both and the renders beside them). The process runs
in its own group like every Blender Render+ starts (``spawner``), so a cancel or a pause ends
Blender and FFmpeg together; the script removes its partial movie on SIGTERM, and ``stop`` also
removes it in case the group had to be killed. Its lines reach the loop as ``Output`` events,
its end as ``MovieEnded``, through the loop's own event queue.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .. import spawner
from ..executors import Output
from ..process import OwnedProcess


@dataclass(frozen=True)
class MovieEnded:
    """The encode of ``job_id`` ended: its Blender's exit code; ``stopped`` when asked to
    (``why``: "cancel" or "pause")."""

    job_id: int
    returncode: int
    at: float
    stopped: str = ""


Sink = Callable[["Output | MovieEnded"], None]


class MovieMaker:
    """Runs encode processes, one at a time; see the module docstring."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self._lock = threading.Lock()
        self._running: dict[int, tuple[OwnedProcess, str]] = {}   # job -> (process, partial)
        self._stopped: dict[int, str] = {}
        self._closed = False

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._running)

    def running(self, job_id: int) -> bool:
        with self._lock:
            return job_id in self._running

    def start(self, job_id: int, argv: Sequence[str], env: Mapping[str, str], workdir: str,
              partial: str) -> int:
        """Start the encode of ``job_id``; its pid. OSError when Blender cannot start."""
        with self._lock:
            if self._closed:
                raise OSError("the batch is ending")
        with contextlib.suppress(OSError):
            os.remove(partial)      # a leftover of an encode that was killed
        process = spawner.spawn(list(argv), env=env, cwd=workdir or None)
        with self._lock:
            self._running[job_id] = (process, partial)
        threading.Thread(target=self._drain, args=(job_id, process, partial),
                         name=f"renderplus-movie{job_id}", daemon=True).start()
        return process.pid

    def stop(self, job_id: int, why: str, grace: float) -> bool:
        """End the encode of ``job_id`` (``why``: "cancel" or "pause"); False if none runs."""
        with self._lock:
            entry = self._running.get(job_id)
            if entry is None:
                return False
            self._stopped.setdefault(job_id, why)
        entry[0].terminate(grace)
        return True

    def close(self, grace: float) -> None:
        """The batch ends: every encode is stopped (as a cancel)."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        for job_id in running:
            self.stop(job_id, "cancel", grace)

    def _drain(self, job_id: int, process: OwnedProcess, partial: str) -> None:
        try:
            for line in process.lines():
                self._sink(Output(job_id, line))
        finally:
            code = process.wait()
            with self._lock:
                self._running.pop(job_id, None)
                why = self._stopped.pop(job_id, "") if process.terminated else ""
                self._stopped.pop(job_id, None)
            if code != 0:
                with contextlib.suppress(OSError):
                    os.remove(partial)   # never a half movie, even when the script was killed
            self._sink(MovieEnded(job_id, code, time.time(), stopped=why))
