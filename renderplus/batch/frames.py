"""Frame sets: the frames a job renders, kept as ranges and never expanded.

A whole-range animation is a million frames; a poll, a ``--dry`` run or a job file must never
build a list of them. ``FrameSet`` is an immutable ``Sequence[int]`` of arithmetic runs
(start, end inclusive, step) in render order: ``len``, indexing, ``index`` and ``in`` cost
O(log runs), and ``to_spec()`` writes the compact text form (``1-10,20,30-40x2``) that the job
file, the ready marker and people read.

Text grammar (the recipe's ``frames`` key): comma-separated items, each a single frame
(``7``, ``-3``), a range ``a-b`` (non-negative ends) or ``a..b`` (any ends, so ``-5..-1``),
optionally with a step ``x S`` (``30-40x2``). Frames render in the order given; a frame may be
listed only once.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

MAX_FRAME = 1_048_574          # Blender's MAXFRAME
MIN_FRAME = -MAX_FRAME
MAX_RUNS = 1024                # items in one frame list (a typed list, not a generated one)

Run = tuple[int, int, int]     # (first, last, step), last reachable: (last - first) % step == 0

_ITEM = re.compile(r"^\s*(-?\d{1,8})\s*(?:(\.\.|-)\s*(-?\d{1,8})\s*(?:[xX:]\s*(\d{1,8})\s*)?)?$")


class FrameSpecError(ValueError):
    """A frame list that cannot be read; ``str()`` names the item and what is wrong."""


class FrameSet(Sequence[int]):
    """An immutable, ordered set of frames stored as runs. See the module docstring."""

    __slots__ = ("_count", "_ends", "_runs")

    def __init__(self, runs: Iterable[Run] = ()) -> None:
        normal: list[Run] = []
        for first, last, step in runs:
            if step < 1 or last < first:
                raise FrameSpecError(f"bad run {first}..{last} step {step}")
            last = first + (last - first) // step * step  # the last frame the step reaches
            normal.append((first, last, 1 if first == last else step))
        self._runs: tuple[Run, ...] = tuple(normal)
        ends, total = [], 0
        for first, last, step in self._runs:
            total += (last - first) // step + 1
            ends.append(total)
        self._ends: tuple[int, ...] = tuple(ends)  # frames up to and including each run
        self._count = total

    # ------------------------------------------------------------ construction

    @classmethod
    def span(cls, first: int, last: int, step: int = 1) -> FrameSet:
        if step < 1 or last < first:
            raise FrameSpecError(f"bad run {first}..{last} step {step}")
        return cls._one_run(first, first + (last - first) // step * step, step)

    @classmethod
    def single(cls, frame: int) -> FrameSet:
        return cls._one_run(frame, frame, 1)

    @classmethod
    def _one_run(cls, first: int, last: int, step: int) -> FrameSet:
        """The common case (every job of a plain recipe), built without the general loop."""
        frames = cls.__new__(cls)
        step = 1 if first == last else step
        frames._runs = ((first, last, step),)
        frames._count = (last - first) // step + 1
        frames._ends = (frames._count,)
        return frames

    @classmethod
    def from_frames(cls, frames: Iterable[int]) -> FrameSet:
        """Compress an explicit list (e.g. the frames still missing) into runs."""
        runs: list[Run] = []
        for frame in frames:
            if runs:
                first, last, step = runs[-1]
                if first == last and frame > last:
                    runs[-1] = (first, frame, frame - first)
                    continue
                if frame == last + step:
                    runs[-1] = (first, frame, step)
                    continue
            runs.append((frame, frame, 1))
        return cls(runs)

    @classmethod
    def parse(cls, text: str) -> FrameSet:
        """Read the text grammar; raises FrameSpecError naming the first bad item."""
        if not isinstance(text, str) or not text.strip():
            raise FrameSpecError("frame list is empty")
        items = text.split(",")
        if len(items) > MAX_RUNS:
            raise FrameSpecError(f"too many items ({len(items)}; at most {MAX_RUNS})")
        runs = [_parse_item(item) for item in items]
        frames = cls(runs)
        clash = frames.first_overlap()
        if clash is not None:
            raise FrameSpecError(f"frame {clash} is listed more than once")
        return frames

    # ------------------------------------------------------------ Sequence protocol

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...

    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("frame index out of range")
        run = bisect.bisect_right(self._ends, index)
        before = self._ends[run - 1] if run else 0
        first, _, step = self._runs[run]
        return first + (index - before) * step

    def __iter__(self) -> Iterator[int]:
        for first, last, step in self._runs:
            yield from range(first, last + 1, step)

    def __contains__(self, frame: object) -> bool:
        if not isinstance(frame, int) or isinstance(frame, bool):
            return False
        return any(first <= frame <= last and (frame - first) % step == 0
                   for first, last, step in self._runs)

    def index(self, frame: int, start: int = 0, stop: int | None = None) -> int:
        """Position of ``frame`` in render order; ValueError when absent."""
        before = 0
        for (first, last, step), end in zip(self._runs, self._ends, strict=True):
            if first <= frame <= last and (frame - first) % step == 0:
                position = before + (frame - first) // step
                if position >= start and (stop is None or position < stop):
                    return position
            before = end
        raise ValueError(f"frame {frame} is not in {self.to_spec()}")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrameSet):
            return self._runs == other._runs
        if isinstance(other, (list, tuple, range)):
            return len(other) == self._count and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._runs)

    def __repr__(self) -> str:
        return f"FrameSet({self.to_spec()!r})"

    # ------------------------------------------------------------ views

    @property
    def runs(self) -> tuple[Run, ...]:
        return self._runs

    def to_spec(self) -> str:
        """The compact text form, readable by ``parse`` (``1-10,20,30-40x2``, ``-5..-1``)."""
        return ",".join(_format_run(run) for run in self._runs)

    def first_overlap(self) -> int | None:
        """The smallest frame that two runs share, or None (checked without expanding)."""
        order = sorted(self._runs)
        found: int | None = None
        for i, a in enumerate(order):
            for b in order[i + 1:]:
                if b[0] > a[1]:
                    break  # sorted by first frame: no later run reaches back into a
                shared = _first_common(a, b)
                if shared is not None and (found is None or shared < found):
                    found = shared
        return found


def _parse_item(item: str) -> Run:
    match = _ITEM.match(item)
    if not match:
        raise FrameSpecError(f"{item.strip()!r} is not a frame, a range a-b / a..b, or a range "
                             "with a step (30-40x2)")
    first = int(match.group(1))
    separator, end, step_text = match.group(2), match.group(3), match.group(4)
    last = first if end is None else int(end)
    step = int(step_text) if step_text else 1
    shown = item.strip()
    if separator == "-" and (first < 0 or last < 0):
        raise FrameSpecError(f"{shown!r}: write ranges with negative frames as a..b (-5..-1)")
    for frame in (first, last):
        if not MIN_FRAME <= frame <= MAX_FRAME:
            raise FrameSpecError(f"{shown!r}: frame {frame} is outside {MIN_FRAME}..{MAX_FRAME}")
    if last < first:
        raise FrameSpecError(f"{shown!r}: the range ends before it starts")
    if step < 1:
        raise FrameSpecError(f"{shown!r}: the step must be at least 1")
    return (first, last, step)


def _format_run(run: Run) -> str:
    first, last, step = run
    if first == last:
        return str(first)
    separator = ".." if first < 0 or last < 0 else "-"
    return f"{first}{separator}{last}" + (f"x{step}" if step != 1 else "")


def _first_common(a: Run, b: Run) -> int | None:
    """The smallest frame in both arithmetic runs (Chinese remainder, no expansion)."""
    low, high = max(a[0], b[0]), min(a[1], b[1])
    if low > high:
        return None
    (f1, _, s1), (f2, _, s2) = a, b
    g = math.gcd(s1, s2)
    if (f2 - f1) % g:
        return None
    lcm = s1 // g * s2
    # x = f1 + s1 * t  with  s1 * t = f2 - f1 (mod s2)
    t = ((f2 - f1) // g * pow(s1 // g, -1, s2 // g)) % (s2 // g) if s2 // g > 1 else 0
    x = f1 + s1 * t
    if x < low:
        x += (low - x + lcm - 1) // lcm * lcm
    return x if x <= high else None


def as_frame_set(frames: Sequence[int] | Iterable[int]) -> FrameSet:
    """``frames`` as a FrameSet (a FrameSet or a range is taken without expanding it)."""
    if isinstance(frames, FrameSet):
        return frames
    if isinstance(frames, range) and frames.step > 0:
        return FrameSet.span(frames.start, frames[-1], frames.step) if frames else FrameSet()
    return FrameSet.from_frames(frames)
