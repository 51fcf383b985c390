"""Job -> Blender argv and job settings, and the override script run in the real Blender."""

from __future__ import annotations

import ast
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.command import (
    CONFIG_FLAG,
    OVERRIDE_SCRIPT,
    build_argv,
    format_argv,
    output_pattern,
    override_config,
    write_override_config,
)
from renderplus.batch.markers import MARKER_PREFIX, OVERRIDE_EXIT_CODE, parse_marker
from tests.batch.conftest import make_recipe


def argv_for(**job: object) -> list[str]:
    recipe = make_recipe([{"blend_file": "/b/scene.blend", **job}])
    return build_argv(recipe, recipe.jobs[0], blender_bin="blender", config_path="/t/job.json")


def test_still_argv_order() -> None:
    argv = argv_for(scene="Shot", output="/out/img", format="PNG", engine="CYCLES", threads=4,
                    frame_still=7)
    assert argv == ["blender", "-b", "/b/scene.blend", "-S", "Shot", "-o", "/out/img_####",
                    "-F", "PNG", "-E", "CYCLES", "-t", "4", "-x", "1",
                    "--python-exit-code", str(OVERRIDE_EXIT_CODE), "--python", str(OVERRIDE_SCRIPT),
                    "-f", "7", "--", CONFIG_FLAG, "/t/job.json"]


def test_animation_frames_come_last_and_device_after_double_dash() -> None:
    argv = argv_for(animated=True, frame_start=3, frame_end=9, cycles={"device": "OPTIX"})
    assert argv[-10:] == ["-s", "3", "-e", "9", "-a", "--", CONFIG_FLAG, "/t/job.json",
                          "--cycles-device", "OPTIX"]
    assert argv.index("--python") < argv.index("-s")


def test_options_not_given_are_left_to_the_file() -> None:
    argv = argv_for()
    for flag in ("-S", "-o", "-F", "-E", "-t"):
        assert flag not in argv
    assert "--cycles-device" not in argv


@pytest.mark.parametrize(("output", "pattern"), [
    ("/out/shot", "/out/shot_####"),
    ("/out/shot_", "/out/shot_####"),
    ("/out/", "/out/####"),
    ("/out/shot_###.exr", "/out/shot_###.exr"),
    ("//renders/shot", "//renders/shot_####"),
    ("rel/shot", "/recipes/rel/shot_####"),
])
def test_output_padding(output: str, pattern: str) -> None:
    recipe = make_recipe([{"blend_file": "a.blend", "output": output}])
    recipe.base_dir = "/recipes"
    assert output_pattern(recipe, recipe.jobs[0]) == pattern


def test_format_argv_quotes_for_a_shell() -> None:
    assert format_argv(["blender", "-o", "/a b/c"]) == "blender -o '/a b/c'"


def test_job_settings_are_plain_data() -> None:
    recipe = make_recipe([{"blend_file": "a.blend", "camera": "Cam'); import os; ('",
                           "custom_overrides": [{"path": 'objects["Cube"].location', "value": [0, 1, 2]},
                                                {"path": "render.fps", "value": 5, "enabled": False}]}])
    config = override_config(recipe, recipe.jobs[0])
    assert config["camera"] == "Cam'); import os; ('"  # a name, looked up, never run
    assert config["overrides"] == [{"path": 'objects["Cube"].location',
                                    "steps": [("attr", "objects"), ("key", "Cube"), ("attr", "location")],
                                    "value": [0, 1, 2]}]
    assert json.loads(json.dumps(config))["frames"] == "1"  # a compact spec, never a list


def test_global_settings_win_over_the_job() -> None:
    recipe = make_recipe([{"blend_file": "a.blend", "size": [640, 480],
                           "section": {"enabled": True, "x": 0.5, "width": 0.5}}],
                         settings={"global_size": {"enabled": True, "value": [100, 50]},
                                   "global_percentage": {"enabled": True, "value": 50},
                                   "ignore_border": True})
    config = override_config(recipe, recipe.jobs[0])
    assert config["size"] == [100, 50] and config["percentage"] == 50
    assert config["border"] is None and config["ignore_border"] is True


def script_constants(path: Path) -> dict[str, object]:
    return {node.targets[0].id: node.value.value  # type: ignore[attr-defined]
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)}


