"""Recipe parsing and validation: defaults, round trip, and a precise error for every bad field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from renderplus.batch.recipe import (
    RecipeError,
    data_path_problem,
    parse_recipe,
    split_data_path,
)

SAMPLE: dict[str, Any] = {
    "name": "/home/user/batch.blend",
    "version": 2.2,
    "settings": {
        "rss": {"enabled": False, "path": "/home/user/feed.rss"},
        "global_percentage": {"enabled": False, "value": 100},
        "global_size": {"enabled": False, "value": [1920, 1080]},
        "write_log": False,
        "ignore_border": False,
    },
    "blender_bin": "/bin/blender",
    "hooks": {"PRE_BATCH": [], "POST_BATCH": []},
    "poweroff": {"enabled": False, "action": "DISABLED"},
    "notifications": {
        "desktop": False,
        "sound": {"enabled": False, "file": "/home/user/notification.ogg", "volume": 10},
        "mail": {"enabled": False, "user": "some@somemail.com", "pass": "password", "ssl": True,
                 "to": "my@real-mail.com", "server": "smtp.mail.com"},
    },
    "jobs": [{
        "enabled": True, "id": 0, "name": "Some job", "output": "/home/user/render_Untitled_Scene",
        "external": False, "layer": "", "blendfile": "blendname.blend",
        "filename": "/home/user/blendname.blend", "animated": False, "engine": "BLENDER_EEVEE",
        "threads": 0,
        "hooks": {"PRE_JOB": [{"enabled": False, "cmd": "echo 'pre_job'"}],
                  "POST_JOB": [{"enabled": False, "cmd": "echo 'post_job'"}]},
        "size": [1920, 1080], "blend_file": "/home/user/batch.blend", "scene": "Scene",
        "camera": "Camera", "world": "World", "frame_still": 1, "frame_start": 1,
        "frame_end": 250, "format": "PNG",
        "section": {"enabled": False, "x": 0, "y": 0, "width": 1, "height": 1},
        "cycles": {"samples": 0, "device": "DEFAULT"}, "custom_overrides": [],
    }],
}


def sample(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    data.update(changes)
    return data


def job_with(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    data["jobs"][0].update(changes)
    return data


def errors_of(data: Any) -> dict[str, str]:
    with pytest.raises(RecipeError) as info:
        parse_recipe(data)
    return {e.path: e.message for e in info.value.errors}


def test_spec_sample_parses_with_every_field() -> None:
    recipe = parse_recipe(json.dumps(SAMPLE))
    job = recipe.jobs[0]
    assert recipe.name == "/home/user/batch.blend"
    assert recipe.blender_bin == "/bin/blender"
    assert recipe.notifications.mail.password == "password"
    assert recipe.notifications.sound.volume == 10
    assert job.engine == "BLENDER_EEVEE" and job.size == (1920, 1080)
    assert job.frame_end == 250 and job.camera == "Camera" and job.world == "World"
    assert job.hooks["PRE_JOB"][0].cmd == "echo 'pre_job'" and not job.hooks["PRE_JOB"][0].enabled
    assert job.source_file == "/home/user/batch.blend"  # external is false -> blend_file


def test_round_trip_is_stable_and_keeps_unknown_keys() -> None:
    data = sample(future_key={"a": 1})
    data["jobs"][0]["future_job_key"] = [1, 2]
    data["settings"]["future_setting"] = True
    first = parse_recipe(data).to_dict()
    assert first["future_key"] == {"a": 1}
    assert first["jobs"][0]["future_job_key"] == [1, 2]
    assert first["settings"]["future_setting"] is True
    second = parse_recipe(json.loads(json.dumps(first))).to_dict()
    assert first == second
    for key in SAMPLE["jobs"][0]:
        assert key in first["jobs"][0]


def test_redacted_dump_hides_the_mail_password() -> None:
    recipe = parse_recipe(SAMPLE)
    assert "password" not in recipe.to_json(redact=True).replace('"pass"', "")
    assert '"pass": "password"' in recipe.to_json()


def test_defaults_for_a_minimal_recipe() -> None:
    recipe = parse_recipe({"version": 2.2, "jobs": [{"blend_file": "a.blend"}]}, base_dir="/r")
    job = recipe.jobs[0]
    assert job.enabled and not job.animated and job.frames == [1]
    assert job.cycles.device == "DEFAULT" and job.cycles.samples == 0
    assert recipe.poweroff.action == "DISABLED" and not recipe.poweroff.active
    assert recipe.resolve(job.source_file) == "/r/a.blend"
    assert recipe.hooks == {"PRE_BATCH": [], "POST_BATCH": []}


def test_external_job_renders_its_filename() -> None:
    recipe = parse_recipe(job_with(external=True, filename="/other.blend"))
    assert recipe.jobs[0].source_file == "/other.blend"


def test_frames_of_an_animation() -> None:
    recipe = parse_recipe(job_with(animated=True, frame_start=3, frame_end=6))
    assert recipe.jobs[0].frames == [3, 4, 5, 6]


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
    ('{"version": 2.2, "jobs": [],}', "not valid JSON"),  # strict JSON (Decision 5)
    (b"\xff\xfe", "not UTF-8"),
])
def test_unreadable_recipes(text: str | bytes, needle: str) -> None:
    assert needle in errors_of(text)[""]


@pytest.mark.parametrize(("version", "needle"), [
    (None, "is required"), (3.0, "unsupported recipe version 3.0"),
    ("2.1", "unsupported"), (True, "must be a number"), ([2.2], "must be a number"),
])
def test_version(version: Any, needle: str) -> None:
    data = sample()
    if version is None:
        del data["version"]
    else:
        data["version"] = version
    assert needle in errors_of(data)["version"]


def test_version_as_string_is_accepted() -> None:
    assert parse_recipe(sample(version="2.2")).version == 2.2


BAD_TOP_LEVEL = [
    ({"name": 5}, "name", "must be a string"),
    ({"blender_bin": ["x"]}, "blender_bin", "must be a string"),
    ({"jobs": None}, "jobs", "is required"),
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
    ("output", None, None, None),
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


@pytest.mark.parametrize(("path", "steps"), [
    ("render.fps", [("attr", "render"), ("attr", "fps")]),
    ('objects["Cube"].hide_render', [("attr", "objects"), ("key", "Cube"), ("attr", "hide_render")]),
    ("view_layers[0].use", [("attr", "view_layers"), ("index", 0), ("attr", "use")]),
    ("data.materials['Mat.001'].diffuse_color",
     [("attr", "data"), ("attr", "materials"), ("key", "Mat.001"), ("attr", "diffuse_color")]),
    ("a[-1]", [("attr", "a"), ("index", -1)]),
])
def test_plain_data_paths(path: str, steps: list[tuple[str, str | int]]) -> None:
    assert split_data_path(path) == steps
    assert data_path_problem(path) is None


@pytest.mark.parametrize("path", [
    "", "render.", ".fps", "render..fps", "render.fps()", "a[b]", "a['x]", "a[\"x\\\"]\"]",
    "__class__.mro", "render.__dict__", "a[0", "a b", "a.1b", "é.x", "a + b",
])
def test_refused_data_paths(path: str) -> None:
    assert split_data_path(path) is None
    assert data_path_problem(path) is not None
