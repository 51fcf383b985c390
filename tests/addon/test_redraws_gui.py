"""What a batch's progress redraws in GUI Blender 3.4 under Xvfb (tests/addon/scripts/
redraw_gui.py): a sidebar showing another tab is not redrawn for Render+, nor is an open
Preferences window for the batch at all; once the sidebar shows Render+, progress redraws it."""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import pytest

from tests.addon.helpers import ROOT, SCRIPTS, parse_result, run_in_group

pytestmark = [pytest.mark.blender, pytest.mark.slow]
SECONDS = 5.0


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if shutil.which("xvfb-run") is None or shutil.which("blender") is None:
        pytest.skip("needs xvfb-run and the blender executable")
    work = tmp_path_factory.mktemp("redraws")
    env = {**os.environ, "XDG_STATE_HOME": str(work / "state"), "XDG_CONFIG_HOME": str(work / "config"),
           "BLENDER_USER_CONFIG": str(work / "blender-config"),
           "BLENDER_USER_SCRIPTS": str(work / "blender-scripts"), "PYTHONDONTWRITEBYTECODE": "1"}
    args = {"root": str(ROOT), "work": str(work), "frames": 200, "seconds": SECONDS}
    blender = shutil.which("blender") or "blender"
    command = ["xvfb-run", "-a", "-s", "-screen 0 1600x900x24", blender, "--factory-startup",
               "--enable-event-simulate", "--python", str(SCRIPTS / "redraw_gui.py"), "--", json.dumps(args)]
    proc = run_in_group(command, env, timeout=300)
    return parse_result(proc, "redraw_gui.py (GUI 3.4)")


def test_progress_changed_in_each_phase(watched: dict[str, Any]) -> None:
    assert watched["render"] == ["FINISHED"]
    for phase in ("other_tab", "render_tab"):
        assert watched[phase]["progress_changes"] >= 3, watched


def test_a_sidebar_on_another_tab_is_left_alone(watched: dict[str, Any]) -> None:
    other = watched["other_tab"]
    # one redraw at most (the pump's first look), whatever the progress; before: one a second
    assert other["sidebar_draws"] <= 1 + other["milestones"], watched


def test_the_preferences_window_is_not_redrawn_for_the_batch(watched: dict[str, Any]) -> None:
    for phase in ("other_tab", "render_tab"):
        # nothing it shows (the server, the Blenders, the farm) changes during a batch
        assert watched[phase]["urgent_tags"] == 0, watched  # the pump never asked
        assert watched[phase]["prefs_draws"] == 0, watched


def test_the_render_plus_tab_is_redrawn_for_progress(watched: dict[str, Any]) -> None:
    shown = watched["render_tab"]
    assert shown["sidebar_draws"] >= 2, watched   # about one a second (PROGRESS_REDRAW_INTERVAL)
