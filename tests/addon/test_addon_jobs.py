"""The add-on installed from build.py's zip in real Blender (bpy 5.0): the operators build a job
list from a real scene, and the recipe they produce is valid and matches the scene."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.recipe import parse_recipe
from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]
WEBHOOK_URL = "https://discord.com/api/webhooks/42/s3cret-hook-key"


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # Made by Blender 3.4 (tests/blendfiles.py); the bpy wheel opens it.
    blend = blend_factory(extra_cameras=("Cam2",), markers=((1, "intro"), (3, "outro")),
                          extra_scenes=("Scene2",), extra_layers=("Layer2",), name="jobs.blend")
    tmp = tmp_path_factory.mktemp("jobs")
    python = request.param
    args = {"zip": str(addon_zip), "blend": str(blend), "export": str(tmp / "recipe.json"),
            "webhook_url": WEBHOOK_URL}
    return run_bpy_script("jobs_scenario.py", args, tmp, python=python)


def test_add_job_takes_the_current_scene_and_camera(scenario: dict[str, Any]) -> None:
    data = scenario["scene_data"]
    (job,) = scenario["after_add"]
    assert (job["scene"], job["camera"], job["world"]) == (data["scene"], data["camera"], data["world"])
    assert job["mode"] == "STILL" and job["frame_still"] == data["frame_current"]
    assert [job["frame_start"], job["frame_end"]] == data["frame_range"]
    assert job["output"].startswith("//renders/") and job["uid"] > 0


def test_quick_batches_make_one_job_per_camera_marker_scene_and_layer(scenario: dict[str, Any]) -> None:
    data = scenario["scene_data"]
    # the scene is what we think it is
    assert [len(data[k]) for k in ("cameras", "markers", "scenes", "layers")] == [2, 2, 2, 2]

    assert [j["camera"] for j in scenario["from_CAMERAS"]] == data["cameras"]
    assert [j["name"] for j in scenario["from_CAMERAS"]] == data["cameras"]
    assert {j["mode"] for j in scenario["from_CAMERAS"]} == {"STILL"}
    assert {j["mode"] for j in scenario["from_cameras_animated"]} == {"ANIMATION"}

    markers = scenario["from_MARKERS"]
    assert [[j["frame_still"], j["name"]] for j in markers] == data["markers"]
    assert {j["camera"] for j in markers} == {data["camera"]} and {j["mode"] for j in markers} == {"STILL"}

    scenes = scenario["from_SCENES"]
    assert [j["scene"] for j in scenes] == data["scenes"]
    assert {j["scene"]: j["camera"] for j in scenes} == data["scene_cameras"]

    assert [j["layer"] for j in scenario["from_VIEW_LAYERS"]] == data["layers"]
    assert [j["name"] for j in scenario["from_VIEW_LAYERS"]] == data["layers"]
    uids = [j["uid"] for key in ("from_CAMERAS", "from_MARKERS") for j in scenario[key]]
    assert len(set(uids)) == len(uids)


def test_list_editing_operators(scenario: dict[str, Any]) -> None:
    before = scenario["from_cameras_animated"]
    dup = scenario["after_duplicate"]
    assert len(dup) == len(before) + 1
    assert dup[1]["name"] == before[0]["name"] + " (copy)"
    assert {k: v for k, v in dup[1].items() if k not in ("name", "uid")} == \
        {k: v for k, v in before[0].items() if k not in ("name", "uid")}
    assert dup[1]["uid"] != before[0]["uid"]
    moved = scenario["after_move_up"]
    assert [j["uid"] for j in moved] == [dup[1]["uid"], dup[0]["uid"], dup[2]["uid"]]
    assert scenario["active_after_move"] == 0
    assert scenario["after_disable_all"] == [False, False, False]
    assert [j["uid"] for j in scenario["after_remove"]] == [moved[0]["uid"], moved[1]["uid"]]


def test_the_recipe_is_valid_and_matches_the_scene(scenario: dict[str, Any]) -> None:
    recipe = parse_recipe(scenario["recipe"])  # the engine's own validation, again, here
    jobs = scenario["after_remove"]
    assert [j.name for j in recipe.jobs] == [j["name"] for j in jobs]
    assert [j.camera for j in recipe.jobs] == [j["camera"] for j in jobs]
    assert all(j.scene == scenario["scene_data"]["scene"] for j in recipe.jobs)
    assert all(j.animated and (j.frame_start, j.frame_end) == (1, 3) for j in recipe.jobs)
    blend_dir = os.path.dirname(scenario["blend_path"])
    for job in recipe.jobs:
        assert not job.external and job.source_file == scenario["copy_path"]
        assert job.output == os.path.join(blend_dir, "renders", job.output.rsplit("/", 1)[-1])
        assert job.blendfile == os.path.basename(scenario["blend_path"])
    # the copy goes to the extension's own user folder, never beside the user's file
    assert scenario["copy_path"].startswith(scenario["user_dir"] + os.sep)
    first, second = recipe.jobs
    assert [h.cmd for h in first.hooks["PRE_JOB"]] == ["echo before"]
    assert [h.cmd for h in recipe.hooks["POST_BATCH"]] == ["echo done"]
    assert [(o.path, o.value) for o in first.custom_overrides] == [
        ("render.fps", 12), ("render.use_border", True), ("render.film_transparent", False)]
    assert (second.engine, second.cycles.samples, second.size) == ("CYCLES", 8, (320, 240))
    assert (first.engine, first.size) == ("", None)  # "From File" keeps the file's settings
    assert recipe.notifications.mail.password == "s3cret"
    assert recipe.blender_bin == "/usr/bin/blender"


def test_the_recipe_gets_the_webhook_with_its_url_from_the_masked_preference(
        scenario: dict[str, Any]) -> None:
    assert scenario["webhook_url_subtype"] == "PASSWORD"
    assert scenario["webhook_with_url"] == {"enabled": True, "url": WEBHOOK_URL, "preset": "discord",
                                            "events": ["batch_end", "queue_end", "job_failed"]}
    assert scenario["webhook_exported"] == {**scenario["webhook_with_url"], "url": "***"}


def test_export_then_import_gives_back_the_same_recipe(scenario: dict[str, Any]) -> None:
    assert scenario["exported_password"] == ""  # not written unless asked for
    assert scenario["exported_blend_file"] == scenario["blend_path"]  # a file renders itself
    assert scenario["after_clear"] == 0
    assert scenario["reimported"] == scenario["recipe"]
    uids = scenario["reimported_uids"]
    assert len(set(uids)) == len(uids) and min(uids) > 0


def test_bad_input_is_refused_with_the_reason(scenario: dict[str, Any]) -> None:
    assert "No Blender binary" in scenario["no_binary_render"]
    assert "/nonexistent/blender is not an executable" in scenario["no_binary_render"]
    assert scenario["default_blender_in_module"] is None
    assert "the end frame (2) is before the start frame (10)" in scenario["invalid_render"]
    assert f"Job {scenario['invalid_job_name']!r}" in scenario["invalid_render"]  # by name, not jobs[0]
    assert scenario["batch_after_invalid"] is False
    assert "not a valid recipe" in scenario["bad_import"]
    assert "jobs[0].frame_end" in scenario["bad_import"]


def test_blender_installed_the_bundled_wheel(scenario: dict[str, Any]) -> None:
    assert "bottle.py" in scenario["installed_wheels"]


def test_every_icon_the_panels_use_exists_in_blender(scenario: dict[str, Any]) -> None:
    assert scenario["unknown_icons"] == []