def test_the_blender_scripts_speak_the_markers_protocol() -> None:
    constants = script_constants(OVERRIDE_SCRIPT)
    assert constants["PREFIX"] == MARKER_PREFIX
    assert constants["EXIT_CODE"] == OVERRIDE_EXIT_CODE
    assert constants["CONFIG_FLAG"] == CONFIG_FLAG
    for other in ("probe_file.py", "list_devices.py", "read_frames.py"):
        assert script_constants(OVERRIDE_SCRIPT.parent / other)["PREFIX"] == MARKER_PREFIX


def run_job(tmp_path: Path, blend: Path, **job: object) -> tuple[int, list[dict[str, object]], str]:
    recipe = make_recipe([{"blend_file": str(blend), "output": str(tmp_path / "out" / "r"), **job}])
    config = tmp_path / "job.json"
    write_override_config(recipe, recipe.jobs[0], str(config))
    argv = build_argv(recipe, recipe.jobs[0], blender_bin="blender", config_path=str(config))
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    markers = [m for m in map(parse_marker, result.stdout.splitlines()) if m]
    return result.returncode, markers, result.stdout


@pytest.mark.blender
def test_overrides_apply_in_real_blender(tmp_path: Path, blend_factory: Callable[..., Path]) -> None:
    blend = blend_factory(extra_cameras=("Cam2",), extra_worlds=("Night",), extra_layers=("Fg",))
    code, markers, stdout = run_job(
        tmp_path, blend, camera="Cam2", world="Night", layer="Fg", size=[40, 30],
        cycles={"samples": 2, "device": "CPU"}, frame_still=2,
        custom_overrides=[{"path": "render.fps", "value": 12},
                          {"path": 'data.objects["Cube"].hide_render', "value": True}])
    assert code == 0, stdout
    ready = next(m for m in markers if m["event"] == "ready")
    assert ready["camera"] == "Cam2" and ready["samples"] == 2 and ready["engine"] == "CYCLES"
    frame = next(m for m in markers if m["event"] == "frame")
    assert frame["frame"] == 2
    written = Path(str(frame["path"]))
    assert written.name == "r_0002.png" and written.exists()
    # PNG header: width and height are big-endian at bytes 16..24
    header = written.read_bytes()[16:24]
    assert (int.from_bytes(header[:4], "big"), int.from_bytes(header[4:], "big")) == (40, 30)


@pytest.mark.blender
@pytest.mark.parametrize(("job", "needle"), [
    ({"camera": "NoCam"}, "Camera 'NoCam' not found in scene 'Scene'"),
    ({"scene": "NoScene"}, "Scene 'NoScene' not found"),
    ({"world": "NoWorld"}, "World 'NoWorld' not found"),
    ({"layer": "NoLayer"}, "View layer 'NoLayer' not found"),
    ({"custom_overrides": [{"path": "render.no_such_setting", "value": 1}]},
     "Override 'render.no_such_setting': the scene's render has no 'no_such_setting'"),
    ({"custom_overrides": [{"path": "render.fpz", "value": 12}]},
     "Override 'render.fpz': the scene's render has no 'fpz' (did you mean 'fps'?)"),
    ({"custom_overrides": [{"path": 'data.objects["Cbe"].hide_render', "value": True}]},
     "Override 'data.objects[\"Cbe\"].hide_render': bpy.data.objects has no 'Cbe' (did you mean 'Cube'?)"),
    ({"custom_overrides": [{"path": "render.resolution_x", "value": "wide"}]},
     "Override 'render.resolution_x' = 'wide': resolution_x takes a whole number"),
    ({"custom_overrides": [{"path": "render.fps", "value": 2.5}]},
     "Override 'render.fps' = 2.5: fps takes a whole number"),
])
def test_missing_names_fail_with_a_message(tmp_path: Path, blend_factory: Callable[..., Path],
                                           job: dict[str, Any], needle: str) -> None:
    code, markers, stdout = run_job(tmp_path, blend_factory(), **job)
    assert code == OVERRIDE_EXIT_CODE, stdout
    errors = [m["message"] for m in markers if m["event"] == "error"]
    assert errors and needle in str(errors[0])
    assert not (tmp_path / "out").exists()  # nothing rendered
