"""Changing a batch while it is loaded, running or paused: add jobs, move a queued job, skip one.

``BatchEdits`` changes the batch's state, its ``RunOrder`` (``order``, the data the job loop
starts jobs from) and its store record together, one edit at a time (``state.edit_lock``), so
the order in memory and the stored one never part (docs/engine-api.md, Changing a running batch):

- ``add_jobs(data)``: jobs validated like a recipe's (``parse_jobs``; their ``after`` may name
  the batch's jobs and each other), with ids after the last one, appended to the recipe and to
  the end of the run order; stored with the recipe, their rows and the order in one
  transaction, so a restart restores them.
- ``move_job(id, position)``: a queued job among the queued ones (0 = next).
- ``set_job_enabled(id, enabled)``: ``False`` skips a queued job (DISABLED, out of the order);
  ``True`` queues a disabled one again, last.

An edit is refused (``EditRefused``, a sentence) on a batch that has ended or is ending, and on a
job that is running, has ended or is starting. It is race-free with the loop's end: the loop
*seals* the batch in the same step (under the state's lock) in which it sees nothing left to
start, so a job added as the loop finishes is either in the order before that look (and runs)
or refused, never left QUEUED in a FINISHED batch.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .batchstate import BatchState
from .changes import BatchChanges
from .estimate import estimate_recipe
from .jobstate import JobState
from .recipe import MAX_JOBS, Recipe, parse_jobs
from .view import JobStatus


class EditRefused(Exception):
    """The batch or the job cannot be changed now; ``str()`` says why. ``ended``: because the
    batch has ended or is ending (not because of the job)."""

    def __init__(self, sentence: str, *, ended: bool = False) -> None:
        super().__init__(sentence)
        self.ended = ended


class NoSuchJob(Exception):
    """The batch has no job with that id; ``str()`` says so."""

    def __init__(self, job_id: int, count: int) -> None:
        super().__init__(f"No job {job_id} in this batch (its jobs are 0 to {count - 1})"
                         if count else f"No job {job_id}: this batch has no jobs")
        self.job_id = job_id


class BatchEdits:
    """Adds, moves, skips and enables jobs of one batch (see the module docstring)."""

    def __init__(self, state: BatchState, changes: BatchChanges, wake: Callable[[], None]) -> None:
        """``wake``: tell the job loop to look at the order now (a job may start)."""
        self.state = state
        self.changes = changes
        self.wake = wake
        self._recipe_text = RecipeText(state.recipe)

    def add_jobs(self, data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[int]:
        """Validate and append jobs; their ids. RecipeError, EditRefused."""
        state = self.state
        with state.edit_lock:
            with state.lock:
                self._refuse_if_ended()
                first = len(state.jobs)
            jobs = parse_jobs(data, first_id=first, limit=MAX_JOBS - first,
                              existing=state.recipe.jobs[:first])   # ``after`` may name them
            added = [JobState(job, JobStatus.QUEUED if job.enabled else JobStatus.DISABLED)
                     for job in jobs]
            with state.lock:
                self._refuse_if_ended()   # the loop may have ended while the jobs were read
                state.recipe.jobs.extend(jobs)
                state.jobs.extend(added)
                for job in added:
                    if job.status is JobStatus.QUEUED:
                        state.order.add(job.id)
                order = list(state.order)
            self.changes.store.add_jobs(state.recipe, jobs, [job.status for job in added], order,
                                        recipe_json=self._recipe_text.text())
            estimates = estimate_recipe(state.recipe, self.changes.store.store, only=jobs)
            with state.lock:
                for job in added:
                    job.prior = estimates.get(job.id)
        names = ", ".join(f"{job.id} ({job.job.display_name})" for job in added[:10])
        more = f" and {len(added) - 10} more" if len(added) > 10 else ""
        self.changes.log.write(f"[edit] added job(s) {names}{more}")
        self.changes.job_state_changed(added[0].id)
        self.wake()
        return [job.id for job in added]

    def move_job(self, job_id: int, position: int) -> None:
        """Move a queued job to ``position`` among the queued ones (0 = next, past the end =
        last). NoSuchJob, EditRefused; ValueError for a negative position."""
        if position < 0:
            raise ValueError(f"position must be 0 or more (got {position})")
        state = self.state
        with state.edit_lock:
            with state.lock:
                self._refuse_if_ended()
                job = self._queued(job_id, "moved")
                state.order.move(job.id, position)
                order = list(state.order)
            self.changes.store.batch(run_order=order)
        self.changes.log.write(f"[edit] job {job_id} moved to position {position}")
        state.changed()

    def set_job_enabled(self, job_id: int, enabled: bool) -> None:
        """``False``: a queued job is skipped (DISABLED); ``True``: a disabled job is queued
        again, last. Doing what is already so is no error. NoSuchJob, EditRefused."""
        state = self.state
        with state.edit_lock:
            with state.lock:
                self._refuse_if_ended()
                job = self._job(job_id)
                if enabled and job.status is not JobStatus.DISABLED:
                    if job.status is JobStatus.QUEUED and job.id in state.order:
                        return  # queued already
                    raise EditRefused(self._why_not(job, "enabled"))
                if not enabled and job.status is JobStatus.DISABLED:
                    return      # skipped already
                if enabled:
                    state.order.add(job.id)
                else:
                    self._queued(job_id, "skipped")
                    state.order.remove(job.id)
                job.job.enabled = enabled
                self.changes.set_status(job, JobStatus.QUEUED if enabled else JobStatus.DISABLED,
                                        "Queued again (enabled)" if enabled else
                                        "Skipped (disabled)")
                order = list(state.order)
            self.changes.store.batch(run_order=order)
        if enabled:
            self.wake()

    # ---------------------------------------------------------------- the refusals (lock held)

    def _refuse_if_ended(self) -> None:
        state = self.state
        status = state.status
        if status.ended:
            if state.resumable:
                raise EditRefused("The batch was interrupted: resume it before changing it",
                                  ended=True)
            raise EditRefused(f"The batch has ended ({status.value}): jobs can no longer be "
                              "added or moved; start or queue a new batch", ended=True)
        if state.cancel_asked.is_set():
            raise EditRefused("The batch is being cancelled: it can no longer be changed",
                              ended=True)
        if state.sealed:
            raise EditRefused("The batch is ending (every job has run): it can no longer be "
                              "changed; start or queue a new batch", ended=True)

    def _job(self, job_id: int) -> JobState:
        jobs = self.state.jobs
        if isinstance(job_id, bool) or not isinstance(job_id, int) or not 0 <= job_id < len(jobs):
            raise NoSuchJob(job_id, len(jobs))
        return jobs[job_id]

    def _queued(self, job_id: int, what: str) -> JobState:
        """The job, when it waits in the run order; else EditRefused saying why not."""
        job = self._job(job_id)
        if job.status is not JobStatus.QUEUED or job.id not in self.state.order:
            raise EditRefused(self._why_not(job, what))
        return job

    def _why_not(self, job: JobState, what: str) -> str:
        status = job.status
        if status is JobStatus.RUNNING:
            why = "it is rendering"
        elif status.ended:
            why = f"it has ended ({status.value})"
        elif status is JobStatus.DISABLED:
            why = "it is disabled (enable it first)"
        else:   # QUEUED but out of the order: being started, or waiting in a farm's queue
            why = "it is starting (handed to its executor)"
        return f"Job {job.id} cannot be {what}: {why}; only a queued job can"


class RecipeText:
    """The recipe's stored text (redacted JSON) with every job it has now, kept in parts: each
    job is encoded once, so adding a job to a batch of thousands does not encode them all again
    (bench/bench_edits.py). Only jobs change in a batch; its other keys are encoded once."""

    _SLOT = "renderplus-jobs-slot"

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self._head: str | None = None
        self._jobs: list[str] = []

    def text(self) -> str:
        if self._head is None:
            head = dataclasses.replace(self.recipe, jobs=[]).to_dict(redact=True)
            head["jobs"] = self._SLOT
            self._head = json.dumps(head)
        self._jobs.extend(json.dumps(job.to_dict(redact=True))
                          for job in self.recipe.jobs[len(self._jobs):])
        return self._head.replace(f'"{self._SLOT}"', "[" + ", ".join(self._jobs) + "]", 1)
