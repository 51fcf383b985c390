"""The add-on's list of Blenders and "auto" (bpy 5.0 and, with $RENDERPLUS_EXTRA_BPY, 4.2): each
listed Blender with its version or its problem, the list as the service's candidates, an
external file rendered by the listed Blender of its version (the newer ones listed too when the
suite has them), the panel and the poll naming it, "auto" kept in an exported recipe."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]
BLENDER = shutil.which("blender") or "/usr/bin/blender"


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("blenders")
    newer = [p for p in os.environ.get("RENDERPLUS_TEST_BLENDERS", "").split(os.pathsep) if p]
    bad = tmp / "not-blender"
    bad.write_text("#!/bin/sh\necho hello\n")
    bad.chmod(0o755)
    args = {"zip": str(addon_zip), "blend": str(blend_factory(size=(32, 24))), "out": str(tmp),
            "export": str(tmp / "recipe.json"), "blenders": [*newer, BLENDER], "bad": str(bad)}
    result = run_bpy_script("blenders_scenario.py", args, tmp, timeout=300, python=request.param)
    result["args"] = args
    return result


def test_each_listed_blender_shows_its_version_or_its_problem(scenario: dict[str, Any]) -> None:
    assert scenario["answered"]
    labels = scenario["labels"]
    assert "Blender 3.4.1" in labels
    assert any("not-blender" in label for label in labels)   # the problem names the file
    assert "Jobs render with: the Blender that fits each file (auto)" in labels


def test_the_list_is_auto_s_candidates_and_a_34_file_renders_with_34(scenario: dict[str, Any]) -> None:
    args = scenario["args"]
    assert scenario["options"] == ["auto", [*args["blenders"], args["bad"]]]
    assert "A Blender in the add-on's list cannot render" in scenario["refused"]
    assert args["bad"] in scenario["refused"]
    assert scenario["finished"]
    status, said = scenario["job"]
    assert status == "FINISHED" and said == f"Blender 3.4.1 ({BLENDER})", scenario["messages"]
    assert scenario["poll_blender"] == {"path": BLENDER, "version": "3.4.1"}
    assert scenario["after_remove"] == args["blenders"]


def test_an_exported_recipe_keeps_auto(scenario: dict[str, Any]) -> None:
    exported = json.loads(Path(scenario["args"]["export"]).read_text())
    assert exported["blender_bin"] == "auto"
