"""The error cases as each Blender version prints them, read by Render+ into a job that fails
with a sentence: no camera, a file from a newer Blender, a Python error in an override,
denoising a build cannot do, a Blender killed by a signal (through a wrapper for the newer
versions, whose exit status is then 128+N)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe
from tests.versions.conftest import VERSIONS, BlenderUnderTest, _executables, blender_script
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]

NO_CAMERA = """
import bpy
for obj in list(bpy.data.objects):
    if obj.type == "CAMERA":
        bpy.data.objects.remove(obj)
"""


def run(recipe: Any, blender: BlenderUnderTest) -> dict[str, Any]:
    batch = Batch(recipe, RunOptions(blender_bin=blender.path))
    batch.run()
    return batch.snapshot()


def messages(entry: dict[str, Any]) -> str:
    return "\n".join(entry["messages"])


@pytest.fixture(scope="module")
def newest_file(tmp_path_factory: pytest.TempPathFactory, blend_factory: Any) -> tuple[str, Path] | None:
    """A .blend saved by the newest Blender the suite has (None when that is 3.4 alone)."""
    found = _executables()
    newest = max(found, key=lambda name: tuple(int(p) for p in name.split(".")))
    if newest == VERSIONS[0].name:
        return None
    folder = tmp_path_factory.mktemp("newest")
    return newest, blender_script(found[newest][0], blend_factory(size=(32, 24)),
                                  folder / f"saved_by_{newest}.blend", "")


def test_each_versions_errors_fail_the_job_with_a_sentence(
        blender: BlenderUnderTest, blend_factory: Any, tmp_path: Path,
        newest_file: tuple[str, Path] | None) -> None:
    cycles = blend_factory(engine="CYCLES", size=(32, 24), samples=4)
    no_camera = blender_script("blender", cycles, tmp_path / "no_camera.blend", NO_CAMERA)
    jobs: list[dict[str, Any]] = [
        {"blend_file": str(no_camera), "output": str(tmp_path / "a_")},
        {"blend_file": str(cycles), "output": str(tmp_path / "b_"),
         "custom_overrides": [{"path": "render.no_such_setting", "value": 1}]},
        {"blend_file": str(cycles), "output": str(tmp_path / "c_"),
         "custom_overrides": [{"path": "cycles.use_denoising", "value": True},
                              {"path": 'view_layers["ViewLayer"].cycles.use_denoising',
                               "value": True}]},
    ]
    newer = newest_file is not None and newest_file[0] != blender.version.name
    if newer and newest_file is not None:
        jobs.append({"blend_file": str(newest_file[1]), "output": str(tmp_path / "d_")})
    snap = run(make_recipe(jobs, settings={"retries": 0}), blender)
    camera, override, denoise, *rest = snap["jobs"]
    assert camera["status"] == "FAILED" and "no camera" in messages(camera).lower(), camera
    assert override["status"] == "FAILED" and "render.no_such_setting" in messages(override)
    if blender.version.denoiser:
        assert denoise["status"] == "FINISHED", messages(denoise)
    else:
        assert denoise["status"] == "FAILED" and "OpenImageDenoise" in messages(denoise), denoise
    if rest:   # 3.4 says "not a blend file"; 4.x says the file may be from a newer version
        said = messages(rest[0])
        assert rest[0]["status"] == "FAILED" and "cannot be read" in said, rest[0]
        assert "saved by a newer Blender" in said or blender.version.name == "3.4", said


def test_a_blender_killed_by_a_signal_is_a_crash_named_by_its_signal(
        blender: BlenderUnderTest, blend_factory: Any, tmp_path: Path) -> None:
    """Killed on its first frame: through a wrapper the exit status is 128+11, reported as
    SIGSEGV; the job is retried once (as any crash) and then renders."""
    # Frames enough that the Blender is still rendering when the first one is seen done.
    slow = blend_factory(engine="CYCLES", size=(64, 48), samples=64, frames=24)
    recipe = make_recipe([{"blend_file": str(slow), "output": str(tmp_path / "k_"), "animated": True,
                           "frame_start": 1, "frame_end": 24}], settings={"retries": 1})
    batch = Batch(recipe, RunOptions(blender_bin=blender.path))
    runner = threading.Thread(target=batch.run)
    runner.start()
    killed: list[int] = []

    def kill_once() -> bool:
        if killed or batch.view().job(0).frames_done < 1:
            return bool(killed)
        assert not batch.view().job(0).status.ended, "the job ended before its Blender was killed"
        pid = _blender_rendering(slow)
        if pid is not None:
            os.kill(pid, signal.SIGSEGV)
            killed.append(pid)
        return bool(killed)

    wait_for(kill_once, timeout=120)
    runner.join(180)
    entry = batch.snapshot()["jobs"][0]
    assert entry["status"] == "FINISHED", entry["messages"]
    said = messages(entry)
    assert "SIGSEGV" in said or "signal 11" in said, said


def _blender_rendering(blend: Path) -> int | None:
    """The Blender process (not a wrapper around it) whose command line names ``blend``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if name == "blender" and str(blend).encode() in argv:
            return int(entry.name)
    return None
