"""The "When to Render" panel's sentences without Blender: a window and a start time as the
batch reads them, and what is wrong with a typed time (the validator's rules)."""

from __future__ import annotations

import time
from datetime import datetime

from renderplus.addon import schedule_text


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 6, 10, hour, minute).timestamp()


def test_a_window_says_when_it_renders_and_whether_it_spans_midnight() -> None:
    assert schedule_text.window_hint("22:00", "6:00") == (
        True, "Renders 22:00-06:00 each day (ends the next morning)")
    assert schedule_text.window_hint(" 09:30 ", "17:00") == (True, "Renders 09:30-17:00 each day")


def test_a_malformed_or_empty_window_names_the_field_and_the_problem() -> None:
    readable, sentence = schedule_text.window_hint("25:00", "06:00")
    assert not readable and sentence.startswith("From: '25:00' is not a time of day")
    readable, sentence = schedule_text.window_hint("22:00", "noon")
    assert not readable and sentence.startswith("Until: 'noon'")
    assert schedule_text.window_hint("22:00", "22:00") == (
        False, "Window: a window needs a start and an end that differ")


def test_a_start_time_is_today_while_ahead_else_tomorrow() -> None:
    assert schedule_text.start_hint("22:00", at(18)) == (True, "Render waits until today 22:00")
    assert schedule_text.start_hint("06:30", at(18)) == (True, "Render waits until tomorrow 06:30")
    readable, sentence = schedule_text.start_hint("6pm", at(18))
    assert not readable and sentence.startswith("Start At: '6pm' is not a time of day")


def test_a_later_day_has_no_day_word() -> None:
    now = time.time()
    assert schedule_text.day_word(now + 3 * 86_400, now) == ""


def test_queue_lines_say_each_batchs_times_and_the_queues_end_with_the_runs_behind_them() -> None:
    from renderplus.batch.queue import QueueEntry, QueueView

    now = at(18)
    first = QueueEntry(1, "a.blend", 2, 0, now, estimated_start=at(19), estimated_end=at(20, 30),
                       estimate_runs=3)
    second = QueueEntry(2, "b.blend", 1, 1, now, estimated_start=at(20, 30),
                        estimated_end=at(22), estimate_runs=1)
    assert schedule_text.entry_line(first, now) == "About 19:00 to 20:30 (based on 3 similar runs)"
    queue = QueueView((first, second), held=False, estimated_end=at(22))
    assert schedule_text.queue_end_line(queue, now) == \
        "Everything done about 22:00 (based on 1 similar run)"
    unknown = QueueEntry(3, "c.blend", 1, 2, now)
    assert schedule_text.entry_line(unknown, now) == ""
    assert schedule_text.queue_end_line(QueueView((first, unknown), held=False), now).startswith(
        "No estimate for the queue's end yet")
    assert schedule_text.queue_end_line(QueueView((first,), held=True), now) == ""


def test_a_waiting_or_window_paused_batch_says_what_it_waits_for() -> None:
    assert schedule_text.waiting_line("WAITING", "22:00", "") == "Starts at 22:00"
    assert schedule_text.waiting_line("PAUSED", "", "22:00") == \
        "Outside its window: continues at 22:00"
    assert schedule_text.waiting_line("PAUSED", "", "") == ""   # paused by hand: Continue
    assert schedule_text.runs_said(-1) == "" and schedule_text.runs_said(2) == \
        " (based on 2 similar runs)"


def test_a_running_job_without_its_own_estimate_says_the_batchs_not_estimating() -> None:
    # the batch box shows an ETA: the Job panel must not say "Estimating..." beside it
    said = schedule_text.job_time_left(-1.0, -1, 185.0)
    assert said == "Estimating this job; the batch: about 3 min 05 s left"
    assert schedule_text.job_time_left(-1.0, -1, -1.0) == "Estimating time left..."
    assert schedule_text.job_time_left(65.0, 3, 185.0) == "About 1 min 05 s left (based on 3 similar runs)"
