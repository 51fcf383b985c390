"""The queue between the executors' output readers and the batch thread: bounded, never blocking.

Executors put their events (``Output`` lines, ``Started``, ``Exited``...) from their reader
threads; the batch thread takes them one at a time. A Blender that prints faster than the batch
thread reads (millions of status lines, megabytes of garbage) must neither fill Render+'s memory
nor be made to wait: ``put`` never blocks, since a reader that waited would stall its Blender on
a full pipe, and the batch thread also runs hooks, so waiting on it would stall every slot.

Under pressure (many queued lines or characters), lines that a newer one makes useless are
folded, using the parser's grammar (``parser.parse_line``):

- a status line (``Fra:``) replaces the job's queued status line of the same frame, view layer
  and engine when nothing else came between them (a newer sample or tile count supersedes it);
- lines that say nothing the parser reads (noise, random bytes) keep only the last
  ``RUN_KEPT`` of a stretch (what a failed job's message quotes is the last lines).

Every other line (frame markers, ``Saved:``, errors, ``Finished``, ``Time:``...) and every other
event is kept, in order: folding only ever touches the job's newest queued stretch of foldable
lines, so nothing moves ahead of a line it followed. ``take_dropped`` says how many lines of a
job were folded away (the job loop writes it to the log).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Hashable
from typing import Final

from .encode.step import MovieEnded
from .executors import ExecEvent, Exited, Output
from .frame_checker import FrameChecked
from .markers import MARKER_PREFIX
from .parser import TAIL_LINES, EventKind, parse_line

PRESSURE_ENTRIES: Final = 2048           # queued entries from which lines are folded
PRESSURE_CHARS: Final = 4 * 1024 * 1024  # queued characters from which lines are folded
RUN_KEPT: Final = TAIL_LINES             # lines kept of one stretch of foldable lines

_NOISE: Final = "noise"                  # the key of lines the parser reads nothing from
# an executor's event, the end of a job's encode, or the verdict on a written frame
QueuedEvent = ExecEvent | MovieEnded | FrameChecked


class _Run:
    """A job's newest queued stretch of foldable lines (``keys[i]`` is ``lines[i]``'s key)."""

    __slots__ = ("job_id", "keys", "lines")

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.lines: deque[str] = deque()
        self.keys: deque[Hashable] = deque()


def fold_key(line: str) -> Hashable | None:
    """What a newer line must match to supersede ``line``; None for a line that is always kept."""
    if line.startswith(MARKER_PREFIX):
        return None  # Render+'s own markers (frames, movies) always count
    event = parse_line(line)
    if event is None:
        return _NOISE
    if event.kind is EventKind.STATUS and event.frame is not None:
        return (event.frame, event.scene_layer, event.engine)
    return None


class EventQueue:
    """Executors' events, in order per job, with foldable lines folded under pressure."""

    def __init__(self, pressure_entries: int = PRESSURE_ENTRIES,
                 pressure_chars: int = PRESSURE_CHARS) -> None:
        self._entries: deque[QueuedEvent | _Run] = deque()
        self._open: dict[int, _Run] = {}        # each job's run still open to folding
        self._dropped: dict[int, int] = {}
        self._chars = 0
        self._ends = 0                           # Exited events queued
        self._woken = False                      # wake() asked the taker to look again
        self._pressure_entries = pressure_entries
        self._pressure_chars = pressure_chars
        self._ready = threading.Condition(threading.Lock())
        self.high_water = 0                      # the most entries ever queued (for tests, bench)

    def put(self, event: QueuedEvent) -> None:
        """Queue ``event``; never blocks (any thread)."""
        with self._ready:
            if isinstance(event, Output):
                if self._under_pressure() and self._fold(event.job_id, event.line):
                    return
                self._chars += len(event.line)
            elif isinstance(event, Exited):
                self._ends += 1
            self._open.pop(event.job_id, None)  # nothing may fold ahead of this event
            self._entries.append(event)
            if len(self._entries) > self.high_water:
                self.high_water = len(self._entries)
            self._ready.notify()

    def get(self, timeout: float | None = None) -> QueuedEvent:
        """The next event; ``queue.Empty`` when none came within ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._ready:
            while not self._entries:
                if self._woken:
                    self._woken = False
                    raise queue.Empty
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise queue.Empty
                self._ready.wait(left)
            head = self._entries[0]
            if not isinstance(head, _Run):
                self._entries.popleft()
                if isinstance(head, Output):
                    self._chars -= len(head.line)
                elif isinstance(head, Exited):
                    self._ends -= 1
                return head
            line = head.lines.popleft()
            head.keys.popleft()
            self._chars -= len(line)
            if not head.lines:
                self._entries.popleft()
                if self._open.get(head.job_id) is head:
                    del self._open[head.job_id]
            return Output(head.job_id, line)

    def wake(self) -> None:
        """Make a ``get`` waiting for an event (or the next one) return at once with
        ``queue.Empty``: a job was added to the batch and may start now (any thread)."""
        with self._ready:
            self._woken = True
            self._ready.notify()

    def has_end(self) -> bool:
        """True while a job's ``Exited`` waits in the queue (any thread)."""
        with self._ready:
            return self._ends > 0

    def take_dropped(self, job_id: int) -> int:
        """How many of the job's lines were folded away since the last call."""
        with self._ready:
            return self._dropped.pop(job_id, 0)

    def qsize(self) -> int:
        """How many entries are queued now (a folded stretch counts once)."""
        with self._ready:
            return len(self._entries)

    def _under_pressure(self) -> bool:
        return len(self._entries) >= self._pressure_entries or self._chars >= self._pressure_chars

    def _fold(self, job_id: int, line: str) -> bool:
        """Put a foldable line into the job's open run; False for a line that is always kept."""
        key = fold_key(line)
        if key is None:
            return False
        run = self._open.get(job_id)
        if run is None:
            run = self._open[job_id] = _Run(job_id)
            self._entries.append(run)
            self.high_water = max(self.high_water, len(self._entries))
        elif key != _NOISE and run.keys and run.keys[-1] == key:
            self._chars -= len(run.lines.pop())  # superseded by this newer line
            run.keys.pop()
            self._count_dropped(job_id)
        run.lines.append(line)
        run.keys.append(key)
        self._chars += len(line)
        if len(run.lines) > RUN_KEPT:
            self._chars -= len(run.lines.popleft())
            run.keys.popleft()
            self._count_dropped(job_id)
        self._ready.notify()
        return True

    def _count_dropped(self, job_id: int) -> None:
        self._dropped[job_id] = self._dropped.get(job_id, 0) + 1
