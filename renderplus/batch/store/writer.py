"""One batch's changes, written to the durable store before pollers see them.

The batch calls its ``StoreWriter`` at every change; a batch never stops because the store could
not be written. A store that fails (a full or read-only disk, locked, removed) is said once in
the batch's messages; its changes then wait in memory (``pending``: bounded, merged) and are
written again, all together, at the next change after ``retry_every`` seconds and by a
background retry every ``retry_every`` seconds, so that a disk freed during the batch still
gets the batch's end and a resume keeps every frame. Only when more changes wait than the
buffer holds is the store given up for this batch (said, too).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Final

from ..outputs import Stamp, stamp
from ..recipe import Job, Recipe
from ..view import JobStatus
from .claims import Claimant
from .database import BatchStore
from .errors import StoreError
from .pending import MAX_PENDING, PendingWrites
from .records import NewJob, Owner

log = logging.getLogger("renderplus.batch")

RETRY_EVERY: Final = 5.0   # seconds between two tries of a store that could not be written


class StoreWriter:
    """Writes one batch's changes to ``store`` (None: writes nothing); any thread."""

    def __init__(self, store: BatchStore | None, report: Callable[[str], None],
                 retry_every: float = RETRY_EVERY) -> None:
        self.store = store
        self.batch_id: int | None = None
        self.claimant: Claimant | None = None   # None: ownership.this_process()
        # run inside the transaction that records a new batch (the queue links its entry)
        self.on_create: Callable[[BatchStore, int], None] | None = None
        self.retry_every = retry_every
        self._report = report
        self._lock = threading.RLock()
        self.pending = PendingWrites()
        self._last_try = 0.0
        self._retrier: threading.Thread | None = None

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
                if self.on_create is not None:
                    self.on_create(store, batch_id)
                return batch_id

        notes: list[str] = []
        with self._lock:
            try:
                self.batch_id = create(self.store)
            except StoreError as exc:
                self.pending.create = create
                notes.append(self._failed(exc))
        self._say(notes)

    def attach(self, batch_id: int, name: str = "") -> None:
        """Go on recording an existing batch (a resume), owned by this process now. Raises
        ``ClaimRefused`` (writing nothing) while another live process owns it."""
        from .. import ownership  # the engine's owner rules sit above the store
        store = self.store
        if store is not None:
            try:
                ownership.take(store, ownership.batch_subject(batch_id), self.owner(), name)
            except StoreError as exc:
                notes: list[str] = []
                with self._lock:
                    notes.append(self._failed(exc))
                self._say(notes)
        self.batch_id = batch_id
        self.batch(owner=Owner.current())

    def end(self, **fields: Any) -> None:
        """Write the batch's last fields and give up its claim, in one transaction (kept for a
        later write, like any change, while the store cannot be written)."""
        owner = self.owner()

        def release(store: BatchStore, batch_id: int) -> None:
            store.release_claim(f"batch:{batch_id}", owner)

        def end(store: BatchStore, batch_id: int) -> None:
            with store.transaction():
                store.update_batch(batch_id, owner=None, **fields)
                release(store, batch_id)

        def keep() -> None:
            self.pending.add_batch_fields({"owner": None, **fields})
            self.pending.add_frames(release)
        self._do(end, keep)

    def owner(self) -> Claimant:
        """Who owns what this writer records: ``claimant``, else this process's claimant."""
        from .. import ownership
        return self.claimant or ownership.this_process()

    def batch(self, **fields: Any) -> None:
        self._do(lambda s, b: s.update_batch(b, **fields),
                 lambda: self.pending.add_batch_fields(fields))

    def job(self, job_id: int, **fields: Any) -> None:
        self._do(lambda s, b: s.update_job(b, job_id, **fields),
                 lambda: self.pending.add_job_fields(job_id, fields))

    def add_jobs(self, recipe: Recipe, jobs: Iterable[Job], statuses: Iterable[JobStatus],
                 run_order: list[int], recipe_json: str | None = None) -> None:
        """Record jobs added to the batch (its recipe with them, their rows, the run order) in
        one transaction; nothing before the batch has a record (its creation records them).
        ``recipe_json``: the recipe's redacted text, when the caller keeps it encoded."""
        rows = [NewJob(job.id, job.display_name, recipe.resolve(job.source_file), status)
                for job, status in zip(jobs, statuses, strict=True)]
        if recipe_json is None:
            recipe_json = recipe.to_json(redact=True)

        def write(store: BatchStore, batch_id: int) -> None:
            with store.transaction():
                store.add_jobs(batch_id, rows, recipe_json)
                store.update_batch(batch_id, run_order=run_order)
        self._do(write, lambda: self.pending.add_frames(write))

    def frame(self, job_id: int, frame: int, paths: Iterable[str]) -> list[Stamp]:
        """Verify a written frame's files and record those that are whole; their stamps."""
        stamps = [s for s in (stamp(p) for p in paths) if s is not None]
        if stamps:
            def write(store: BatchStore, batch_id: int) -> None:
                with store.transaction():
                    for item in stamps:
                        store.add_frame(batch_id, job_id, frame, item.path, item.size,
                                        item.mtime_ns, item.inode)
            self._do(write, lambda: self.pending.add_frames(write))
        return stamps

    def forget(self, job_id: int, frames: Iterable[int] | None = None) -> None:
        chosen = None if frames is None else list(frames)

        def write(store: BatchStore, batch_id: int) -> None:
            store.forget_frames(batch_id, job_id, chosen)
        self._do(write, lambda: self.pending.add_frames(write))

    def flush(self) -> bool:
        """Try to write the waiting changes now; True when none wait (any thread)."""
        notes: list[str] = []
        with self._lock:
            if self.store is not None and self.pending:
                self._retry(notes)
            done = not self.pending or self.store is None
        self._say(notes)
        return done

    # ---------------------------------------------------------------- plumbing

    def _do(self, action: Callable[[BatchStore, int], Any], keep: Callable[[], None]) -> None:
        """Write now, or keep the change for later when the store cannot be written."""
        notes: list[str] = []
        with self._lock:
            if self.store is None or (self.batch_id is None and self.pending.create is None):
                return
            if self._store_failing():
                keep()
                if time.monotonic() - self._last_try >= self.retry_every:
                    self._retry(notes)
                self._check_bound(notes)
            else:
                try:
                    assert self.batch_id is not None
                    action(self.store, self.batch_id)
                except StoreError as exc:
                    keep()
                    notes.append(self._failed(exc))
        self._say(notes)

    def _store_failing(self) -> bool:
        return bool(self.pending)

    def _failed(self, exc: StoreError) -> str:
        """The store could not be written: keep changes and retry in the background (lock held)."""
        self._last_try = time.monotonic()
        log.error("store failed: %s", exc)
        if self._retrier is None:
            self._retrier = threading.Thread(target=self._retry_loop, name="renderplus-store-retry",
                                             daemon=True)
            self._retrier.start()
        return (f"The batch store cannot be written: {exc} Render+ keeps the batch's changes in "
                f"memory and tries again every {self.retry_every:g} s")

    def _retry(self, notes: list[str]) -> None:
        """Write every waiting change at once (lock held); say so when it worked."""
        store = self.store
        if store is None:
            return
        self._last_try = time.monotonic()
        count = len(self.pending)
        try:
            self.batch_id = self.pending.replay(store, self.batch_id)
        except StoreError as exc:
            log.debug("store still failing: %s", exc)
            return
        notes.append(f"The batch store can be written again: the {count} waiting change(s) "
                     "are saved")

    def _check_bound(self, notes: list[str]) -> None:
        """Too many changes wait: give the store up for this batch (lock held)."""
        if not self.pending.full:
            return
        self.store = None
        self.pending = PendingWrites()
        notes.append(f"The batch store stopped: more than {MAX_PENDING} changes could not be "
                     "written; the batch goes on without it (it cannot be resumed after a crash)")

    def _retry_loop(self) -> None:
        """Try the store again every ``retry_every`` seconds while changes wait."""
        while True:
            time.sleep(self.retry_every)
            notes: list[str] = []
            with self._lock:
                if self.store is not None and self.pending:
                    self._retry(notes)
                stop = self.store is None or not self.pending
                if stop:
                    self._retrier = None
            self._say(notes)
            if stop:
                return

    def _say(self, notes: list[str]) -> None:
        """Report outside the lock: a report is itself a change that comes back here."""
        for note in notes:
            self._report(note)
