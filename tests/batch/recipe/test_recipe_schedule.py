"""The recipe's keys of when to render: ``settings.window`` and ``start_at`` (docs/api.md,
Render+'s recipe keys): every problem at once with its path, and a round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest

from renderplus.batch.recipe import parse_recipe
from renderplus.batch.schedule import Window

from .recipe_samples import errors_of, sample


def with_window(window: Any, **top: Any) -> dict[str, Any]:
    data = sample(**top)
    data["settings"]["window"] = window
    return data


def test_a_window_and_a_start_time_are_read_and_written_back() -> None:
    recipe = parse_recipe(with_window({"start": "22:00", "end": "6:00"}, start_at="21:30"))
    assert recipe.settings.window == Window(22 * 60, 6 * 60)
    assert recipe.start_at == "21:30"
    written = json.loads(recipe.to_json())
    assert written["settings"]["window"] == {"start": "22:00", "end": "06:00"}
    assert written["start_at"] == "21:30"
    again = parse_recipe(recipe.to_json())
    assert again.settings.window == recipe.settings.window and again.start_at == "21:30"


def test_without_them_nothing_is_written() -> None:
    recipe = parse_recipe(sample())
    assert recipe.settings.window is None and recipe.start_at is None
    written = json.loads(recipe.to_json())
    assert "start_at" not in written and "window" not in written["settings"]
    nulls = parse_recipe(with_window(None, start_at=None))
    assert nulls.settings.window is None and nulls.start_at is None


def test_epoch_seconds_stay_a_number() -> None:
    recipe = parse_recipe(sample(start_at=1_800_000_000))
    assert recipe.start_at == 1_800_000_000
    assert json.loads(recipe.to_json())["start_at"] == 1_800_000_000


def test_every_problem_at_once_with_its_path() -> None:
    errors = errors_of(with_window({"start": "25:00", "end": 6}, start_at="7 pm"))
    assert errors == {
        "settings.window.start": "'25:00' is not a time of day (HH:MM)",
        "settings.window.end": "6 is not a time of day (HH:MM)",
        "start_at": "'7 pm' is not a time of day (HH:MM)",
    }


@pytest.mark.parametrize(("window", "path", "needle"), [
    ({"start": "22:00", "end": "22:00"}, "settings.window", "a start and an end that differ"),
    ({"start": "22:00"}, "settings.window.end", "is required (HH:MM)"),
    ("22:00-06:00", "settings.window", 'must be an object {"start": "HH:MM", "end": "HH:MM"}'),
    ({"start": "12:60", "end": "13:00"}, "settings.window.start", "not a time of day"),
])
def test_malformed_windows(window: Any, path: str, needle: str) -> None:
    assert needle in errors_of(with_window(window))[path]


@pytest.mark.parametrize(("value", "needle"), [
    (True, "must be epoch seconds or a time of day"),
    ([22, 0], "must be epoch seconds or a time of day"),
    (-5, "is not a time: epoch seconds from 0"),
    ("24:00", "is not a time of day (HH:MM)"),
])
def test_malformed_start_times(value: Any, needle: str) -> None:
    assert needle in errors_of(sample(start_at=value))["start_at"]


def test_an_unknown_key_of_a_window_is_a_warning() -> None:
    recipe = parse_recipe(with_window({"start": "22:00", "end": "06:00", "ends": "07:00"}))
    assert [str(issue) for issue in recipe.warnings] == [
        "settings.window.ends: unknown key; did you mean end?"]
