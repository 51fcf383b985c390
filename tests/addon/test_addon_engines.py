"""The job's engine menu offers the rendering Blender's engines (bpy 5.0 and, with
$RENDERPLUS_EXTRA_BPY, 4.2 LTS): the running Blender's while the preference's Blender is being
asked, then that Blender's; a job whose engine it lacks keeps it, and the check names it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import bpy_pythons, fake_blender, python_id, run_bpy_script

pytestmark = [pytest.mark.bpy]
EEVEE, NEXT = "BLENDER_EEVEE", "BLENDER_EEVEE_NEXT"


@pytest.fixture(scope="module", params=bpy_pythons(), ids=python_id)
def scenario(request: pytest.FixtureRequest, addon_zip: Path,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("engines")
    args = {"zip": str(addon_zip), "blend": str(tmp / "engines.blend"), "recipe": str(tmp / "next.json"),
            "fake43": str(fake_blender(tmp / "blender-4.3", "4.3.2")),
            "fake34": str(fake_blender(tmp / "blender-3.4", "3.4.1"))}
    return run_bpy_script("engines_scenario.py", args, tmp, timeout=300, python=request.param)


def test_while_the_blender_is_asked_the_running_blenders_are_offered(scenario: dict[str, Any]) -> None:
    asking = scenario["asking"]
    assert asking["pending"]
    if scenario["version"] >= [5, 0]:
        assert asking["menu"] == ["FILE", "CYCLES", EEVEE, "BLENDER_WORKBENCH", "OTHER"]
        assert asking["accepts_eevee"] and not asking["accepts_next"]
    else:   # 4.2 LTS
        assert asking["menu"] == ["FILE", "CYCLES", NEXT, "BLENDER_WORKBENCH", "OTHER"]
        assert asking["accepts_next"] and not asking["accepts_eevee"]


def test_once_it_answered_the_menu_offers_its_own_engines(scenario: dict[str, Any]) -> None:
    assert scenario["answered_43"] and scenario["answered_34"]
    assert scenario["blender_43"] == {"menu": ["FILE", "CYCLES", NEXT, "BLENDER_WORKBENCH", "OTHER"],
                                      "accepts_next": True}
    assert scenario["blender_34"] == {"menu": ["FILE", "CYCLES", EEVEE, "BLENDER_WORKBENCH", "OTHER"],
                                      "accepts_next": False, "accepts_eevee": True}


def test_a_job_keeps_an_engine_the_blender_lacks_and_the_check_names_it(scenario: dict[str, Any]) -> None:
    assert scenario["imported"] == [NEXT, ""]
    assert scenario["copied"] == [NEXT, NEXT]
    assert scenario["reopened"] == [NEXT, NEXT]
    assert scenario["marked"] == ["EEVEE Next (not in Blender 3.4.1)"]
    assert scenario["recipe_engines"] == [NEXT, NEXT]
    assert any("'BLENDER_EEVEE_NEXT' is not available in Blender 3.4.1" in p
               and "use 'BLENDER_EEVEE'" in p for p in scenario["problems"]), scenario["problems"]
    assert scenario["after_choice"] == ["FILE", "CYCLES", EEVEE, "BLENDER_WORKBENCH", "OTHER"]
