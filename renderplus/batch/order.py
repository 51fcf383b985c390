"""The order in which a batch's jobs start, as data: a list of job ids.

The job loop takes the next job from the front of a ``RunOrder``. It starts as the recipe's
order (its enabled, still queued jobs); edits (``edits``) move, add and take out jobs while the
batch is loaded, running or paused, which is why the order is its own object, safe to change
from any thread, rather than a loop over the recipe. It is stored with the batch, so a restart
keeps it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator


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
