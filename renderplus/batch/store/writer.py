"""One batch's changes, written to the durable store before pollers see them.

The batch calls its ``StoreWriter`` at every change; a store that fails (full disk, locked,
removed) is reported once in the batch's messages and then left alone: a batch never stops
because the store could not be written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from ..outputs import Stamp, stamp
from ..recipe import Recipe
from ..view import JobStatus
from .claims import Claimant
from .database import BatchStore
from .errors import StoreError
from .records import NewJob, Owner

log = logging.getLogger("renderplus.batch")


class StoreWriter:
    """Writes one batch's changes to ``store`` (None: writes nothing)."""

    def __init__(self, store: BatchStore | None, report: Callable[[str], None]) -> None:
        self.store = store
        self.batch_id: int | None = None
        self.claimant: Claimant | None = None   # None: ownership.this_process()
        self._report = report

    def create(self, recipe: Recipe, statuses: Iterable[JobStatus]) -> None:
        """Record a new batch, owned by ``claimant`` from its first commit."""
        if self.store is None:
            return
        jobs = [NewJob(job.id, job.display_name, recipe.resolve(job.source_file), status)
                for job, status in zip(recipe.jobs, statuses, strict=True)]

        def create(store: BatchStore) -> int:
            with store.transaction():
                batch_id = store.create_batch(recipe.name, recipe.to_json(redact=True),
                                              recipe.base_dir or "", Owner.current(), jobs=jobs)
                store.take_claim(f"batch:{batch_id}", self.owner())
                return batch_id
        self.batch_id = self._do(create)

    def attach(self, batch_id: int, name: str = "") -> None:
        """Go on recording an existing batch (a resume), owned by this process now. Raises
        ``ClaimRefused`` (writing nothing) while another live process owns it."""
        from .. import ownership  # the engine's owner rules sit above the store
        store = self.store
        if store is not None:
            try:
                ownership.take(store, ownership.batch_subject(batch_id), self.owner(), name)
            except StoreError as exc:
                self._failed(exc)
        self.batch_id = batch_id
        self.batch(owner=Owner.current())

    def end(self, **fields: Any) -> None:
        """Write the batch's last fields and give up its claim, in one transaction."""
        batch_id = self.batch_id
        if batch_id is None:
            return

        def end(store: BatchStore) -> None:
            with store.transaction():
                store.update_batch(batch_id, owner=None, **fields)
                store.release_claim(f"batch:{batch_id}", self.owner())
        self._do(end)

    def owner(self) -> Claimant:
        """Who owns what this writer records: ``claimant``, else this process's claimant."""
        from .. import ownership
        return self.claimant or ownership.this_process()

    def batch(self, **fields: Any) -> None:
        batch_id = self.batch_id
        if batch_id is not None:
            self._do(lambda s: s.update_batch(batch_id, **fields))

    def job(self, job_id: int, **fields: Any) -> None:
        batch_id = self.batch_id
        if batch_id is not None:
            self._do(lambda s: s.update_job(batch_id, job_id, **fields))

    def frame(self, job_id: int, frame: int, paths: Iterable[str]) -> list[Stamp]:
        """Verify a written frame's files and record those that are whole; their stamps."""
        stamps = [s for s in (stamp(p) for p in paths) if s is not None]
        batch_id = self.batch_id
        if batch_id is not None and stamps:
            def write(store: BatchStore) -> None:
                with store.transaction():
                    for item in stamps:
                        store.add_frame(batch_id, job_id, frame, item.path, item.size,
                                        item.mtime_ns, item.inode)
            self._do(write)
        return stamps

    def forget(self, job_id: int, frames: Iterable[int] | None = None) -> None:
        batch_id = self.batch_id
        if batch_id is not None:
            self._do(lambda s: s.forget_frames(batch_id, job_id, frames))

    def _do(self, action: Callable[[BatchStore], Any]) -> Any:
        store = self.store
        if store is None:
            return None
        try:
            return action(store)
        except StoreError as exc:
            self._failed(exc)
            return None

    def _failed(self, exc: StoreError) -> None:
        self.store = None
        log.error("store failed: %s", exc)
        self._report(f"The batch store stopped: {exc}; the batch goes on without it "
                     "(it cannot be resumed after a crash)")
