"""The job loop's hand-over rule, without Blender: a job whose end (``Exited``) waits in the
loop's queue keeps its place, so its last lines, status and POST_JOB hooks come before the next
job's PRE_JOB hooks, even from an executor that frees its place the moment it posts the end."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from renderplus.batch.executors.base import (
    Accepted,
    EventSink,
    ExecutorError,
    Exited,
    JobHandle,
    JobLaunch,
    Output,
    Started,
)
from renderplus.batch.observers import BatchEvent, JobChanged, ObserverContext
from renderplus.batch.runner import Batch
from renderplus.batch.view import JobStatus
from tests.batch.conftest import make_recipe

JOBS = 6
LINES = 50


class InstantExecutor:
    """One place; a job renders within ``submit``: its lines, then its end posted as the place
    frees (one step, as the protocol asks), all before the loop has applied any of them."""

    name = "instant"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = False
        self.submitted: list[int] = []

    @property
    def capacity(self) -> int:
        with self._lock:
            return 0 if self._busy else 1

    def submit(self, launch: JobLaunch, sink: EventSink) -> JobHandle:
        with self._lock:
            if self._busy:
                raise ExecutorError("busy with another job")
            self._busy = True
        self.submitted.append(launch.job_id)
        handle = JobHandle(self.name, launch.job_id)
        sink(Accepted(launch.job_id, handle))
        sink(Started(launch.job_id, handle, time.time()))
        for index in range(LINES):
            sink(Output(launch.job_id, f"line {index}"))
        with self._lock:
            self._busy = False
            sink(Exited(launch.job_id, 0, time.time()))
        return handle

    def cancel(self, job_id: int, grace: float) -> bool:
        return False

    def pause(self, job_id: int, when: str, grace: float) -> bool:
        return False

    def end_orphan(self, handle: JobHandle) -> bool:
        return False

    def close(self) -> None:
        pass


class RunningCount:
    """Notes how many jobs each job change showed RUNNING."""

    def __init__(self, context: ObserverContext) -> None:
        self.running: list[int] = []

    def notify(self, event: BatchEvent) -> None:
        if isinstance(event, JobChanged) and event.job_id is not None:
            self.running.append(sum(job.status is JobStatus.RUNNING for job in event.view.jobs))

    @property
    def after_batch(self) -> None:
        return None


def test_the_next_job_starts_after_the_ended_one_is_handled(tmp_path: Path) -> None:
    blend = tmp_path / "scene.blend"
    blend.write_bytes(b"BLENDER-v304")
    log = tmp_path / "hooks.log"
    line = f'echo "$RENDERPLUS_JOB_ID $RENDERPLUS_HOOK" >> {log}'
    recipe = make_recipe([{"blend_file": str(blend), "output": str(tmp_path / f"out{i}_"),
                           "hooks": {"PRE_JOB": [{"cmd": line}], "POST_JOB": [{"cmd": line}]}}
                          for i in range(JOBS)])
    counts: list[RunningCount] = []

    def observe(context: ObserverContext) -> RunningCount:
        counts.append(RunningCount(context))
        return counts[-1]

    executor = InstantExecutor()
    batch = Batch(recipe, executor=executor, observers=[observe])
    batch.run()
    assert executor.submitted == list(range(JOBS))
    assert log.read_text().split("\n")[:-1] == \
        [f"{job} {phase}" for job in range(JOBS) for phase in ("PRE_JOB", "POST_JOB")]
    assert max(counts[0].running) == 1
    assert all(job.process.exited is not None and not job.running for job in batch.view().jobs)
