"""What the batch slot (``service``) reads from the store to resume or continue a batch, and
how it claims it: each a function of the store, so the slot keeps only the decisions.

A resume is about the interrupted batch (shown or found in the store), else the last batch
(which may run in another Render+: the claim decides); a PAUSED batch a dead Render+ left is
continued in place once claimed (docs/api.md, Pause).
"""

from __future__ import annotations

import dataclasses

from . import ownership
from .resume import resumable
from .runner import Batch
from .service_errors import (
    BatchOwnedError,
    BatchRunningError,
    NothingToResumeError,
    NotRunningError,
    OutsideWindowError,
    PauseError,
    ServiceError,
)
from .store import BatchStore, StoredBatch, StoreError
from .store.claims import Claimant, ClaimRefused
from .view import BatchStatus


def to_resume(store: BatchStore, shown: Batch | None) -> StoredBatch:
    """The stored batch a resume is about (NothingToResumeError when there is none)."""
    try:
        if shown is not None and shown.view().resumable and shown.resumed_id is not None:
            return store.load(shown.resumed_id)
        interrupted = store.interrupted()
        if interrupted:
            return max(interrupted, key=lambda item: item.created)
        last = store.load(shown.store_id) if shown is not None and shown.store_id is not None \
            else store.latest()
    except StoreError as exc:
        raise NothingToResumeError(f"Cannot read the batch store: {exc}") from exc
    if last is None or not resumable(last, store):
        raise NothingToResumeError()
    return last


def still_resumable(store: BatchStore, stored_id: int) -> StoredBatch:
    """The stored batch read again once claimed (another process may have finished it between
    our look and our claim), as it stood before the claim (RUNNING under nobody)."""
    try:
        fresh = store.load(stored_id)
    except StoreError as exc:
        raise NothingToResumeError(f"Cannot read the batch store: {exc}") from exc
    if not resumable(fresh, store):
        raise NothingToResumeError()
    return dataclasses.replace(fresh, claim=None, owner=None)


def same_as_shown(shown: Batch | None, fresh: StoredBatch) -> bool:
    """Whether the interrupted batch shown here is ``fresh`` unchanged (then it is started
    itself and keeps its messages)."""
    restored = shown.lifecycle.restored if shown is not None else None
    return shown is not None and restored is not None and shown.view().resumable \
        and dataclasses.replace(restored.stored, claim=None, owner=None) == fresh


def claim(store: BatchStore, stored_id: int, claimant: Claimant, name: str) -> None:
    """Own the stored batch: BatchOwnedError while another live Render+ does."""
    try:
        ownership.take(store, ownership.batch_subject(stored_id), claimant, name)
    except ClaimRefused as exc:
        raise BatchOwnedError(exc) from exc
    except StoreError as exc:
        raise NothingToResumeError(f"Cannot write the batch store: {exc}") from exc


def left_paused(store: BatchStore) -> StoredBatch | None:
    """The store's last batch when a dead Render+ left it PAUSED (shown PAUSED)."""
    try:
        latest = store.latest()
    except StoreError:
        return None
    return latest if latest is not None and latest.status is BatchStatus.PAUSED \
        and not latest.owned else None


def left_waiting(store: BatchStore) -> StoredBatch | None:
    """The store's last batch when a dead Render+ left it WAITING for its start time (it
    waits again, and starts by itself)."""
    try:
        latest = store.latest()
    except StoreError:
        return None
    return latest if latest is not None and latest.status is BatchStatus.WAITING \
        and latest.start_at is not None and not latest.owned else None


def busy(batch: Batch | None) -> BatchRunningError:
    """Why no other batch starts now: the current one is paused, waits or runs."""
    paused = batch is not None and batch.status is BatchStatus.PAUSED
    at = batch.state.starts_at if batch is not None and batch.state.waiting else None
    return BatchRunningError(paused, batch.lifecycle.schedule.say(at)
                             if batch is not None and at is not None else None)


def outside_window(batch: Batch) -> OutsideWindowError | None:
    """A paused batch asked to continue outside its window: the refusal that says when it
    continues by itself (it is left to its window); None when it may continue now."""
    opens = batch.lifecycle.hold_for_window()
    if opens is None:
        return None
    schedule = batch.lifecycle.schedule
    return OutsideWindowError(f"The batch is outside its window {schedule.window}: it "
                              f"continues by itself at {schedule.say(opens)}")


def pause_refused(batch: Batch | None) -> ServiceError:
    """Why ``batch.pause`` said no: paused, pausing already, or nothing runs."""
    if batch is not None and batch.status is BatchStatus.PAUSED:
        return PauseError("The batch is already paused")
    if batch is not None and batch.state.starts_at is not None and batch.state.waiting:
        return PauseError(f"The batch waits to start at "
                          f"{batch.lifecycle.schedule.say(batch.state.starts_at)}: nothing "
                          "renders yet (DELETE /batch cancels it)")
    if batch is not None and batch.running and batch.pausing:
        return PauseError(f"The batch is already pausing ({batch.pausing})")
    return NotRunningError()
