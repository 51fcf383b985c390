"""Recipe validation: a precise error, with its path, for every bad field, all at once."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from renderplus.batch.recipe import RecipeError, parse_recipe

from .recipe_samples import errors_of, job_with, sample


def test_all_errors_are_reported_at_once() -> None:
    data = job_with(frame_start=5, frame_end=1, threads=-1, format="NOPE")
    data["jobs"].append({"id": 1, "blend_file": "x.blend", "size": [0, 10]})
    errors = errors_of(data)
    assert errors["jobs[0].frame_end"] == "must be >= frame_start (got 1 < 5)"
    assert errors["jobs[0].threads"] == "must be >= 0 (got -1)"
    assert "unknown image format" in errors["jobs[0].format"]
    assert "between 1 and" in errors["jobs[1].size"]
    assert len(errors) == 4


def test_error_message_text_names_field_and_values() -> None:
    with pytest.raises(RecipeError) as info:
        parse_recipe(job_with(frame_start=5, frame_end=1))
    assert "jobs[0].frame_end: must be >= frame_start (got 1 < 5)" in str(info.value)


@pytest.mark.parametrize(("text", "needle"), [
    ("{", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"version": 2.2, "jobs": [],}', "not valid JSON"),  # strict JSON (docs/api.md, Recipe)
    (b"\xff\xfe", "not UTF-8"),
])
def test_unreadable_recipes(text: str | bytes, needle: str) -> None:
    assert needle in errors_of(text)[""]


@pytest.mark.parametrize(("version", "needle"), [
    (None, "is required"), (3.0, "unsupported recipe version 3.0"),
    ("2.1", "must be a number"), ("2.2", "must be a number"), (True, "must be a number"),
    ([2.2], "must be a number"), (10**300, "number out of range"),
])
def test_version(version: Any, needle: str) -> None:
    data = sample()
    if version is None:
        del data["version"]
    else:
        data["version"] = version
    assert needle in errors_of(data)["version"]


def test_version_as_an_integer_number_is_accepted_when_equal() -> None:
    assert parse_recipe(sample(version=2.2)).version == 2.2


BAD_TOP_LEVEL = [
    ({"name": 5}, "name", "must be a string"),
    ({"blender_bin": ["x"]}, "blender_bin", "must be a string"),
    ({"jobs": None}, "jobs", "must be a list of jobs (got null)"),
    ({"jobs": {}}, "jobs", "must be a list"),
    ({"jobs": [5]}, "jobs[0]", "must be an object"),
    ({"settings": []}, "settings", "must be an object"),
    ({"settings": {"write_log": "yes"}}, "settings.write_log", "must be true or false"),
    ({"settings": {"ignore_border": 1}}, "settings.ignore_border", "must be true or false"),
    ({"settings": {"rss": {"enabled": True, "path": ""}}}, "settings.rss.path", "is required"),
    ({"settings": {"rss": {"enabled": "x"}}}, "settings.rss.enabled", "must be true or false"),
    ({"settings": {"global_percentage": {"enabled": True, "value": 0}}},
     "settings.global_percentage.value", "must be >= 1"),
    ({"settings": {"global_percentage": {"value": "50"}}},
     "settings.global_percentage.value", "must be an integer"),
    ({"settings": {"global_size": {"enabled": True, "value": [1920]}}},
     "settings.global_size.value", "[width, height]"),
    ({"hooks": {"PRE_BATCH": "echo"}}, "hooks.PRE_BATCH", "must be a list"),
    ({"hooks": {"DURING": []}}, "hooks.DURING", "unknown hook phase"),
    ({"hooks": {"PRE_BATCH": [{"enabled": True}]}}, "hooks.PRE_BATCH[0].cmd", "is required"),
    ({"hooks": {"PRE_BATCH": [{"cmd": "  "}]}}, "hooks.PRE_BATCH[0].cmd", "must not be empty"),
    ({"hooks": {"PRE_BATCH": [7]}}, "hooks.PRE_BATCH[0]", "must be an object"),
    ({"poweroff": {"enabled": True, "action": "EXPLODE"}}, "poweroff.action", "must be one of"),
    ({"poweroff": {"enabled": "no"}}, "poweroff.enabled", "must be true or false"),
    ({"notifications": {"desktop": "yes"}}, "notifications.desktop", "must be true or false"),
    ({"notifications": {"sound": {"enabled": True, "file": ""}}},
     "notifications.sound.file", "is required"),
    ({"notifications": {"sound": {"volume": 101}}}, "notifications.sound.volume", "must be <= 100"),
    ({"notifications": {"mail": {"enabled": True, "to": "x@y.z", "server": ""}}},
     "notifications.mail.server", "is required"),
    ({"notifications": {"mail": {"enabled": True, "to": "nobody", "server": "h"}}},
     "notifications.mail.to", "must be a mail address"),
    ({"notifications": {"mail": {"enabled": True, "to": "a@b.c", "server": "h:99999"}}},
     "notifications.mail.server", "host:port"),
    ({"notifications": {"mail": {"ssl": "true"}}}, "notifications.mail.ssl", "must be true or false"),
    ({"notifications": {"mail": {"pass": 1234}}}, "notifications.mail.pass", "must be a string"),
]


@pytest.mark.parametrize(("changes", "path", "needle"), BAD_TOP_LEVEL,
                         ids=[case[1] for case in BAD_TOP_LEVEL])
def test_bad_top_level_fields(changes: dict[str, Any], path: str, needle: str) -> None:
    data = sample()
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            merged = copy.deepcopy(data[key])
            merged.update(value)
            data[key] = merged
        else:
            data[key] = value
    errors = errors_of(data)
    assert path in errors, errors
    assert needle in errors[path]


BAD_JOB_FIELDS = [
    ("id", 3, "jobs[0].id", "must be the job's index"),
    ("id", True, "jobs[0].id", "must be the job's index"),
    ("name", 1, "jobs[0].name", "must be a string"),
    ("enabled", "true", "jobs[0].enabled", "must be true or false"),
    ("output", None, "jobs[0].output", "must be a string (got null)"),
    ("size", None, None, None),  # nullable: the file's size
    ("output", 3, "jobs[0].output", "must be a string"),
    ("external", 0, "jobs[0].external", "must be true or false"),
    ("layer", [], "jobs[0].layer", "must be a string"),
    ("blendfile", 2, "jobs[0].blendfile", "must be a string"),
    ("filename", {}, "jobs[0].filename", "must be a string"),
    ("blend_file", "", "jobs[0].blend_file", "is required (external is false)"),
    ("blend_file", "a\x00b", "jobs[0].blend_file", "NUL"),
    ("animated", "no", "jobs[0].animated", "must be true or false"),
    ("engine", "CYCLES; rm -rf /", "jobs[0].engine", "render engine id"),
    ("engine", 5, "jobs[0].engine", "must be a string"),
    ("threads", 2.5, "jobs[0].threads", "must be an integer"),
    ("threads", 5000, "jobs[0].threads", "must be <= 1024"),
    ("size", [1920, "1080"], "jobs[0].size", "[width, height]"),
    ("size", [0, 1080], "jobs[0].size", "between 1 and"),
    ("size", "1920x1080", "jobs[0].size", "[width, height]"),
    ("scene", 1, "jobs[0].scene", "must be a string"),
    ("camera", False, "jobs[0].camera", "must be a string"),
    ("world", 0.5, "jobs[0].world", "must be a string"),
    ("frame_still", "1", "jobs[0].frame_still", "must be an integer"),
    ("frame_start", 1.5, "jobs[0].frame_start", "must be an integer"),
    ("frame_end", 2_000_000, "jobs[0].frame_end", "must be <="),
    ("format", "GIF", "jobs[0].format", "unknown image format"),
    ("section", [0, 0, 1, 1], "jobs[0].section", "must be an object"),
    ("section", {"enabled": True, "x": 2}, "jobs[0].section.x", "between 0 and 1"),
    ("section", {"enabled": True, "x": 0.5, "width": 0.75}, "jobs[0].section", "x + width"),
    ("section", {"enabled": True, "width": 0}, "jobs[0].section", "must be > 0"),
    ("cycles", {"samples": -1}, "jobs[0].cycles.samples", "must be >= 0"),
    ("cycles", {"device": "TPU"}, "jobs[0].cycles.device", "must be one of"),
    ("cycles", {"device": "CPU+CUDA"}, "jobs[0].cycles.device", "must be one of"),
    ("hooks", {"PRE_JOB": [{"cmd": 5}]}, "jobs[0].hooks.PRE_JOB[0].cmd", "must be a string"),
    ("hooks", {"PRE_BATCH": []}, "jobs[0].hooks.PRE_BATCH", "unknown hook phase"),
    ("custom_overrides", {}, "jobs[0].custom_overrides", "must be a list"),
    ("custom_overrides", ["render.fps=3"], "jobs[0].custom_overrides[0]", "must be an object"),
    ("custom_overrides", [{"path": "render.fps"}], "jobs[0].custom_overrides[0].value", "is required"),
    ("custom_overrides", [{"path": "render.fps", "value": {"a": 1}}],
     "jobs[0].custom_overrides[0].value", "must be a number"),
    ("custom_overrides", [{"path": "__import__('os').system('x')", "value": 1}],
     "jobs[0].custom_overrides[0].path", "not a plain attribute path"),
    ("custom_overrides", [{"path": "render.fps; import os", "value": 1}],
     "jobs[0].custom_overrides[0].path", "not a plain attribute path"),
]


@pytest.mark.parametrize(("key", "value", "path", "needle"), BAD_JOB_FIELDS,
                         ids=[f"{c[0]}={c[1]!r}"[:40] for c in BAD_JOB_FIELDS])
def test_bad_job_fields(key: str, value: Any, path: str | None, needle: str | None) -> None:
    data = job_with(**{key: value})
    if path is None:  # null means "use the default": accepted
        parse_recipe(data)
        return
    errors = errors_of(data)
    assert path in errors, errors
    assert needle is not None and needle in errors[path]


def test_external_job_needs_a_filename() -> None:
    errors = errors_of(job_with(external=True, filename=""))
    assert errors["jobs[0].filename"].startswith("is required (external is true)")


def test_gpu_device_with_cpu_is_accepted() -> None:
    recipe = parse_recipe(job_with(cycles={"samples": 16, "device": "cuda+cpu"}))
    assert recipe.jobs[0].cycles.device == "CUDA+CPU"




BAD_EXTENSIONS = [
    ("jobs", "frames", "1-5,3", "jobs[0].frames", "frame 3 is listed more than once"),
    ("jobs", "frames", "-5-1", "jobs[0].frames", "write ranges with negative frames as a..b"),
    ("jobs", "frames", "", "jobs[0].frames", "frame list is empty"),
    ("jobs", "frames", 5, "jobs[0].frames", "must be a frame list"),
    ("jobs", "frames", "10-1", "jobs[0].frames", "ends before it starts"),
    ("jobs", "skip_existing", "yes", "jobs[0].skip_existing", "must be true or false"),
    ("jobs", "blender_bin", 4, "jobs[0].blender_bin", "must be a string"),
    ("settings", "skip_existing", 1, "settings.skip_existing", "must be true or false"),
    ("settings", "retries", 11, "settings.retries", "must be <= 10"),
    ("settings", "retries", -1, "settings.retries", "must be >= 0"),
    ("settings", "parallel", 0, "settings.parallel", "must be >= 1"),
    ("settings", "parallel", "many", "settings.parallel", 'must be an integer or "auto"'),
    ("settings", "session_reuse", "no", "settings.session_reuse", "must be true or false or null"),
    ("settings", "farm_chunk", 0, "settings.farm_chunk", "must be >= 1"),
]


@pytest.mark.parametrize(("where", "key", "value", "path", "needle"), BAD_EXTENSIONS,
                         ids=[f"{c[1]}={c[2]!r}" for c in BAD_EXTENSIONS])
def test_bad_extension_keys(where: str, key: str, value: Any, path: str, needle: str) -> None:
    data = sample()
    (data["jobs"][0] if where == "jobs" else data["settings"])[key] = value
    errors = errors_of(data)
    assert needle in errors[path], errors


def test_good_extension_keys() -> None:
    data = job_with(frames="1-3", skip_existing=True, blender_bin="/opt/blender-2.93/blender")
    data["settings"].update(skip_existing=True, retries=0, parallel="auto", session_reuse=False,
                            farm_chunk=25)
    recipe = parse_recipe(data)
    assert recipe.settings.parallel == "auto" and recipe.settings.retries == 0
    assert recipe.jobs[0].blender_bin == "/opt/blender-2.93/blender" and recipe.jobs[0].skip_existing
    assert recipe.warnings == []
    assert parse_recipe(recipe.to_dict()).to_dict() == recipe.to_dict()
