"""A batch's store writes that could not be made yet (a full or read-only disk), kept in order.

Bounded: the fields of the batch and of each job are merged (only their latest values are
written: a status set twice is one write), so they grow with the batch's jobs, not with its
changes; frame records and the forgetting of frames are kept in order, at most ``MAX_PENDING``
of them. ``replay`` writes them all in one transaction: the store gets every waiting change or
none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from .database import BatchStore

MAX_PENDING: Final = 20_000   # frame records (and forgets) kept while the store cannot be written

FrameWrite = Callable[[BatchStore, int], None]   # (store, batch id)
CreateBatch = Callable[[BatchStore], int]        # the batch id


class PendingWrites:
    """Changes waiting for the store to be writable again (see the module docstring)."""

    def __init__(self) -> None:
        self.create: CreateBatch | None = None
        self.batch_fields: dict[str, Any] = {}
        self.job_fields: dict[int, dict[str, Any]] = {}
        self.frames: list[FrameWrite] = []

    def __bool__(self) -> bool:
        return bool(self.create or self.batch_fields or self.job_fields or self.frames)

    def __len__(self) -> int:
        return (int(self.create is not None) + int(bool(self.batch_fields)) + len(self.job_fields)
                + len(self.frames))

    @property
    def full(self) -> bool:
        return len(self.frames) >= MAX_PENDING

    def add_batch_fields(self, fields: dict[str, Any]) -> None:
        self.batch_fields.update(fields)

    def add_job_fields(self, job_id: int, fields: dict[str, Any]) -> None:
        self.job_fields.setdefault(job_id, {}).update(fields)

    def add_frames(self, write: FrameWrite) -> None:
        self.frames.append(write)

    def replay(self, store: BatchStore, batch_id: int | None) -> int | None:
        """Write every waiting change in one transaction; the batch id (made by a waiting
        create). Raises StoreError, leaving everything waiting, when the store still fails."""
        with store.transaction():
            if self.create is not None:
                batch_id = self.create(store)
            if batch_id is not None:
                for write in self.frames:
                    write(store, batch_id)
                for job_id, fields in self.job_fields.items():
                    store.update_job(batch_id, job_id, **fields)
                if self.batch_fields:
                    store.update_batch(batch_id, **self.batch_fields)
        self.create, self.batch_fields, self.job_fields, self.frames = None, {}, {}, []
        return batch_id
