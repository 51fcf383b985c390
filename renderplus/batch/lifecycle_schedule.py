"""The lifecycle's part about when a batch renders: waiting for its start time, its window's
end and next start (docs/engine-api.md, When to render).

``ScheduledLifecycle`` is a base of ``BatchLifecycle``: the timers are ``BatchSchedule``'s
(``batch_schedule``), and what each does when it fires is decided here, under the state's lock,
against the batch as it is then (cancelled, or paused by hand, meanwhile). A batch that waits
for its start is WAITING in its own thread, with its log, record and observers open, and no
PRE_BATCH hook has run; a cancel wakes it and it ends CANCELLED. A batch its window paused
(``paused_by`` "window") continues by itself at the window's next start; a hand pause over it
takes that away, and a resume asked outside the window leaves a hand-paused batch to it.
"""

from __future__ import annotations

import time

from .batch_schedule import BatchSchedule
from .batchstate import BatchState
from .changes import BatchChanges
from .resume import Restored
from .view import BatchStatus


class ScheduledLifecycle:
    """The start time and window rules of a batch's lifecycle (see the module docstring)."""

    state: BatchState
    changes: BatchChanges
    schedule: BatchSchedule
    restored: Restored | None

    def pause(self, when: str, by: str | None = None) -> bool:
        raise NotImplementedError

    def resume_paused(self) -> bool:
        raise NotImplementedError

    def _paused_by_hand(self) -> None:
        """A hand pause over the window's (lock held): it no longer continues by itself."""
        state = self.state
        self.schedule.disarm()
        state.paused_by, state.continues_at = None, None
        self.changes.store.batch(paused_by=None)
        self.changes.report("Paused by hand: it waits for a resume (GET /batch/resume), "
                            "not for its window")

    def hold_for_window(self) -> float | None:
        """A PAUSED batch asked to continue while its window is closed: it is left to its
        window (a hand pause becomes the window's) and continues by itself at the window's
        next start, which is returned; None when the window is open or there is none."""
        state = self.state
        with state.lock:
            opens = self.schedule.outside_window()
            if state.status is not BatchStatus.PAUSED or opens is None \
                    or state.cancel_asked.is_set():
                return None
            if state.paused_by is None:
                state.paused_by = "window"
                self.changes.store.batch(paused_by="window")
                self.changes.report(f"Left to its window {self.schedule.window}: it continues "
                                    f"by itself at {self.schedule.say(opens)}")
            self._continue_at(opens)
            return opens

    def _continue_at(self, opens: float) -> None:
        """Arm the continue of a batch its window paused (lock held)."""
        self.state.continues_at = opens
        self.schedule.arm(opens, self._window_opens, "renderplus-window-opens")
        self.state.changed()

    def _window_opens(self) -> None:
        """The window's start: a batch it paused continues (not one paused by hand since)."""
        with self.state.lock:
            if self.state.paused_by != "window":
                return
        self.resume_paused()

    def _window_closes(self) -> None:
        """The window's end while the batch renders: it pauses after the frame."""
        self.pause("frame", by="window")

    def _plan_start(self) -> None:
        """RUNNING now, or WAITING until its start time and its window (lock held). A batch
        read back from the store keeps the start it was waiting for; a resumed one has none."""
        state, restored = self.state, self.restored
        if restored is None:
            start_at = state.recipe.start_at
        else:
            stored = restored.stored
            start_at = stored.start_at if stored.status is BatchStatus.WAITING else None
        state.starts_at = self.schedule.first_start(start_at)
        state.status = BatchStatus.WAITING if state.starts_at is not None else BatchStatus.RUNNING

    def _wait_for_start(self) -> bool:
        """WAITING until the start (its timer) or a cancel; True when it starts."""
        state = self.state
        at = state.starts_at
        assert at is not None
        window = self.schedule.window
        inside = f" (its window is {window})" if window is not None else ""
        self.changes.report(f"Waiting to start at {self.schedule.say(at)}{inside}: no Blender "
                            "runs until then")
        self.schedule.arm(at, state.go.set, "renderplus-start")
        state.go.wait()
        self.schedule.disarm()
        with state.lock:
            if state.cancel_asked.is_set():
                return False
            state.status, state.starts_at, state.started = BatchStatus.RUNNING, None, time.time()
            self.changes.store.batch(status=BatchStatus.RUNNING, started=state.started,
                                     start_at=None)
        self.changes.report("Started: its start time has come")
        self.changes.job_state_changed()
        return True

    def restore_schedule(self) -> None:
        """A batch read back from the store: one WAITING shows the start it waits for
        (``start()`` arms it again); one its window paused continues by itself at the
        window's next start (at once while the window is open)."""
        restored, state = self.restored, self.state
        assert restored is not None
        stored = restored.stored
        with state.lock:
            if stored.status is BatchStatus.WAITING and stored.start_at is not None:
                state.starts_at = stored.start_at
            elif stored.status is BatchStatus.PAUSED and stored.paused_by == "window" \
                    and self.schedule.window is not None:
                state.paused_by = "window"
                self._continue_at(self.schedule.window_opens())
