"""The local executor: one ``blender -b`` process per job on this machine.

Each job runs in its own process group (``OwnedProcess``), started from the long-lived spawner
thread so it dies with Render+ (``spawner``). A reader thread per job drains stdout as fast as
Blender writes it, posting each line as an ``Output`` event, then ``Exited``. ``slots`` is how
many jobs may run at once (1: Render+ 1.0's one-after-another). A pause "now" ends the job's
group as a cancel does; "after the frame" creates the job's stop file (``pause``).
"""

from __future__ import annotations

import threading
import time

from .. import spawner
from ..markers import PAUSED_EXIT_CODE
from ..pause import ask_to_stop, stronger
from ..process import OwnedProcess
from .base import Accepted, EventSink, ExecutorError, Exited, JobHandle, JobLaunch, Output, Started

NAME = "local"


class ProcessExecutor:
    """A process per job; see the module docstring."""

    name = NAME

    def __init__(self, slots: int = 1) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self._lock = threading.Lock()
        self._running: dict[int, OwnedProcess] = {}
        self._cancelled: set[int] = set()
        self._paused: dict[int, str] = {}      # job -> the strongest pause asked of it
        self._env: dict[int, dict[str, str]] = {}
        self._closed = False

    @property
    def capacity(self) -> int:
        with self._lock:
            return 0 if self._closed else self.slots - len(self._running)

    def submit(self, launch: JobLaunch, sink: EventSink) -> JobHandle:
        with self._lock:
            if self._closed:
                raise ExecutorError("the executor is closed")
            if len(self._running) >= self.slots:
                raise ExecutorError("no free slot")
        try:
            process = spawner.spawn(list(launch.argv), env=launch.env, cwd=launch.workdir or None)
        except OSError as exc:
            raise ExecutorError(f"Cannot start {launch.argv[0]}: {exc.strerror or exc}") from exc
        started = time.time()
        handle = JobHandle(NAME, launch.job_id, pid=process.pid, pgid=process.pid,
                           boot_id=spawner.boot_id(), start_ticks=spawner.start_ticks(process.pid),
                           argv=process.argv)
        with self._lock:
            self._running[launch.job_id] = process
            self._env[launch.job_id] = dict(launch.env)
        sink(Accepted(launch.job_id, handle))
        sink(Started(launch.job_id, handle, started))
        reader = threading.Thread(target=self._drain, args=(launch.job_id, process, sink),
                                  name=f"renderplus-job{launch.job_id}", daemon=True)
        reader.start()
        return handle

    def cancel(self, job_id: int, grace: float) -> bool:
        with self._lock:
            process = self._running.get(job_id)
            if process is None:
                return False
            self._cancelled.add(job_id)
        process.terminate(grace)
        return True

    def pause(self, job_id: int, when: str, grace: float) -> bool:
        with self._lock:
            process = self._running.get(job_id)
            if process is None or job_id in self._cancelled:
                return False
            self._paused[job_id] = stronger(self._paused.get(job_id), when)
            env = self._env.get(job_id, {})
        if when == "now":
            process.terminate(grace)
            return True
        return ask_to_stop(env)

    def end_orphan(self, handle: JobHandle) -> bool:
        """SIGKILL the recorded group, but only if its leader is still the recorded process."""
        return spawner.end_recorded_group(handle.pid, handle.pgid, handle.boot_id,
                                          handle.start_ticks, handle.argv)

    def close(self, grace: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            running = list(self._running.items())
            self._cancelled.update(job_id for job_id, _ in running)
        for _, process in running:
            process.terminate(grace)

    def _drain(self, job_id: int, process: OwnedProcess, sink: EventSink) -> None:
        try:
            for line in process.lines():
                sink(Output(job_id, line))
        finally:
            code = process.wait()
            with self._lock:  # the slot freed and the end posted as one step (base.py, Capacity)
                self._running.pop(job_id, None)
                cancelled = job_id in self._cancelled and process.terminated
                self._cancelled.discard(job_id)
                self._env.pop(job_id, None)
                asked = self._paused.pop(job_id, None)
                paused = not cancelled and asked is not None and (
                    code == PAUSED_EXIT_CODE or (asked == "now" and process.terminated))
                sink(Exited(job_id, code, time.time(), cancelled=cancelled, paused=paused))
