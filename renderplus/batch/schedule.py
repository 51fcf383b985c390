"""When a batch may render: a daily window and a start time (docs/engine-api.md, When to render).

Pure: no I/O and no clock of its own; every function that needs the time is given it (epoch
seconds). Times of day are local wall-clock times, read in the process's time zone.

- ``Window(start, end)``: minutes after local midnight; an end before the start spans midnight
  (22:00-06:00 closes the next morning); a start equal to the end is an error.
- The window opens once per local day, at its start, and closes at its end. On the nights the
  clocks change it keeps its wall-clock times: 01:00-04:00 still closes at 04:00 by the clock,
  an hour shorter in spring and an hour longer in autumn.
- A time of day that does not exist that day (the clocks jump forward over it) means the first
  moment after the jump; one that exists twice (the clocks go back) means the first of the two.
  A window that lies wholly inside a jump does not open that day.
- ``parse_start_at("HH:MM", now)``: the next such local time, today when it is still ahead
  (or now), else tomorrow; a number is epoch seconds as given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

MINUTES_PER_DAY = 24 * 60
MAX_EPOCH = 253_402_300_799.0   # 9999-12-31 23:59:59 UTC: past that a time is a typo
WINDOW_KEYS = ("start", "end")
_TIME_OF_DAY = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DAYS_LOOKED_AT = 8   # a window opens on at least one of any few days (a jump swallows one)


class ScheduleError(ValueError):
    """A window or start time that cannot be read; ``str()`` names the problem."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_time_of_day(value: Any) -> int:
    """Minutes after midnight of ``"HH:MM"`` (``"6:00"`` too); ScheduleError otherwise."""
    found = _TIME_OF_DAY.fullmatch(value) if isinstance(value, str) else None
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        raise ScheduleError(f"{_shown(value)} is not a time of day (HH:MM)")
    return int(found[1]) * 60 + int(found[2])


def time_of_day(minutes: int) -> str:
    """``"HH:MM"`` of minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def local_moment(day: date, minutes: int) -> float:
    """The epoch time of a local wall-clock time on ``day``: the first of two when the clocks
    go back over it, the first moment after the jump when they jump forward over it."""
    wall = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60)
    first = wall.timestamp()          # fold 0: the earlier reading of an ambiguous time
    if datetime.fromtimestamp(first) == wall:
        return first
    other = wall.replace(fold=1).timestamp()   # in a gap the two offsets bracket the jump
    low, high = math.floor(min(first, other)), math.ceil(max(first, other))
    while low < high:                 # the first whole second whose clock reads >= wall
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle) >= wall:
            high = middle
        else:
            low = middle + 1
    return float(low)


def local_day(t: float) -> date:
    return datetime.fromtimestamp(t).date()


@dataclass(frozen=True)
class Window:
    """A daily time window in local time: ``start``/``end`` are minutes after midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        for minutes in (self.start, self.end):
            if isinstance(minutes, bool) or not isinstance(minutes, int) \
                    or not 0 <= minutes < MINUTES_PER_DAY:
                raise ScheduleError(f"{_shown(minutes)} is not a minute of the day (0-1439)")
        if self.start == self.end:
            raise ScheduleError("a window needs a start and an end that differ")

    @property
    def spans_midnight(self) -> bool:
        return self.end < self.start

    def __str__(self) -> str:
        return f"{time_of_day(self.start)}-{time_of_day(self.end)}"

    def to_json(self) -> dict[str, str]:
        return {"start": time_of_day(self.start), "end": time_of_day(self.end)}

    def opening(self, day: date) -> tuple[float, float]:
        """When the window that opens on ``day`` opens and closes (equal: it does not open)."""
        opens = local_moment(day, self.start)
        closes = local_moment(day + timedelta(days=1) if self.spans_midnight else day, self.end)
        return opens, max(opens, closes)

    def _openings(self, t: float) -> Iterator[tuple[float, float]]:
        """The windows that open on the day before ``t``'s onwards, skipping empty ones."""
        day = local_day(t) - timedelta(days=1)
        for offset in range(_DAYS_LOOKED_AT + 1):
            opens, closes = self.opening(day + timedelta(days=offset))
            if closes > opens:
                yield opens, closes
        raise ScheduleError(f"the window {self} does not open for {_DAYS_LOOKED_AT} days")

    def contains(self, t: float) -> bool:
        """Whether the window is open at ``t`` (from its start, until before its end)."""
        for opens, closes in self._openings(t):
            if opens > t:
                return False
            if t < closes:
                return True
        return False   # pragma: no cover - _openings raises first

    def next_start(self, t: float) -> float:
        """The next moment the window opens: ``t`` itself when it opens at ``t``."""
        for opens, _ in self._openings(t):
            if opens >= t:
                return opens
        raise AssertionError("unreachable")   # pragma: no cover - _openings raises first

    def end_after(self, t: float) -> float:
        """When the window open at ``t`` closes; ScheduleError when it is not open then."""
        for opens, closes in self._openings(t):
            if opens > t:
                break
            if t < closes:
                return closes
        raise ScheduleError(f"the window {self} is not open at {t}")


