"""A batch's timers for when it renders: its start time and its window (docs/engine-api.md,
When to render).

The lifecycle asks when a batch started now begins rendering (``first_start``) and arms one
timer at a time here: the start while the batch is WAITING, the window's end while it renders,
the window's next start while the window has paused it. A timer disarmed or replaced never
runs its action, even when it was already due; what an action may do once it runs (the batch
may have been cancelled or paused by hand meanwhile) is the lifecycle's to check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .clock import SYSTEM_CLOCK, Clock, Timer
from .recipe import Recipe
from .schedule import Window, parse_start_at, say_when


class BatchSchedule:
    """The start time and window of one batch, read from its recipe, and its one timer."""

    def __init__(self, recipe: Recipe, clock: Clock | None = None) -> None:
        self.window: Window | None = recipe.settings.window
        self.start_at = recipe.start_at
        self.clock = clock or SYSTEM_CLOCK
        self._lock = threading.Lock()
        self._timer: Timer | None = None
        self._armed = 0   # the current timer's number: an older one's action is dropped

    def now(self) -> float:
        return self.clock.now()

    def first_start(self, start_at: float | str | None) -> float | None:
        """When a batch started now begins rendering (its start time, then its window's next
        start when that time is outside it); None: at once."""
        now = self.clock.now()
        at = max(now, parse_start_at(start_at, now)) if start_at is not None else now
        if self.window is not None and not self.window.contains(at):
            at = self.window.next_start(at)
        return at if at > now else None

    def window_closes(self) -> float | None:
        """When the window the batch renders in closes (now when it is not open); None
        without a window."""
        if self.window is None:
            return None
        now = self.clock.now()
        return self.window.end_after(now) if self.window.contains(now) else now

    def window_opens(self) -> float:
        """When a batch the window paused continues: now when the window is open, else its
        next start."""
        assert self.window is not None
        now = self.clock.now()
        return now if self.window.contains(now) else self.window.next_start(now)

    def outside_window(self) -> float | None:
        """The window's next start when it is closed now; None when open or without one."""
        if self.window is None:
            return None
        now = self.clock.now()
        return None if self.window.contains(now) else self.window.next_start(now)

    def say(self, t: float) -> str:
        """``t`` as a person reads it (``"22:00"``, with the date when further off)."""
        return say_when(t, self.clock.now())

    def arm(self, when: float, action: Callable[[], None], name: str) -> None:
        """Run ``action`` at ``when`` instead of what was armed before."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._armed += 1
            number = self._armed
            self._timer = self.clock.call_at(when, lambda: self._fire(number, action), name)

    def disarm(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self._armed += 1

    def _fire(self, number: int, action: Callable[[], None]) -> None:
        with self._lock:
            if number != self._armed:
                return
            self._timer = None
        action()
