"""The time a batch's schedule goes by, and its timers (docs/engine-api.md, When to render).

A batch that waits for its start time or for its window is woken by a timer of its clock
(``RunOptions.clock``; None: ``SystemClock``). Tests give a ``ManualClock`` and move it on:
timers then fire in the thread that moves it, so no test waits for a real night.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("renderplus.batch")
RECHECK = 30.0   # seconds a system timer sleeps at most before it reads the clock again


class Timer(Protocol):
    when: float

    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""

    def call_at(self, when: float, action: Callable[[], None], name: str = "") -> Timer:
        """Run ``action`` once at ``when`` (at once when that has passed), in a thread of the
        clock's, unless the timer is cancelled first."""


def _run(action: Callable[[], None], name: str) -> None:
    try:
        action()
    except Exception:   # a timer's failure must not end the process's threads silently
        log.exception("timer %s failed", name)


class _ThreadTimer:
    """A daemon thread that sleeps until ``when`` on the wall clock, looking again every
    ``RECHECK`` s: a machine that slept, or a clock set forward, is noticed within that."""

    def __init__(self, when: float, action: Callable[[], None], name: str) -> None:
        self.when = when
        self._action = action
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._wait, name=name or "renderplus-timer",
                                        daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        while not self._cancelled.is_set():
            left = self.when - time.time()
            if left <= 0:
                _run(self._action, self._thread.name)
                return
            self._cancelled.wait(min(left, RECHECK))

    def cancel(self) -> None:
        self._cancelled.set()


class SystemClock:
    """The wall clock (``time.time``)."""

    def now(self) -> float:
        return time.time()

    def call_at(self, when: float, action: Callable[[], None], name: str = "") -> Timer:
        return _ThreadTimer(when, action, name)


SYSTEM_CLOCK = SystemClock()


class _ManualTimer:
    def __init__(self, clock: ManualClock, when: float, action: Callable[[], None], name: str,
                 order: int) -> None:
        self.when = when
        self.action = action
        self.name = name
        self.order = order
        self._clock = clock

    def cancel(self) -> None:
        self._clock._forget(self)


class ManualClock:
    """A clock moved by hand (tests): ``advance(seconds)`` or ``set(t)`` runs every timer due
    by then, in time order, in the calling thread; a timer armed for a time already past runs
    at once in a thread of its own, as a system timer would. ``wait_for_timer`` blocks until
    a timer is armed (the engine arms its timers from the batch's thread)."""

    def __init__(self, now: float) -> None:
        self._now = float(now)
        self._timers: list[_ManualTimer] = []
        self._changed = threading.Condition()
        self._count = itertools.count()

    def now(self) -> float:
        with self._changed:
            return self._now

    def call_at(self, when: float, action: Callable[[], None], name: str = "") -> Timer:
        with self._changed:
            timer = _ManualTimer(self, float(when), action, name, next(self._count))
            due = timer.when <= self._now
            if not due:
                self._timers.append(timer)
                self._changed.notify_all()
        if due:
            threading.Thread(target=_run, args=(action, name), name=name or "renderplus-timer",
                             daemon=True).start()
        return timer

    def _forget(self, timer: _ManualTimer) -> None:
        with self._changed:
            if timer in self._timers:
                self._timers.remove(timer)
                self._changed.notify_all()

    @property
    def pending(self) -> list[float]:
        """When the armed timers fire, soonest first."""
        with self._changed:
            return sorted(timer.when for timer in self._timers)

    def wait_for_timer(self, when: float | None = None, timeout: float = 30.0) -> float:
        """Block until a timer is armed (for ``when``, when given); its time. TimeoutError."""
        def armed() -> float | None:
            for timer in sorted(self._timers, key=lambda t: (t.when, t.order)):
                if when is None or timer.when == when:
                    return timer.when
            return None
        with self._changed:
            if not self._changed.wait_for(lambda: armed() is not None, timeout):
                raise TimeoutError(f"no timer armed{'' if when is None else f' for {when}'} "
                                   f"within {timeout} s (armed: {self.pending})")
            found = armed()
            assert found is not None
            return found

    def advance(self, seconds: float) -> None:
        self.set(self.now() + seconds)

    def set(self, t: float) -> None:
        """Move the clock to ``t`` (never back), running the timers due on the way."""
        while True:
            with self._changed:
                due = [timer for timer in self._timers if timer.when <= t]
                if not due:
                    self._now = max(self._now, float(t))
                    self._changed.notify_all()
                    return
                timer = min(due, key=lambda item: (item.when, item.order))
                self._timers.remove(timer)
                self._now = max(self._now, timer.when)
            _run(timer.action, timer.name)
