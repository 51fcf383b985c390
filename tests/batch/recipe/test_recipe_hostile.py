"""Hostile recipes (issue 9): each gets a RecipeError with a sentence and a path, never a crash."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from renderplus.batch.frames import FrameSet
from renderplus.batch.recipe import RecipeError, parse_recipe
from renderplus.batch.recipe.jsontext import MAX_DEPTH

from .recipe_samples import SAMPLE, errors_of, job_with, sample


def text_errors(text: str | bytes) -> dict[str, str]:
    with pytest.raises(RecipeError) as info:
        parse_recipe(text)
    for issue in info.value.errors:  # every message can be printed and sent as UTF-8
        str(issue).encode("utf-8")
    return {e.path: e.message for e in info.value.errors}


# ---------------------------------------------------------------- nesting


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_100000_levels_of_nesting_is_a_sentence_not_a_recursion_error(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = '{"version": 2.2, "jobs": ' + opener * 100_000 + "1" + closer * 100_000 + "}"
    errors = text_errors(text)
    assert "nested too deeply" in errors[""]
    assert "nested too deeply" in text_errors(text.encode())[""]


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    data = sample(name="[" * 500 + '\\"{' * 100)
    assert parse_recipe(json.dumps(data)).name == data["name"]


def test_nesting_up_to_the_limit_is_kept_as_an_unknown_key() -> None:
    deep: Any = 1
    for _ in range(MAX_DEPTH - 2):
        deep = [deep]
    recipe = parse_recipe(json.dumps(sample(future=deep)))
    assert recipe.extra["future"] == deep
    assert [str(w) for w in recipe.warnings] == ["future: unknown key (not used by this version)"]


def test_a_deep_dict_given_directly_is_an_error_with_its_path() -> None:
    deep: Any = 1
    for _ in range(MAX_DEPTH + 10):
        deep = [deep]
    errors = errors_of(sample(future=deep))
    (path,) = errors
    assert path.startswith("future[0][0]") and "nested too deeply" in errors[path]


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize("digits", [400, 5000, 50_000])
@pytest.mark.parametrize("where", ["version", "section.x", "section.width", "frame_end", "threads"])
def test_integers_with_hundreds_of_digits_are_errors_at_their_path(digits: int, where: str) -> None:
    data = json.loads(json.dumps(SAMPLE))
    huge = "9" * digits
    if where == "version":
        data["version"] = "HUGE"
        path = "version"
    elif where.startswith("section."):
        data["jobs"][0]["section"][where.split(".")[1]] = "HUGE"
        path = f"jobs[0].{where}"
    else:
        data["jobs"][0][where] = "HUGE"
        path = f"jobs[0].{where}"
    text = json.dumps(data).replace('"HUGE"', huge)
    errors = text_errors(text)
    assert "out of range" in errors[path], errors
    assert text_errors(text.replace(huge, "-" + huge))[path]


def test_a_huge_python_integer_in_a_dict_is_an_error_not_an_overflow() -> None:
    data = job_with(section={"enabled": True, "x": 10**400})
    data["version"] = 10**400
    errors = errors_of(data)
    assert "out of range" in errors["version"]
    assert "out of range" in errors["jobs[0].section.x"]


@pytest.mark.parametrize(("literal", "needle"), [
    ("NaN", "NaN is not a JSON value"), ("Infinity", "Infinity is not a JSON value"),
    ("-Infinity", "is not a JSON value"), ("1e999", "out of range"),
])
def test_non_finite_numbers_are_refused(literal: str, needle: str) -> None:
    text = json.dumps(job_with(threads="X")).replace('"X"', literal)
    errors = text_errors(text)
    assert any(needle in message for message in errors.values()), errors


# ---------------------------------------------------------------- custom_overrides


@pytest.mark.parametrize("value", [5, 2.5, True, False, 0, "render.fps=24", {"path": "a"}, None])
def test_custom_overrides_that_is_not_a_list_is_one_error(value: Any) -> None:
    errors = errors_of(job_with(custom_overrides=value))
    assert list(errors) == ["jobs[0].custom_overrides"]
    assert errors["jobs[0].custom_overrides"].startswith("must be a list")


# ---------------------------------------------------------------- surrogates


@pytest.mark.parametrize(("changes", "path"), [
    ({"name": "\ud800"}, "name"),
    ({"blender_bin": "/bin/blend\udfffer"}, "blender_bin"),
    ({"future": {"note": "x\ud800"}}, "future.note"),
])
def test_unpaired_surrogates_anywhere_are_errors_naming_the_path(changes: dict[str, Any], path: str) -> None:
    text = json.dumps(sample(**changes))  # ensure_ascii: "\ud800" escapes, valid JSON
    errors = text_errors(text)
    assert "unpaired UTF-16 surrogate" in errors[path]
    assert "unpaired UTF-16 surrogate" in errors_of(sample(**changes))[path]


@pytest.mark.parametrize(("key", "value", "path"), [
    ("camera", "Cam\ud800", "jobs[0].camera"),
    ("output", "\udc00/out", "jobs[0].output"),
    ("custom_overrides", [{"path": "render.fps", "value": "\ud800"}], "jobs[0].custom_overrides[0].value"),
    ("hooks", {"PRE_JOB": ["echo \ud800"]}, "jobs[0].hooks.PRE_JOB[0]"),
])
def test_unpaired_surrogates_in_job_fields(key: str, value: Any, path: str) -> None:
    errors = text_errors(json.dumps(job_with(**{key: value})))
    assert "surrogate" in errors[path], errors


def test_a_surrogate_in_a_key_is_named_with_an_escaped_path() -> None:
    errors = text_errors(json.dumps(job_with(**{"bad\ud800key": 1})))
    assert "jobs[0].bad\\ud800key" in errors


def test_paired_surrogates_are_ordinary_text() -> None:
    text = json.dumps(sample(name="render \U0001F600"))
    assert "\\ud83d\\ude00" in text
    assert parse_recipe(text).name == "render \U0001F600"


# ---------------------------------------------------------------- duplicate and unknown keys


def test_duplicate_keys_are_errors_naming_key_and_path() -> None:
    text = json.dumps(SAMPLE)
    text = text.replace('"camera": "Camera"', '"camera": "Camera", "camera": "Other"', 1)
    text = text.replace('"version": 2.2', '"version": 2.2, "version": 2.2', 1)
    errors = text_errors(text)
    assert errors["jobs[0].camera"] == "duplicate key (given more than once)"
    assert errors["version"] == "duplicate key (given more than once)"


def test_unknown_keys_are_warnings_with_the_nearest_known_key() -> None:
    data = job_with(frame_strat=10, future_key=1)
    data["jobs"][0]["section"]["widht"] = 0.5
    data["settings"]["retires"] = 3
    recipe = parse_recipe(data)
    assert sorted(str(w) for w in recipe.warnings) == [
        "jobs[0].frame_strat: unknown key; did you mean frame_start?",
        "jobs[0].future_key: unknown key (not used by this version)",
        "jobs[0].section.widht: unknown key; did you mean width?",
        "settings.retires: unknown key; did you mean retries?",
    ]
    assert recipe.jobs[0].extra == {"frame_strat": 10, "future_key": 1}
    assert parse_recipe(SAMPLE).warnings == []


# ---------------------------------------------------------------- strict types (the document's)


@pytest.mark.parametrize(("changes", "path"), [
    ({"notifications": None}, "notifications"),
    ({"settings": None}, "settings"),
    ({"hooks": None}, "hooks"),
    ({"poweroff": None}, "poweroff"),
    ({"name": None}, "name"),
    ({"version": "2.2"}, "version"),
])
def test_null_and_strings_for_numbers_are_refused_as_the_document_says(changes: dict[str, Any],
                                                                     path: str) -> None:
    assert path in errors_of(sample(**changes))


def test_null_is_accepted_where_the_document_says_nullable() -> None:
    data = job_with(size=None)
    data["settings"]["session_reuse"] = None
    recipe = parse_recipe(data)
    assert recipe.jobs[0].size is None and recipe.settings.session_reuse is None


# ---------------------------------------------------------------- frames are never materialised


def whole_range_recipe(count: int) -> dict[str, Any]:
    job = {"blend_file": "a.blend", "animated": True, "frame_start": -1_048_574, "frame_end": 1_048_574,
           "engine": "CYCLES", "output": "/tmp/out/####", "size": [1920, 1080], "format": "PNG",
           "hooks": {"PRE_JOB": [], "POST_JOB": []}, "cycles": {"samples": 0, "device": "DEFAULT"},
           "section": {"enabled": False, "x": 0, "y": 0, "width": 1, "height": 1}, "custom_overrides": []}
    return {"version": 2.2, "jobs": [dict(job, id=i, name=f"job {i}") for i in range(count)]}


def test_a_10000_job_whole_range_recipe_parses_without_expanding_frames(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Structural, not timed: any walk over a job's frames fails the test (the speed itself is
    measured in bench/)."""
    text = json.dumps(whole_range_recipe(10_000))

    def never(self: FrameSet) -> Iterator[int]:
        raise AssertionError("frames were expanded")

    monkeypatch.setattr(FrameSet, "__iter__", never)
    recipe = parse_recipe(text)
    frames = sum(len(job.frames) for job in recipe.jobs)
    assert frames == 10_000 * 2_097_149
    assert recipe.jobs[0].frames.runs == ((-1_048_574, 1_048_574, 1),)


def test_a_flood_of_unknown_keys_gets_a_summary() -> None:
    data = sample(**{f"key{i}": i for i in range(5000)}, **{"k" * 100_000: 1})
    recipe = parse_recipe(json.dumps(data))
    assert len(recipe.warnings) == 101
    assert str(recipe.warnings[-1]) == "... and 4901 more unknown keys"
    assert all(len(str(w)) < 200 for w in recipe.warnings)