def window_problems(value: Any) -> list[tuple[str, str]]:
    """What is wrong with a window given as ``{"start": "HH:MM", "end": "HH:MM"}``: pairs of
    (key, sentence), the key "" for the window as a whole; empty when it is a window."""
    if not isinstance(value, Mapping):
        return [("", f'must be an object {{"start": "HH:MM", "end": "HH:MM"}} (got {_shown(value)})')]
    problems: list[tuple[str, str]] = []
    minutes: dict[str, int] = {}
    for key in WINDOW_KEYS:
        if key not in value:
            problems.append((key, "is required (HH:MM)"))
            continue
        try:
            minutes[key] = parse_time_of_day(value[key])
        except ScheduleError as exc:
            problems.append((key, str(exc)))
    if not problems and minutes["start"] == minutes["end"]:
        problems.append(("", "a window needs a start and an end that differ"))
    return problems


def parse_window(value: Any) -> Window:
    """A ``Window`` from ``{"start": "HH:MM", "end": "HH:MM"}``; ScheduleError naming every
    problem."""
    if isinstance(value, Window):
        return value
    problems = window_problems(value)
    if problems:
        raise ScheduleError("; ".join(f"{key}: {message}" if key else message
                                      for key, message in problems))
    return Window(parse_time_of_day(value["start"]), parse_time_of_day(value["end"]))


def parse_start_at(value: Any, now: float) -> float:
    """The epoch time a start time means at ``now``: ``"HH:MM"`` is the next such local time
    (today when still ahead or now, else tomorrow); a number is epoch seconds. ScheduleError."""
    if isinstance(value, str):
        minutes = parse_time_of_day(value)
        today = local_day(now)
        at = local_moment(today, minutes)
        return at if at >= now else local_moment(today + timedelta(days=1), minutes)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScheduleError(f'must be epoch seconds or a time of day "HH:MM" (got {_shown(value)})')
    if not math.isfinite(value) or not 0 <= value <= MAX_EPOCH:
        raise ScheduleError(f"{_shown(value)} is not a time: epoch seconds from 0 to {MAX_EPOCH:.0f}")
    return float(value)


def work_ends(start: float, seconds: float, window: Window | None) -> float:
    """When ``seconds`` of rendering that start no earlier than ``start`` are done, rendering
    only inside ``window`` (None: any time, so ``start + seconds``)."""
    if window is None or seconds <= 0 or not math.isfinite(seconds):
        return start + max(seconds, 0.0)
    t, left = start, float(seconds)
    while True:
        if not window.contains(t):
            t = window.next_start(t)
        closes = window.end_after(t)
        if left <= closes - t:
            return t + left
        left -= closes - t
        t = closes


def say_when(t: float, now: float) -> str:
    """A moment as a person reads it: ``"22:00"`` within the next day, else with its date."""
    moment = datetime.fromtimestamp(t)
    if 0 <= t - now < 86_400 - 60:
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")
