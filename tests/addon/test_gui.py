"""Issue 13 in GUI Blender 3.4 under Xvfb (bench/bench_gui.py, shortened): during a real batch
the 3D viewport is never redrawn for Render+ (thumbnails read by Blender's preview job redrew the
whole window once per frame), live thumbnails still show, progress redraws the sidebar at most
once a second, and the check before Render refuses broken jobs by their names with the engines
of the real binary."""

from __future__ import annotations

import shutil
import sys
from typing import Any

import pytest

from tests.addon.helpers import ROOT

pytestmark = [pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module")
def bench() -> Any:
    if shutil.which("xvfb-run") is None or shutil.which("blender") is None:
        pytest.skip("needs xvfb-run and the blender executable")
    sys.path.insert(0, str(ROOT))
    from bench import bench_gui

    return bench_gui


@pytest.fixture(scope="module")
def now(bench: Any) -> dict[str, Any]:
    result: dict[str, Any] = bench.run_mode("now", 8.0, shutil.which("blender") or "blender", checks=True)
    return result


def test_a_batch_never_redraws_the_viewport_yet_shows_live_thumbnails(now: dict[str, Any]) -> None:
    assert now["pump_writes"] >= 2 and now["frames_done"] >= 2  # the batch moved while we watched
    assert now["thumbnails_shown"] >= 1  # the running job's last frame, drawn in the sidebar
    assert now["viewport_draws"] == 0
    assert not now["traceback_printed"]


def test_progress_redraws_the_sidebar_at_most_once_a_second(now: dict[str, Any]) -> None:
    # Each redraw of any region composites the whole window (about 0.1 s under software OpenGL):
    # progress alone asks for a redraw once a second, status changes (a job started) at once.
    # (Blender adds a few redraws of its own when the panels' height changes: it slides them.)
    tags = now["tag_times"]
    assert len(tags) >= 2 and len(tags) <= now["batch_seconds"] + 3
    assert now["pump_writes"] > len(tags)  # the batch changed more often than the sidebar redrew


def test_thumbnails_read_by_blenders_preview_job_redrew_the_viewport(bench: Any) -> None:
    before = bench.run_mode("before", 8.0, shutil.which("blender") or "blender")
    assert before["thumbnails_shown"] >= 1 and before["viewport_draws"] >= 2


def test_render_refuses_broken_jobs_by_name_with_the_binarys_engines(now: dict[str, Any]) -> None:
    checks = now["checks"]
    version, engines = checks["binary"]
    assert version.startswith("3.4") and "BLENDER_EEVEE_NEXT" not in engines
    assert "Job \"Artist's engine job\": render engine 'BLENDER_EEVEE_NEXT' is not available in " \
           "Blender 3.4" in checks["engine"]
    assert "use 'BLENDER_EEVEE'" in checks["engine"]
    assert "Job \"Artist's camera job\": camera 'Deleted Camera' is not in scene 'Scene'" in checks["camera"]
    frames = "Job \"Artist's frames job\": the end frame (10) is before the start frame (20)"
    assert frames in checks["frames"]
    assert "Job \"Artist's folder job\": output folder " in checks["folder"]
    assert "cannot be created" in checks["folder"]


def test_render_refuses_a_custom_override_typo_naming_the_bad_part(now: dict[str, Any]) -> None:
    """Issue 26: resolved against the open file in GUI Blender 3.4, every problem at once."""
    said = now["checks"]["override"]
    assert said.startswith("Error: The batch cannot start: 2 problem(s)"), said
    assert ("Job \"Artist's override job\": override 'render.fpz': the scene's render has no 'fpz' "
            "(did you mean 'fps'?)") in said
    assert "Job \"Artist's override job\": override 'render.fps' = 'abc': fps takes a whole number" in said
