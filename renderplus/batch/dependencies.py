"""Jobs that wait for others (the job key ``after``): may a queued job start now?

A job names the jobs that must finish first. While one of them is queued or running, the job
waits, keeping its place in the run order, and the jobs behind it that wait for nothing start
instead; once they have all FINISHED (in this run or an earlier one: a resumed batch keeps its
statuses) it starts like any job. A dependency that FAILED, was CANCELLED or is DISABLED means
the job can never be rendered as asked: it ends FAILED with that reason, and nothing of it
runs. Pure functions of the jobs' statuses; the job loop asks them (``JobLoop._next_job``), and
the poll's ``order`` lists waiting jobs after the queued jobs they wait for (``start_order``).
A cycle cannot reach here: the recipe's validation refuses it (``recipe.crosscheck``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from .view import JobStatus

_WHY = {JobStatus.FAILED: "failed", JobStatus.CANCELLED: "was cancelled",
        JobStatus.DISABLED: "is disabled"}


@dataclass(frozen=True)
class Readiness:
    """A queued job's dependencies now: ``waiting_for`` the ids still to finish, or
    ``failure``, the sentence the job fails with; neither: it may start."""

    waiting_for: tuple[int, ...] = ()
    failure: str | None = None

    @property
    def ready(self) -> bool:
        return not self.waiting_for and self.failure is None


READY = Readiness()


def readiness(after: Iterable[int], status_of: Callable[[int], JobStatus],
              name_of: Callable[[int], str], *, can_run: Callable[[int], bool] | None = None
              ) -> Readiness:
    """Whether a job with these dependencies may start. The first dependency (in ``after``'s
    order) that failed, was cancelled or is disabled gives the failure. ``can_run``: whether a
    dependency that has not ended may still run (in the run order, or running); one that
    cannot (a state that should not happen) fails the job rather than leave it waiting forever."""
    waiting = []
    for job_id in after:
        status = status_of(job_id)
        if status is JobStatus.FINISHED:
            continue
        why = _WHY.get(status)
        if why is None and can_run is not None and not can_run(job_id):
            why = "did not run"
        if why is not None:
            return Readiness(failure=f"Not rendered: job {job_id} {name_of(job_id)!r} {why}")
        waiting.append(job_id)
    return Readiness(waiting_for=tuple(waiting)) if waiting else READY


def waiting_sentence(waiting_for: Sequence[int], name_of: Callable[[int], str]) -> str:
    """``Waiting for job 0 'Plates'`` (the job's message while it waits)."""
    names = ", ".join(f"{job_id} {name_of(job_id)!r}" for job_id in waiting_for)
    return f"Waiting for job{'s' if len(waiting_for) > 1 else ''} {names}"


@dataclass(frozen=True)
class Pick:
    """What the run order holds now: ``job_id``, the first job that waits for no other (None
    when every job waits); before it, ``failed`` (a job whose dependency failed, with the
    sentence) stops the look, and ``waiting`` the jobs passed over, each with the ids it waits for."""

    job_id: int | None
    failed: tuple[int, str] | None = None
    waiting: tuple[tuple[int, tuple[int, ...]], ...] = ()


def first_startable(order: Iterable[int], check: Callable[[int], Readiness | None]) -> Pick:
    """The first job of ``order`` that may start (``check`` gives None for a job the loop ends
    itself, e.g. one no longer queued: it is picked as it is)."""
    waiting: list[tuple[int, tuple[int, ...]]] = []
    for job_id in order:
        found = check(job_id)
        if found is None or found.ready:
            return Pick(job_id, waiting=tuple(waiting))
        if found.failure is not None:
            return Pick(None, failed=(job_id, found.failure), waiting=tuple(waiting))
        waiting.append((job_id, found.waiting_for))
    return Pick(None, waiting=tuple(waiting))


def start_order(queued: Sequence[int], after_of: Callable[[int], Collection[int]]) -> list[int]:
    """``queued`` (the run order) with each job after the queued jobs it waits for, the rest
    kept in place: the order they can start in, as the poll shows it. A stable topological
    sort, O(n log n); the order itself as it is when no queued job waits for another."""
    if not any(after_of(job_id) for job_id in queued):
        return list(queued)
    position = {job_id: index for index, job_id in enumerate(queued)}
    blockers = {job_id: [other for other in after_of(job_id) if other in position and other != job_id]
                for job_id in queued}
    if not any(blockers.values()):
        return list(queued)
    left = {job_id: len(found) for job_id, found in blockers.items()}
    waiters: dict[int, list[int]] = {}
    for job_id, found in blockers.items():
        for other in found:
            waiters.setdefault(other, []).append(job_id)
    heap = [position[job_id] for job_id in queued if not left[job_id]]
    heapq.heapify(heap)
    result = []
    while heap:
        job_id = queued[heapq.heappop(heap)]
        result.append(job_id)
        for waiter in waiters.get(job_id, ()):
            left[waiter] -= 1
            if not left[waiter]:
                heapq.heappush(heap, position[waiter])
    if len(result) < len(queued):   # a cycle (validation refuses them): in their places, last
        result.extend(job_id for job_id in queued if left[job_id])
    return result
