"""The parser on the stdout of the real Blender (Debian's 3.4.1), read live through a pipe.

A small ``--python-expr`` prints the markers the override script prints (ready, then one per
written frame from ``render_write``), so the order of marker and ``Saved:`` lines is Blender's
own, not a guess.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.markers import MARKER_PREFIX
from renderplus.batch.parser import JobProgress
from tests.blendfiles import BLENDER

pytestmark = pytest.mark.blender

MARKER_SCRIPT = """
import bpy, json
def say(**fields):
    print({prefix!r} + json.dumps(fields, separators=(",", ":")), flush=True)
def written(scene, *args):
    say(event="frame", frame=scene.frame_current,
        path=bpy.path.abspath(scene.render.frame_path(frame=scene.frame_current)))
bpy.app.handlers.render_write.append(written)
scene = bpy.context.scene
scene.render.use_overwrite = {overwrite}
say(event="ready", engine=scene.render.engine, scene=scene.name,
    frames=list(range(scene.frame_start, scene.frame_end + 1)), samples=scene.cycles.samples
    if scene.render.engine == "CYCLES" else None, blender=bpy.app.version_string)
"""


def render(blend: Path, out: Path, progress: JobProgress, *, markers: bool = True,
           overwrite: bool = True) -> list[float]:
    """Render frames 1-3 of ``blend``, feeding stdout to ``progress`` line by line as it comes."""
    argv = [BLENDER, "-b", "--factory-startup", str(blend), "-o", str(out / "f_####"), "-F", "PNG"]
    if markers:
        argv += ["--python-expr", MARKER_SCRIPT.format(prefix=MARKER_PREFIX, overwrite=overwrite)]
    argv += ["-s", "1", "-e", "3", "-a"]
    trace: list[float] = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                          encoding="utf-8", errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            progress.feed(line)
            trace.append(progress.progress)
        assert proc.wait(timeout=120) == 0
    return trace


def test_cycles_animation_live(blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    blend = blend_factory(engine="CYCLES", frames=3, samples=4)
    progress = JobProgress(frames=[1, 2, 3], engine="")
    trace = render(blend, tmp_path, progress)
    expected = [str(tmp_path / f"f_000{i}.png") for i in (1, 2, 3)]
    assert progress.saved_files == expected
    assert all(Path(path).is_file() for path in expected)
    assert progress.frames_done == 3 and progress.progress == 100.0
    assert trace == sorted(trace) and trace.count(100.0) >= 1
    assert trace.index(100.0) > 0 and 0 < trace[trace.index(100.0) - 1] < 100.0
    assert progress.engine_type == "CYCLES" and progress.samples == 4
    assert progress.blender_version is not None and progress.blender_version.startswith("3.4")
    assert progress.data["frame"] == "3" and "samples_todo" not in progress.data  # no stale samples
    assert progress.errors == []

    # Overwrite off: the same render again skips every frame and still counts them done.
    again = JobProgress(frames=[1, 2, 3], engine="CYCLES")
    render(blend, tmp_path, again, overwrite=False)
    assert again.skipped_files == expected
    assert again.saved_files == []
    assert again.frames_done == 3 and again.progress == 100.0


def test_workbench_animation_live_without_markers(blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    blend = blend_factory(engine="BLENDER_WORKBENCH", frames=3)
    progress = JobProgress(frames=[1, 2, 3], engine="BLENDER_WORKBENCH")
    trace = render(blend, tmp_path, progress, markers=False)
    assert sorted(set(trace)) == pytest.approx([0.0, 100 / 3, 200 / 3, 100.0])
    assert progress.saved_files == [str(tmp_path / f"f_000{i}.png") for i in (1, 2, 3)]
    assert progress.frames_done == 3
