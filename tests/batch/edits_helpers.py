"""A stand-in executor for the edit tests without Blender: each job runs until the test lets it
end, so the test knows what runs while it adds, moves and skips jobs."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from renderplus.batch.executors.base import (
    Accepted,
    EventSink,
    ExecutorError,
    Exited,
    FramesWritten,
    JobHandle,
    JobLaunch,
    Started,
)
from renderplus.batch.frames import FrameSet
from tests.frames import PNG  # a whole PNG: frames are checked


class HeldExecutor:
    """``slots`` places; a submitted job runs until ``release(job_id)`` (it then writes its one
    frame and exits 0). ``started`` lists the job ids in the order they were submitted."""

    name = "held"

    def __init__(self, out: Path, slots: int = 1) -> None:
        self.out = out
        self.slots = slots
        self._lock = threading.Lock()
        self._running: dict[int, EventSink] = {}
        self.started: list[int] = []
        self.closed = False

    @property
    def capacity(self) -> int:
        with self._lock:
            return 0 if self.closed else self.slots - len(self._running)

    def submit(self, launch: JobLaunch, sink: EventSink) -> JobHandle:
        with self._lock:
            if len(self._running) >= self.slots:
                raise ExecutorError("full")
            self._running[launch.job_id] = sink
            self.started.append(launch.job_id)
        handle = JobHandle(self.name, launch.job_id)
        sink(Accepted(launch.job_id, handle))
        sink(Started(launch.job_id, handle, time.time()))
        return handle

    def running(self) -> list[int]:
        with self._lock:
            return sorted(self._running)

    def release(self, job_id: int) -> None:
        """The job writes its frame and ends."""
        frame = self.out / f"job{job_id}_0001.png"
        frame.write_bytes(PNG)
        with self._lock:
            sink = self._running.pop(job_id)
            sink(FramesWritten(job_id, FrameSet.single(1), (str(frame),)))
            sink(Exited(job_id, 0, time.time()))

    def cancel(self, job_id: int, grace: float) -> bool:
        with self._lock:
            sink = self._running.pop(job_id, None)
            if sink is not None:
                sink(Exited(job_id, -15, time.time(), cancelled=True))
        return sink is not None

    def pause(self, job_id: int, when: str, grace: float) -> bool:
        with self._lock:
            sink = self._running.pop(job_id, None)
            if sink is not None:
                sink(Exited(job_id, -15, time.time(), paused=True))
        return sink is not None

    def end_orphan(self, handle: JobHandle) -> bool:
        return False

    def close(self) -> None:
        with self._lock:
            self.closed = True
            running, self._running = self._running, {}
        for job_id, sink in running.items():
            sink(Exited(job_id, -15, time.time(), cancelled=True))


def job(blend: Path, out: Path, name: str, **keys: Any) -> dict[str, Any]:
    """A one-frame job of ``blend`` (which need not be a real .blend for the stand-in)."""
    return {"name": name, "blend_file": str(blend), "output": str(out / f"{name}_"), **keys}
