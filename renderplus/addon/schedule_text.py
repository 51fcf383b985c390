"""The panels' words for *when*: under the "When to Render" fields, the window and the start
time as the batch will read them, or what is wrong with what was typed (the recipe validator's
rules, so Render refuses exactly what is shown in red); a batch that waits for its start or its
window; estimates and the similar runs they rest on; the queue's end. No ``bpy``."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..batch.durations import format_duration
from ..batch.queue import QueueEntry, QueueView
from ..batch.schedule import ScheduleError, parse_start_at, parse_window, say_when, window_problems

WINDOW_FIELDS = {"start": "From", "end": "Until", "": "Window"}


def window_hint(start: str, end: str) -> tuple[bool, str]:
    """(readable, sentence) for a window typed as ``start``-``end``."""
    value = {"start": start.strip(), "end": end.strip()}
    problems = window_problems(value)
    if problems:
        key, message = problems[0]
        return False, f"{WINDOW_FIELDS.get(key, key)}: {message}"
    window = parse_window(value)
    morning = " (ends the next morning)" if window.spans_midnight else ""
    return True, f"Renders {window} each day{morning}"


def start_hint(text: str, now: float) -> tuple[bool, str]:
    """(readable, sentence) for a start time typed as ``HH:MM``: when Render would start."""
    try:
        at = parse_start_at(text.strip(), now)
    except ScheduleError as exc:
        return False, f"Start At: {exc}"
    return True, f"Render waits until {day_word(at, now)}{say_when(at, now)}"


def day_word(at: float, now: float) -> str:
    """"today ", "tomorrow " or "" (a later day: ``say_when`` gives its date)."""
    day, today = datetime.fromtimestamp(at).date(), datetime.fromtimestamp(now).date()
    if day == today:
        return "today "
    return "tomorrow " if day == today + timedelta(days=1) else ""


def runs_said(runs: int) -> str:
    """`` (based on 3 similar runs)``; empty for -1 (the job's own frames are the ground)."""
    if runs < 0:
        return ""
    return f" (based on {runs} similar run{'s' if runs != 1 else ''})"


def time_left(seconds: float, runs: int = -1) -> str:
    """"About 3 min 05 s left", or "Estimating time left..." while there is no sensible figure;
    ``runs``: the earlier similar runs the figure rests on (-1: the job's own frames)."""
    if seconds < 0:
        return "Estimating time left..."
    return f"About {format_duration(seconds)} left{runs_said(runs)}"


def job_time_left(seconds: float, runs: int, batch_seconds: float) -> str:
    """The selected running job's time left; while it has no figure of its own yet but the
    batch has one (the batch box shows it), that one, rather than "Estimating..." beside it."""
    if seconds < 0 and batch_seconds >= 0:
        return f"Estimating this job; the batch: about {format_duration(batch_seconds)} left"
    return time_left(seconds, runs)


def waiting_line(status: str, starts_at: str, continues_at: str) -> str:
    """What a batch that does not render now waits for: its start time, or its window."""
    if status == "WAITING":
        return f"Starts at {starts_at}" if starts_at else "Waiting to start"
    if status == "PAUSED" and continues_at:
        return f"Outside its window: continues at {continues_at}"
    return ""


def queue_end_line(queue: QueueView, now: float) -> str:
    """When the current batch and every queued one are done: "Everything done about 06:40
    (based on 3 similar runs)", or why that is not known; "" for a held queue (it starts
    nothing by itself)."""
    if queue.held:
        return ""
    if queue.estimated_end is None:
        return "No estimate for the queue's end yet: nothing similar has rendered"
    runs = [entry.estimate_runs for entry in queue.entries if entry.estimate_runs is not None]
    return f"Everything done about {say_when(queue.estimated_end, now)}" + (
        runs_said(min(runs)) if runs else "")


def entry_line(entry: QueueEntry, now: float) -> str:
    """A queued batch's estimated start and end ("About 23:10 to 01:40 (based on 2 similar
    runs)"), or "" when it has none."""
    if entry.estimated_start is None or entry.estimated_end is None:
        return ""
    runs = entry.estimate_runs if entry.estimate_runs is not None else -1
    return (f"About {say_when(entry.estimated_start, now)} to "
            f"{say_when(entry.estimated_end, now)}{runs_said(runs)}")
