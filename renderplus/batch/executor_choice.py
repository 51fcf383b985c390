"""Which executor runs a job: a choice made for each job, not once for the batch.

The job loop asks its ``ExecutorChoice`` for each job's executor when the job is about to start,
and keeps that executor for the job's events and its cancel. Today's choices:

- ``this_machine``: a process per job (``ProcessExecutor`` with the batch's slots), or, where
  the recipe reuses Blender sessions (``slots.uses_session``), one ``SessionExecutor`` that
  renders consecutive jobs of a file in one Blender;
- ``always(executor)``: every job on one given executor (a farm, or a test's).

An executor is made when a job first needs it; ``close()`` closes every executor handed out
(an idle Blender session ends with its batch).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .executors import Executor, ProcessExecutor
from .executors.session import SessionExecutor
from .recipe import Job, Recipe
from .slots import session_fits, uses_session

ChooseExecutor = Callable[[Job], Executor]


def always(executor: Executor) -> ChooseExecutor:
    """Every job on ``executor``."""
    return lambda job: executor


def this_machine(recipe: Recipe, slots: int, kill_grace: float) -> ChooseExecutor:
    """A process per job, or one Blender session for consecutive jobs of a file when the recipe
    reuses sessions; each executor made once, when a job first needs it. A job the session was
    not chosen for (one added later whose engine was not proven identical in a session,
    docs/blender.md, One session for several jobs) renders in a process of its own."""
    session = uses_session(recipe, slots)
    made: dict[str, Executor] = {}
    lock = threading.Lock()

    def choose(job: Job) -> Executor:
        kind = "session" if session and session_fits(recipe, job) else "process"
        with lock:
            if kind not in made:
                made[kind] = (SessionExecutor(grace=kill_grace) if kind == "session"
                              else ProcessExecutor(slots))
            return made[kind]

    return choose


class ExecutorChoice:
    """Hands out each job's executor and remembers them, to close them with the batch."""

    def __init__(self, choose: ChooseExecutor, given: Executor | None = None,
                 limit: int | None = None) -> None:
        """``given``: an executor made for this batch, closed with it even if no job used it.
        ``limit``: how many jobs may run at once over every executor handed out (this
        machine's slots; None: each executor's own capacity, as a farm's)."""
        self._choose = choose
        self.limit = limit
        self._lock = threading.Lock()
        self._used: list[Executor] = [given] if given is not None else []
        self._chosen: dict[int, Executor] = {}

    def for_job(self, job: Job) -> Executor:
        """The job's executor: chosen once, the first time the loop looks at the job (it may
        look again while the executor is full, and a retry runs where the first attempt ran)."""
        with self._lock:
            chosen = self._chosen.get(job.id)
        if chosen is not None:
            return chosen
        executor = self._choose(job)
        with self._lock:
            self._chosen[job.id] = executor
            if not any(executor is used for used in self._used):
                self._used.append(executor)
        return executor

    @property
    def used(self) -> tuple[Executor, ...]:
        """The executors handed out so far (and the given one)."""
        with self._lock:
            return tuple(self._used)

    def end_idle(self) -> None:
        """End what the executors keep idle (a Blender session; ``end_idle`` where an executor
        has one) and wait for it: a paused batch leaves no Blender. They take jobs again."""
        for executor in self.used:
            end = getattr(executor, "end_idle", None)
            if callable(end):
                end()

    def close(self) -> None:
        """Close every executor handed out (idempotent, as ``Executor.close`` is)."""
        for executor in self.used:
            executor.close()
