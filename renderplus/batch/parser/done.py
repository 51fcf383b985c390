"""Which of a job's frames are done, kept in memory proportional to what is out of order.

A whole-range animation has two million frames; a set of every frame done would cost ~100 MB
by the end. Frames render in order, so the done frames are a prefix of the job's frame list
(``next_index``: every frame before it is done) plus the few done ahead of it (farm chunks,
markers that confirm a guess). Frames outside the list (a stray ``Saved:``, frames not known
yet) are kept apart, at most ``MAX_OTHER_FRAMES`` of them; past that they are only counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

MAX_OTHER_FRAMES: Final = 10_000


class DoneFrames:
    """The done frames of one job. ``frames`` is any ``Sequence[int]`` (a FrameSet, a range,
    a tuple); it is indexed and searched, never copied or expanded."""

    __slots__ = ("_ahead", "_other", "count", "frames", "next_index", "total")

    def __init__(self, frames: Sequence[int]) -> None:
        self.frames = frames
        self.total = len(frames)
        self.count = 0                      # frames done, in the list or not
        self.next_index = 0                 # frames[:next_index] are all done
        self._ahead: set[int] = set()       # in frames, past next_index, done
        self._other: set[int] = set()       # not in frames, done (bounded; past it: counted only)

    def position(self, frame: int) -> int | None:
        """Where ``frame`` is in the job's frames, or None."""
        try:
            return self.frames.index(frame)
        except ValueError:
            return None

    def __contains__(self, frame: int) -> bool:
        if frame in self._ahead or frame in self._other:
            return True
        if not self.next_index:
            return False
        position = self.position(frame)
        return position is not None and position < self.next_index

    def add(self, frame: int) -> bool:
        """Mark ``frame`` done; False when it already was."""
        if frame in self:
            return False
        self.count += 1
        position = self.position(frame)
        if position is None:
            if len(self._other) < MAX_OTHER_FRAMES:
                self._other.add(frame)
        elif position == self.next_index:
            self.next_index += 1
            self._absorb_ahead()
        else:
            self._ahead.add(frame)
        return True

    def discard(self, frame: int) -> None:
        """Mark ``frame`` not done (a guess that a marker proved wrong)."""
        if frame in self._ahead:
            self._ahead.discard(frame)
            self.count -= 1
            return
        if frame in self._other:
            self._other.discard(frame)
            self.count -= 1
            return
        position = self.position(frame)
        if position is not None and position < self.next_index:
            self.count -= 1
            frames = self.frames
            self._ahead.update(frames[index] for index in range(position + 1, self.next_index))
            self.next_index = position

    def first_missing(self) -> int | None:
        """The first frame of the job not done yet (frames render in order); None when all are."""
        if self.next_index < self.total:
            return self.frames[self.next_index]
        return None

    def rebase(self, frames: Sequence[int]) -> DoneFrames:
        """The same done frames over another frame list (the ready marker's)."""
        rebased = DoneFrames(frames)
        old = self.frames
        known = [old[index] for index in range(self.next_index)] + sorted(self._ahead | self._other)
        for frame in known:
            rebased.add(frame)
        rebased.count += self.count - len(known)  # frames past the bound: still counted
        return rebased

    def _absorb_ahead(self) -> None:
        ahead = self._ahead
        if not ahead:
            return
        frames, index, total = self.frames, self.next_index, self.total
        while index < total:
            frame = frames[index]
            if frame not in ahead:
                break
            ahead.discard(frame)
            index += 1
        self.next_index = index
