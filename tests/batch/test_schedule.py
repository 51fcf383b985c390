"""The schedule helper (renderplus/batch/schedule.py): windows across midnight, the nights the
clocks change (Europe/Berlin, 2026: forward on 29 March at 02:00, back on 25 October at
03:00), start times, malformed input and ``work_ends``. Pure: every time is given."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import date, datetime

import pytest

from renderplus.batch.schedule import (
    ScheduleError,
    Window,
    local_moment,
    parse_start_at,
    parse_time_of_day,
    parse_window,
    say_when,
    window_problems,
    work_ends,
)

SPRING = date(2026, 3, 29)     # 02:00 CET -> 03:00 CEST
AUTUMN = date(2026, 10, 25)    # 03:00 CEST -> 02:00 CET
HOUR = 3600.0


@pytest.fixture
def berlin() -> Iterator[None]:
    """Local time is Europe/Berlin for the test; the process's zone comes back after it."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = previous
        time.tzset()


def at(day: date, clock: str) -> float:
    """The epoch time of a wall-clock time that exists once that day."""
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes).timestamp()


def wall(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


def window(start: str, end: str) -> Window:
    return parse_window({"start": start, "end": end})


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize(("text", "minutes"), [("00:00", 0), ("6:05", 365), ("23:59", 1439)])
def test_times_of_day(text: str, minutes: int) -> None:
    assert parse_time_of_day(text) == minutes


@pytest.mark.parametrize("text", ["25:00", "24:00", "12:60", "12", "12:5", "1200", " 12:00",
                                  "12:00:00", "١٢:٠٠", "", "-1:00"])
def test_malformed_times_of_day_name_the_text(text: str) -> None:
    with pytest.raises(ScheduleError, match="is not a time of day \\(HH:MM\\)") as caught:
        parse_time_of_day(text)
    assert repr(text) in str(caught.value)


def test_a_window_needs_a_start_and_an_end_that_differ() -> None:
    with pytest.raises(ScheduleError, match=r"^a window needs a start and an end that differ$"):
        window("22:00", "22:00")
    with pytest.raises(ScheduleError, match="a start and an end that differ"):
        Window(600, 600)


def test_window_problems_name_every_key() -> None:
    assert window_problems({"start": "25:00", "end": 7}) == [
        ("start", "'25:00' is not a time of day (HH:MM)"),
        ("end", "7 is not a time of day (HH:MM)")]
    assert window_problems({"end": "06:00"}) == [("start", "is required (HH:MM)")]
    assert window_problems(["22:00", "06:00"])[0][0] == ""
    with pytest.raises(ScheduleError, match="start: '25:00' is not a time of day"):
        parse_window({"start": "25:00", "end": "06:00"})


def test_a_window_reads_back_as_it_was_written() -> None:
    assert window("22:00", "6:00").to_json() == {"start": "22:00", "end": "06:00"}
    assert str(window("22:00", "06:00")) == "22:00-06:00"
    assert window("22:00", "06:00").spans_midnight and not window("01:00", "04:00").spans_midnight


@pytest.mark.parametrize("value", [True, None, [], "tomorrow", float("nan"), -1, 1e13])
def test_malformed_start_times(value: object) -> None:
    with pytest.raises(ScheduleError):
        parse_start_at(value, 0.0)


# ---------------------------------------------------------------- windows


def test_a_window_across_midnight(berlin: None) -> None:
    night = window("22:00", "06:00")
    day = date(2026, 6, 10)
    assert not night.contains(at(day, "21:59"))
    assert night.contains(at(day, "22:00"))
    assert night.contains(at(day, "23:30")) and night.contains(at(date(2026, 6, 11), "05:59"))
    assert not night.contains(at(date(2026, 6, 11), "06:00"))
    assert night.contains(at(day, "03:00"))     # the night before's window
    assert night.next_start(at(day, "12:00")) == at(day, "22:00")
    assert night.next_start(at(day, "22:00")) == at(day, "22:00")   # a start is itself
    assert night.next_start(at(day, "22:01")) == at(date(2026, 6, 11), "22:00")
    assert night.end_after(at(day, "23:00")) == at(date(2026, 6, 11), "06:00")
    assert night.end_after(at(day, "02:00")) == at(day, "06:00")
    with pytest.raises(ScheduleError, match="not open"):
        night.end_after(at(day, "12:00"))


def test_a_window_within_a_day(berlin: None) -> None:
    lunch = window("12:00", "13:30")
    day = date(2026, 6, 10)
    assert lunch.contains(at(day, "12:00")) and not lunch.contains(at(day, "13:30"))
    assert lunch.end_after(at(day, "13:00")) == at(day, "13:30")
    assert lunch.next_start(at(day, "13:00")) == at(date(2026, 6, 11), "12:00")


def test_spring_forward_keeps_the_wall_clock_end(berlin: None) -> None:
    """01:00-04:00 on the night the clocks jump from 02:00 to 03:00: two real hours."""
    early = window("01:00", "04:00")
    opens = early.next_start(at(date(2026, 3, 28), "12:00"))
    assert wall(opens) == "2026-03-29 01:00"
    assert early.end_after(opens) - opens == 2 * HOUR
    assert wall(early.end_after(opens)) == "2026-03-29 04:00"


def test_autumn_keeps_the_wall_clock_end(berlin: None) -> None:
    """01:00-04:00 on the night the clocks go back from 03:00 to 02:00: four real hours, and
    the second 02:30 is inside it too."""
    early = window("01:00", "04:00")
    opens = early.next_start(at(date(2026, 10, 24), "12:00"))
    assert early.end_after(opens) - opens == 4 * HOUR
    second_half_past_two = opens + 2.5 * HOUR
    assert wall(second_half_past_two) == "2026-10-25 02:30" and early.contains(second_half_past_two)


def test_a_start_the_clocks_jump_over_opens_at_the_first_moment_after(berlin: None) -> None:
    half_past_two = window("02:30", "05:00")
    opens = half_past_two.next_start(at(date(2026, 3, 28), "12:00"))
    assert wall(opens) == "2026-03-29 03:00"
    assert half_past_two.contains(opens) and not half_past_two.contains(opens - 1)
    assert local_moment(SPRING, 150) == local_moment(SPRING, 180) == opens


def test_a_start_that_exists_twice_is_the_first(berlin: None) -> None:
    half_past_two = window("02:30", "05:00")
    opens = half_past_two.next_start(at(date(2026, 10, 24), "12:00"))
    first_2_30 = at(AUTUMN, "01:30") + HOUR
    assert opens == first_2_30 and wall(opens) == "2026-10-25 02:30"
    assert half_past_two.end_after(opens) - opens == 3.5 * HOUR


def test_a_window_inside_the_jump_does_not_open_that_night(berlin: None) -> None:
    lost = window("02:10", "02:50")
    opens = lost.next_start(at(date(2026, 3, 28), "12:00"))
    assert wall(opens) == "2026-03-30 02:10"
    assert not lost.contains(at(SPRING, "03:00"))


# ---------------------------------------------------------------- start times


def test_a_start_time_today_while_still_ahead_else_tomorrow(berlin: None) -> None:
    day = date(2026, 6, 10)
    assert parse_start_at("22:00", at(day, "12:00")) == at(day, "22:00")
    assert parse_start_at("22:00", at(day, "22:00")) == at(day, "22:00")
    assert parse_start_at("22:00", at(day, "22:01")) == at(date(2026, 6, 11), "22:00")
    assert parse_start_at(1_800_000_000, 0.0) == 1_800_000_000.0
    assert parse_start_at(12.5, 99.0) == 12.5   # a past time is a time: the batch starts at once


def test_a_start_time_across_the_clock_changes(berlin: None) -> None:
    assert wall(parse_start_at("02:30", at(date(2026, 3, 28), "23:00"))) == "2026-03-29 03:00"
    assert parse_start_at("02:30", at(AUTUMN, "00:00")) == at(AUTUMN, "01:30") + HOUR


def test_say_when() -> None:
    now = 1_800_000_000.0
    assert say_when(now + HOUR, now) == datetime.fromtimestamp(now + HOUR).strftime("%H:%M")
    assert say_when(now + 3 * 86_400, now).startswith(
        datetime.fromtimestamp(now + 3 * 86_400).strftime("%Y-%m-%d "))


# ---------------------------------------------------------------- work_ends


def test_work_ends_without_a_window() -> None:
    assert work_ends(100.0, 50.0, None) == 150.0
    assert work_ends(100.0, 0.0, window("22:00", "06:00")) == 100.0


def test_work_ends_over_several_nights(berlin: None) -> None:
    night = window("22:00", "06:00")
    day = date(2026, 6, 10)
    assert work_ends(at(day, "12:00"), 2 * HOUR, night) == at(day, "22:00") + 2 * HOUR
    assert work_ends(at(day, "23:00"), HOUR, night) == at(day, "23:59") + 60
    ten_hours = work_ends(at(day, "12:00"), 10 * HOUR, night)   # 8 h the first night, 2 the next
    assert wall(ten_hours) == "2026-06-12 00:00"
    exact = work_ends(at(day, "22:00"), 8 * HOUR, night)        # ends as the window closes
    assert wall(exact) == "2026-06-11 06:00"


def test_work_ends_on_the_nights_the_clocks_change(berlin: None) -> None:
    early = window("01:00", "04:00")
    spring = work_ends(at(date(2026, 3, 28), "12:00"), 3 * HOUR, early)   # 2 h, then 1 h
    assert wall(spring) == "2026-03-30 02:00"
    autumn = work_ends(at(date(2026, 10, 24), "12:00"), 4 * HOUR, early)  # all 4 h that night
    assert wall(autumn) == "2026-10-25 04:00"
