"""The queue behind the service's current batch: who runs it, and when the next batch starts.

``BatchService`` composes one ``QueueRunner`` (docs/engine-api.md, The queue). The next queued
batch becomes current and starts by itself when the current batch ends (FINISHED or
CANCELLED; a paused batch has not ended), unless the queue is held or the service stops. That
start is driven by the batch's own end: the runner hands every batch the service makes an
observer of its own (last, so the feed, notices and power action have heard the end first),
whose ``BatchEnded`` takes the next entry under the service's lock. A ``DELETE /queue/{id}``
takes the same lock, so it finds the entry queued (and drops it) or started (and is refused),
never half way.

One live process runs a queue (the ``QUEUE`` claim); taking it over from a dead or stopped one
puts back what a kill left half handed over (``BatchQueue.recover``) and holds a non-empty queue
unless the service was made with ``continue_queue``. An interrupted batch that came from the
queue is resumed before the next queued one starts: no queued batch is dropped.

Observers get ``queue_empty`` in their context (a power-off waits until the queue is empty) and
``QueueEnded`` when a batch from the queue ends with nothing left queued.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from . import ownership
from .observers import BatchEnded, BatchEvent, ObserverContext, ObserverFactory, QueueEnded
from .queue import BatchQueue, NotQueued, QueueEntry, QueueView
from .queue_estimate import QueueEstimator, current_left
from .recipe import Recipe
from .secrets import batch_name, redacted_keys, secrets_of
from .service_errors import (
    QueuedStartedError,
    QueueOwnedError,
    QueueStoreError,
    ServiceError,
    UnknownQueuedError,
)
from .store import BatchStore, StoreError
from .store.claims import ClaimRefused

if TYPE_CHECKING:
    from .runner import Batch
    from .service import BatchService
    from .view import BatchView

log = logging.getLogger("renderplus.batch")


class QueueRunner:
    """The service's queue of batches (see the module docstring)."""

    def __init__(self, service: BatchService, continue_queue: bool = False) -> None:
        self.service = service
        self.queue = BatchQueue(service.store)
        self.continue_queue = continue_queue
        self.stopping = False
        self._owned = False
        self._current: tuple[Batch, int] | None = None   # the current batch, if from the queue
        self.estimator = QueueEstimator(service.store, self.queue.recipe_of)

    # ---------------------------------------------------------------- composing batches

    def observers(self, factories: Sequence[ObserverFactory]) -> tuple[ObserverFactory, ...]:
        """``factories`` told whether the queue is empty, and the runner's own observer last."""
        def with_queue(factory: ObserverFactory) -> ObserverFactory:
            return lambda context: factory(dataclasses.replace(context, queue_empty=self.empty))
        return (*(with_queue(factory) for factory in factories), self._observer)

    def _observer(self, context: ObserverContext) -> _EndObserver:
        return _EndObserver(self, context.recipe)

    def empty(self) -> bool:
        """Nothing queued (a store that cannot be read counts as empty: the batch's own power
        setting applies, as without a queue)."""
        try:
            return self.queue.empty()
        except StoreError as exc:
            log.error("cannot read the queue: %s", exc)
            return True

    def keep_secrets(self, batch: Batch) -> Batch:
        """Keep a new batch's secrets beside the store from its first record until it ends, so
        that a paused or interrupted batch continues with them (``restore_secrets``)."""
        files, recipe = self.queue.secrets, batch.recipe
        if files is None or not secrets_of(recipe):
            return batch

        def keep(store: BatchStore, batch_id: int) -> None:   # in the record's transaction
            problem = files.keep(batch_name(batch_id), recipe)
            if problem:
                log.error("%s", problem)
        batch.changes.store.on_create = keep
        return batch

    def restore_secrets(self, stored_id: int, recipe: Recipe) -> str | None:
        """Put a stored batch's secrets back into its recipe (read back redacted) before it is
        resumed: its own file, else that of the queued batch it came from. The sentence when
        they were lost, else None."""
        files = self.queue.secrets
        if files is None or not redacted_keys(recipe):
            return None
        name = batch_name(stored_id)
        if not files.path(name).exists():
            try:
                queue_id = self.queue.started_as(stored_id)
            except StoreError:
                queue_id = None
            if queue_id is not None:
                return self.queue.restore_secrets(queue_id, recipe)
        return files.restore(name, recipe)

    # ---------------------------------------------------------------- the service's calls

    def start(self) -> None:
        """At the service's start: take a non-empty queue over; go on when asked to."""
        try:
            if self.queue.empty():
                return
            with self.service._lock:
                self._own()
                self._go_on()
        except (QueueOwnedError, StoreError) as exc:
            log.warning("not running the queue: %s", exc)

    def enqueue(self, recipe: Recipe) -> QueueEntry:
        with self._owning():
            entry = self.queue.add(recipe)
            self._go_on()
            return entry

    def view(self) -> QueueView:
        try:
            return self._estimated(self.queue.view())
        except StoreError as exc:
            raise QueueStoreError(exc) from exc

    def move(self, queue_id: int, position: int) -> QueueView:
        with self._owning():
            try:
                return self._estimated(self.queue.move(queue_id, position))
            except NotQueued as exc:
                raise UnknownQueuedError(queue_id, exc.started) from None

    def drop(self, queue_id: int) -> None:
        with self._owning():
            try:
                self.queue.drop(queue_id)
            except NotQueued as exc:
                if exc.started:
                    raise QueuedStartedError(queue_id) from None
                raise UnknownQueuedError(queue_id) from None

    def hold(self) -> QueueView:
        with self._owning():
            return self._estimated(self.queue.hold(True))

    def go_on(self) -> QueueView:
        """Release the queue; the next batch starts now when nothing runs."""
        with self._owning():
            self.queue.hold(False)
            self._go_on()
            return self._estimated(self.queue.view())

    def _estimated(self, view: QueueView) -> QueueView:
        """The view with each queued batch's estimated start and end (``queue_estimate``)."""
        now = time.time()
        batch = self.service.batch
        shown = batch.view() if batch is not None else None
        return self.estimator.estimated(view, now, current_left(shown, now))

    @contextmanager
    def _owning(self) -> Iterator[None]:
        """Under the service's lock, as the queue's owner; a store that fails is a
        ``QueueStoreError`` (a sentence), not a crash of the request."""
        with self.service._lock:
            try:
                self._own()
                yield
            except StoreError as exc:
                raise QueueStoreError(exc) from exc

    def stop(self) -> None:
        """The service stops (``shutdown``): no queued batch starts from now on."""
        self.stopping = True

    def stopped(self) -> None:
        """The service has stopped its batch: what is queued stays, held (nothing starts by
        surprise, here or in a later Render+), and the queue is free for another to take. The
        service may be used again (the add-on keeps its own when its server stops)."""
        store = self.service.store
        with self.service._lock:
            try:
                if self._owned and not self.queue.empty():
                    self.queue.hold(True)
                if self._owned and store is not None:
                    ownership.release(store, ownership.QUEUE, self.service.claimant)
            except StoreError as exc:
                log.error("cannot hold and release the queue: %s", exc)
            self._owned = False
            self.stopping = False

    # ---------------------------------------------------------------- the hand-over

    def batch_ended(self, recipe: Recipe, view: BatchView) -> None:
        """A batch's end (its own thread, after the other observers heard it): start the next
        queued batch, or say the queue has ended."""
        service = self.service
        with service._lock:
            batch = service.batch
            if batch is None or batch.recipe is not recipe or not batch.status.ended:
                return   # not the current batch (any more)
            if self.queue.secrets is not None and batch.store_id is not None:
                self.queue.secrets.remove(batch_name(batch.store_id))
            came = self._queue_id_of(batch)
            if came is not None:
                self.queue.forget(came)
                self._current = None
            if self.stopping:
                return
            try:
                started = self._go_on()
            except (ServiceError, StoreError) as exc:
                log.warning("the next queued batch does not start: %s", exc)
                return
            ended = came is not None and started is None and self.empty()
        if ended:
            batch.changes.observers.notify(QueueEnded(view))

    def _go_on(self) -> Batch | None:
        """Start the next batch when nothing runs and the queue is not held (lock held)."""
        service = self.service
        if self.stopping or not self._owned or self.queue.held or _busy(service.batch):
            return None
        current = service.batch
        queue_id = self._interrupted_from_queue(current)
        if current is not None and queue_id is not None:
            resumed = service.resume()    # the queue's interrupted batch goes first (RLock)
            self._current = (resumed, queue_id)
            return resumed
        handed = self.queue.take_next()
        if handed is None:
            return None
        batch = service._new_batch(handed.recipe)
        batch.changes.store.on_create = self.queue.link(handed.entry.id)
        for note in handed.notes:
            batch.report(note)
        if current is not None and current.poweroff_pending:
            current.cancel()    # the power-off after the last batch waits for this one
        service._batch, service._recipe = batch, handed.recipe
        self._current = (batch, handed.entry.id)
        batch.start()
        return batch

    def _queue_id_of(self, batch: Batch) -> int | None:
        """The queue id ``batch`` came from (started here, or resumed), or None."""
        if self._current is not None and self._current[0] is batch:
            return self._current[1]
        stored = batch.store_id if batch.store_id is not None else batch.resumed_id
        try:
            return self.queue.started_as(stored) if stored is not None else None
        except StoreError:
            return None

    def _interrupted_from_queue(self, batch: Batch | None) -> int | None:
        if batch is None or batch.resumed_id is None or not batch.view().resumable:
            return None
        return self.queue.started_as(batch.resumed_id)

    def _own(self) -> None:
        """Own the queue (lock held); taking it over recovers a killed owner's hand-over and
        holds what is queued unless ``continue_queue``. Raises ``QueueOwnedError``."""
        store = self.service.store
        if store is None:
            self._owned = True
            return
        try:
            ownership.take(store, ownership.QUEUE, self.service.claimant)
        except ClaimRefused as exc:
            self._owned = False
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(exc.claim.since))
            raise QueueOwnedError(ClaimRefused(exc.claim, (
                f"The queue is run by {ownership.who(exc.claim)} since {since}; queue batches "
                f"there, or stop that Render+ first"))) from None
        if self._owned:
            return
        self._owned = True
        back = self.queue.recover()
        if back:
            log.warning("queued batch(es) %s were being started when Render+ stopped: back in "
                        "the queue", back)
        if not self.queue.empty():
            self.queue.hold(not self.continue_queue)


def _busy(batch: Batch | None) -> bool:
    """Running or paused: the next batch waits."""
    return batch is not None and (batch.running or batch.status.value == "PAUSED")


class _EndObserver:
    """The runner's observer on each batch: its end starts the next queued batch."""

    after_batch = None

    def __init__(self, runner: QueueRunner, recipe: Recipe) -> None:
        self.runner = runner
        self.recipe = recipe

    def notify(self, event: BatchEvent) -> None:
        if isinstance(event, BatchEnded):
            self.runner.batch_ended(self.recipe, event.view)
