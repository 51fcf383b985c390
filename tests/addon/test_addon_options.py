"""Each batch freezes its options when it starts: changing the add-on's Blender preference while
a batch renders leaves that batch's binary alone (its next job included); the next batch uses
the new one (bpy 5.0 and, with $RENDERPLUS_EXTRA_BPY, 4.2 LTS)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path, blend_factory: Callable[..., Path],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    blend = blend_factory(samples=64, name="options.blend")
    tmp = tmp_path_factory.mktemp("options")
    out = tmp / "renders"
    out.mkdir()
    real = shutil.which("blender") or "/usr/bin/blender"
    other = tmp / "other-blender"  # a second binary: the same Blender behind another path
    other.write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
    other.chmod(0o755)
    args = {"zip": str(addon_zip), "blend": str(blend), "out": str(out), "blender_a": real,
            "blender_b": str(other)}
    result = run_bpy_script("options_scenario.py", args, tmp, timeout=300, python=request.param)
    result["args"] = args
    return result


def test_a_running_batch_keeps_the_blender_it_started_with(scenario: dict[str, Any]) -> None:
    a, b = scenario["args"]["blender_a"], scenario["args"]["blender_b"]
    assert scenario["first_running"] and scenario["second_running"]
    assert scenario["batch_options_after_change"] == a and scenario["batch_blender_after_change"] == a
    assert scenario["argv_job0"] == [a, "-b"]
    assert scenario["argv_job1"] == [a, "-b"]  # started after the preference changed
    assert scenario["service_after_change"] == b  # the slot's options for later batches moved on


def test_the_next_batch_uses_the_new_preference(scenario: dict[str, Any]) -> None:
    b = scenario["args"]["blender_b"]
    assert scenario["first_ended"] and scenario["next_is_new"] and scenario["next_started"]
    assert scenario["next_options"] == b and scenario["argv_next"] == [b, "-b"]
    assert scenario["next_ended"] and scenario["children_after"] == []
