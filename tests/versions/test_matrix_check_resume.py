"""``--check``, ``--list-gpus`` and a resume on every Blender version: the probe's job script
reads the file with that version's Python and API, the device listing asks that version, and a
batch that Render+'s kill cut short resumes with that version, rendering only what is missing."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from tests.batch.service_driver import start_service
from tests.procs import processes_with
from tests.server.helpers import cli
from tests.versions.conftest import BlenderUnderTest
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def test_check_and_list_gpus_ask_that_version(blender: BlenderUnderTest, blend_factory: Any,
                                              tmp_path: Path) -> None:
    blend = blend_factory(size=(32, 24), extra_cameras=("Cam2",))
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"version": 2.2, "blender_bin": blender.path, "jobs": [
        {"id": 0, "name": "good", "blend_file": str(blend), "camera": "Cam2",
         "output": str(tmp_path / "a_")},
        {"id": 1, "name": "bad", "blend_file": str(blend), "camera": "Nope"}]}))
    result = cli("--recipe", str(recipe), "--check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"(Blender {blender.full_version}" in result.stdout
    assert "camera 'Nope' not found in scene 'Scene'" in result.stdout
    assert "1 problem found" in result.stdout
    gpus = cli("--list-gpus", blender.path)
    assert gpus.returncode == 0, gpus.stderr
    assert gpus.stdout.splitlines()[0] == "GPUS AVAILABLE FOR RENDERING"
    assert re.search(r"^CPU: .+ \| Threads: \d+$", gpus.stdout, re.MULTILINE)


def test_a_killed_batch_resumes_with_that_version_rendering_only_what_is_missing(
        blender: BlenderUnderTest, blend_factory: Any, tmp_path: Path) -> None:
    blend = blend_factory(size=(96, 72), samples=300, frames=4)
    out, work = tmp_path / "out", tmp_path / "work"
    recipe = {"version": 2.2, "blender_bin": blender.path, "jobs": [
        {"id": 0, "name": "shot", "blend_file": str(blend), "output": str(out / "shot_"),
         "animated": True, "frame_start": 1, "frame_end": 4}]}
    driver = start_service(work, recipe)
    wait_for(lambda: len(list(out.glob("shot_*.png"))) >= 2, timeout=180)
    os.killpg(driver.pid, signal.SIGKILL)
    driver.wait(10)
    wait_for(lambda: not processes_with(str(out)), timeout=15)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("shot_*.png")}

    with BatchStore.open(work) as store:
        service = BatchService(work_dir=work, store=store)
        shown = service.view()
        assert shown is not None and shown.resumable
        recorded = {Path(p).name for p in shown.jobs[0].outputs}
        assert "shot_0001.png" in recorded
        batch = service.resume()
        assert batch.wait(300)
        view = batch.view()
        assert view.status == "FINISHED" and view.jobs[0].status == "FINISHED", view.jobs[0].messages
        handle = batch.handle(0)
        assert handle is not None and handle.argv[0] == blender.path
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("shot_*.png")}
    assert len(after) == 4
    for name in recorded:
        assert after[name] == before[name], f"{name} was rendered again"
