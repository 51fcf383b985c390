"""The observer port: what a batch tells the world around it, without knowing who listens.

The engine knows no feed, mail, notice or power action (``renderplus.around`` has them); the
places that compose a batch (the CLI, the add-on) hand it observer factories, and the batch
makes its observers when it starts running (``ObserverContext``) and sends them events.

Events, and which a batch emits today:

- ``JobChanged`` (emitted): after every change of a job's status, and when the batch starts
  and ends (``job_id`` None then). Carries the batch's frozen view.
- ``JobFailed`` (emitted): a job ended FAILED, with the reason it failed (the job's message);
  sent right after that change's ``JobChanged``. For webhooks.
- ``BatchEnded`` (emitted): once, after the POST_BATCH hooks, with the final view.
- ``BatchPaused`` (emitted by the pause): the batch paused; no Blender runs.
- ``QueueEnded`` (emitted by the service's queue, ``queue_runner``): a batch that came from the
  queue ended and nothing is left queued; after that batch's ``BatchEnded``, with its view.

An observer's context says whether anything is queued behind its batch (``queue_empty``): a
power action waits until the queue is empty, so the last batch's power setting decides.

An observer may also hold something to do after the batch that can still be called off (a
power action announced with a grace period): its ``after_batch``. ``Batch.cancel()`` calls a
pending one off, ``Batch.wait_poweroff()`` waits for it and the view's ``poweroff`` shows it.

Observers never fail or stall a batch: each call is guarded (``Observers``), a failure is
logged and said once in the batch's messages, and the next observer still hears the event.
Observers should return quickly (the job loop waits for ``JobChanged``); ``BatchEnded`` may
block while notices go out (a CLI exits after its mail left).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from .recipe import Recipe
from .view import BatchView, PowerOffState

log = logging.getLogger("renderplus.batch")

T = TypeVar("T")


@dataclass(frozen=True)
class JobChanged:
    """A job's status moved (``job_id``), or the batch started or ended (``job_id`` None)."""

    view: BatchView
    job_id: int | None = None


@dataclass(frozen=True)
class JobFailed:
    """A job ended FAILED; ``reason`` is the sentence it failed with ("" when none was given)."""

    view: BatchView
    job_id: int
    reason: str


@dataclass(frozen=True)
class BatchEnded:
    """The batch ended (FINISHED or CANCELLED) and its POST_BATCH hooks ran."""

    view: BatchView


@dataclass(frozen=True)
class BatchPaused:
    """The batch was paused: no Blender runs until it continues."""

    view: BatchView


@dataclass(frozen=True)
class QueueEnded:
    """The queue has run every batch it held (``view``: the last batch's, after its end)."""

    view: BatchView


BatchEvent = JobChanged | JobFailed | BatchEnded | BatchPaused | QueueEnded


class AfterBatchAction(Protocol):
    """Something an observer does after the batch that can still be called off."""

    @property
    def state(self) -> PowerOffState | None:
        """What is pending and when (shown in the view's ``poweroff``), or None."""

    def cancel(self) -> bool:
        """Call it off; False when nothing was pending."""

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it ran or was called off; False on timeout."""


class BatchObserver(Protocol):
    """Hears a batch's events (see the module docstring)."""

    def notify(self, event: BatchEvent) -> None:
        """Called from the batch's thread, and from a request thread when a client cancels a
        job that has not started (sometimes under the batch's lock): return quickly, take no
        lock that a batch call may wait for, and never call back into the batch."""

    @property
    def after_batch(self) -> AfterBatchAction | None:
        """A cancellable action after the batch (a power-off), or None."""


@dataclass(frozen=True)
class ObserverContext:
    """What an observer is given when its batch starts running."""

    recipe: Recipe
    report: Callable[[str], None]   # a sentence for the batch's messages (and its log)
    changed: Callable[[], None]     # the observer's own state moved (a pending after-batch action)
    queue_empty: Callable[[], bool] = lambda: True   # nothing queued behind this batch (now)


ObserverFactory = Callable[[ObserverContext], BatchObserver]


class Observers:
    """A batch's observers: every event to each of them, each call guarded."""

    def __init__(self, observers: Iterable[BatchObserver] = (),
                 report: Callable[[str], None] | None = None) -> None:
        self._observers: tuple[BatchObserver, ...] = tuple(observers)
        self._report = report

    @classmethod
    def start(cls, factories: Sequence[ObserverFactory], context: ObserverContext) -> Observers:
        """Make each factory's observer; a factory that fails is reported and left out."""
        made = cls(report=context.report)
        observers = []
        for factory in factories:
            observer = made._guard("starting an observer", factory, context)
            if observer is not None:
                observers.append(observer)
        made._observers = tuple(observers)
        return made

    def notify(self, event: BatchEvent) -> None:
        for observer in self._observers:
            self._guard(f"{type(event).__name__} observer", observer.notify, event)

    def _actions(self, *, quiet: bool = False) -> list[AfterBatchAction]:
        actions = (self._guard("after-batch action", _after_batch, observer, quiet=quiet)
                   for observer in self._observers)
        return [action for action in actions if action is not None]

    @property
    def pending(self) -> PowerOffState | None:
        """The first pending after-batch action's state (the view's ``poweroff``), or None.

        Read while a view is built, under the batch's lock and once per poll: a failure here is
        logged only, never reported as a batch message (that would change the batch, and so
        the next view, from inside a poll)."""
        for action in self._actions(quiet=True):
            state = self._guard("after-batch action", _state_of, action, quiet=True)
            if state is not None:
                return state
        return None

    def cancel_pending(self) -> bool:
        """Call off every pending after-batch action; True when one was pending."""
        cancelled = [bool(self._guard("cancelling an after-batch action", a.cancel))
                     for a in self._actions()]
        return any(cancelled)

    def wait_pending(self, timeout: float | None = None) -> bool:
        """Block until each after-batch action ran or was called off; False on timeout."""
        return all(self._guard("waiting for an after-batch action", a.wait, timeout) is not False
                   for a in self._actions())

    def _guard(self, what: str, func: Callable[..., T], *args: object, quiet: bool = False) -> T | None:
        try:
            return func(*args)
        except Exception as exc:
            log.exception("%s failed", what)
            if self._report is not None and not quiet:
                try:
                    self._report(f"{what[:1].upper()}{what[1:]} failed: {type(exc).__name__}: {exc}")
                except Exception:
                    log.exception("reporting an observer's failure failed")
            return None


def _after_batch(observer: BatchObserver) -> AfterBatchAction | None:
    return observer.after_batch


def _state_of(action: AfterBatchAction) -> PowerOffState | None:
    return action.state
