"""The order in which a batch's jobs start, as data: a list of job ids.

The job loop takes the next job from the front of a ``RunOrder``. It starts as the recipe's
order (its enabled, still queued jobs); edits (``edits``) move, add and take out jobs while the
batch is loaded, running or paused, which is why the order is its own object, safe to change
from any thread, rather than a loop over the recipe. It is stored with the batch, so a restart
keeps it. ``run_order`` spells every job of a view in run order (the poll's ``order``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence

from .view import JobStatus, JobView


class RunOrder:
    """Job ids still to start, first to start first; every method is safe from any thread."""

    def __init__(self, job_ids: Iterable[int] = ()) -> None:
        self._lock = threading.Lock()
        self._ids: list[int] = list(job_ids)

    def __len__(self) -> int:
        with self._lock:
            return len(self._ids)

    def __iter__(self) -> Iterator[int]:
        with self._lock:
            return iter(list(self._ids))

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._ids

    def peek(self) -> int | None:
        """The job that starts next, or None when none is left."""
        with self._lock:
            return self._ids[0] if self._ids else None

    def pop(self) -> int | None:
        """Take the job that starts next off the order (None when none is left)."""
        with self._lock:
            return self._ids.pop(0) if self._ids else None

    def take_all(self) -> list[int]:
        """Every job still to start, in order; the order is empty afterwards."""
        with self._lock:
            taken, self._ids = self._ids, []
            return taken

    def add(self, job_id: int, index: int | None = None) -> None:
        """Put a job in the order at ``index`` (default: last); a job is in it at most once."""
        with self._lock:
            if job_id in self._ids:
                self._ids.remove(job_id)
            self._ids.insert(len(self._ids) if index is None else index, job_id)

    def move(self, job_id: int, position: int) -> bool:
        """Move a job to ``position`` (0 = next; past the end = last); False when it is not in
        the order."""
        if position < 0:
            raise ValueError(f"position must be 0 or more (got {position})")
        with self._lock:
            if job_id not in self._ids:
                return False
            self._ids.remove(job_id)
            self._ids.insert(min(position, len(self._ids)), job_id)
            return True

    def remove(self, job_id: int) -> bool:
        """Take a job out of the order; False when it was not in it."""
        with self._lock:
            if job_id not in self._ids:
                return False
            self._ids.remove(job_id)
            return True

    def replace(self, job_ids: Iterable[int]) -> None:
        """The order becomes ``job_ids`` (a restored batch's stored order)."""
        with self._lock:
            self._ids = list(dict.fromkeys(job_ids))

    def refill(self, queued: Iterable[int]) -> list[int]:
        """Make the order hold exactly the ``queued`` jobs: those already in it keep their
        places, the others (jobs queued again by a resume: they started before any job still
        waiting) go first, in id order. Returns the new order."""
        wanted = set(queued)
        with self._lock:
            kept = [job_id for job_id in self._ids if job_id in wanted]
            again = sorted(wanted.difference(kept))
            self._ids = again + kept
            return list(self._ids)


def run_order(jobs: Sequence[JobView], queued: Sequence[int]) -> tuple[int, ...]:
    """Every job id in run order (docs/engine-api.md, Poll extras): the ended jobs in the order
    they started, then the running ones (and a queued one already handed to its executor or
    about to start), then ``queued`` (the jobs still to start, in the order they will), then the
    disabled ones by id."""
    waiting = set(queued)

    def started(job: JobView) -> tuple[float, int]:
        moment = job.times.started if job.times.started is not None else job.times.finished
        return (moment if moment is not None else float("inf"), job.id)

    ended = sorted((job for job in jobs if job.status.ended), key=started)
    running = sorted((job for job in jobs if job.status is JobStatus.RUNNING
                      or (job.status is JobStatus.QUEUED and job.id not in waiting)), key=started)
    disabled = [job.id for job in jobs if job.status is JobStatus.DISABLED]
    known = {job.id for job in jobs if job.status is JobStatus.QUEUED}
    return (*(job.id for job in ended), *(job.id for job in running),
            *(job_id for job_id in queued if job_id in known), *disabled)
