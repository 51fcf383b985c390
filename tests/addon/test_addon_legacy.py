"""The same zip as a legacy add-on in Blender 3.4 (bl_info): a batch renders a saved copy of
the open file, unsaved edits included, while the user's file stays untouched; the copy goes
when the batch ends."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import run_blender_script
from tests.addon.test_addon_batch import free_port

pytestmark = [pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module")
def scenario(addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    blend = blend_factory(extra_cameras=("Cam2",), name="legacy.blend")
    tmp = tmp_path_factory.mktemp("legacy")
    addons = tmp / "scripts" / "addons"
    with zipfile.ZipFile(addon_zip) as archive:  # what "Install add-on" does in 3.x
        archive.extractall(addons)
    out = tmp / "renders"
    out.mkdir()
    env = {"BLENDER_USER_SCRIPTS": str(tmp / "scripts"), "BLENDER_USER_CONFIG": str(tmp / "config"),
           "XDG_STATE_HOME": str(tmp / "state-home")}
    args = {"blend": str(blend), "out": str(out), "port": free_port(), "addons": str(addons)}
    result = run_blender_script("legacy_scenario.py", args, tmp, env=env, timeout=400)
    result["args"] = args
    result["config"] = str(tmp / "config")
    return result


def test_loads_as_a_legacy_add_on_from_the_zip(scenario: dict[str, Any]) -> None:
    assert scenario["blender"].startswith("3.4")
    assert scenario["module_file"] == str(Path(scenario["args"]["addons"], "renderplus", "__init__.py"))
    assert scenario["job_blender"] == "/usr/bin/blender"  # the running Blender by default
    assert ".whl" in scenario["bottle_from"] and scenario["test_route"][0] == 200


def test_the_batch_renders_a_saved_copy_with_the_unsaved_edits(scenario: dict[str, Any]) -> None:
    run = scenario["run"]
    assert scenario["finished"], scenario["states"]
    assert [s[1] for s in scenario["states"]] == ["FINISHED", "FINISHED"]
    assert all(s[2] == pytest.approx(100.0) and s[3] > 0 for s in scenario["states"])
    assert scenario["outputs"] == ["Cam2_0001.png", "Camera_0001.png"]
    copy = Path(run["copy_path"])
    assert copy.is_relative_to(scenario["config"])  # the add-on's user folder
    assert copy.name.startswith("legacy.batch-")    # this batch's own copy
    assert not scenario["copy_after_batch"]         # removed when the batch ended
    assert scenario["edit_in_memory"] == ["Edited Cube"]
    assert scenario["edit_in_copy"] == "['Edited Cube']"  # the copy has the unsaved edit
    assert scenario["file_unchanged"] and scenario["filepath_after"] == scenario["args"]["blend"]


def test_disable_leaves_nothing(scenario: dict[str, Any]) -> None:
    assert scenario["classes_after_disable"] == []
    assert scenario["threads_after"] == scenario["threads_before"]
    assert scenario["children_after"] == []
