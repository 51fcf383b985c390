"""How a job fails for its files: a .blend Blender cannot read is a file error, not a crash to
retry; a frame Blender could not write never stays under its name (a crash message naming only
files that still exist is checked with the real crash in test_faults.py). Real Blender 3.4
throughout: a real text file and a real truncated .blend, a really full disk (a small tmpfs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe
from tests.mounts import small_tmpfs

pytestmark = pytest.mark.blender
Factory = Callable[..., Path]


def unreadable_blends(folder: Path, blend_factory: Factory) -> list[Path]:
    text = folder / "notes.blend"
    text.write_text("not a .blend: a text file someone named .blend\n")
    whole = blend_factory(engine="BLENDER_WORKBENCH", frames=1).read_bytes()
    cut = folder / "cut.blend"
    cut.write_bytes(whole[:len(whole) // 2])  # a copy that stopped halfway: Missing DNA block
    return [text, cut]


def test_an_unreadable_blend_fails_once_naming_the_file(tmp_path: Path, blend_factory: Factory) -> None:
    files = unreadable_blends(tmp_path, blend_factory)
    recipe = make_recipe([{"blend_file": str(path), "output": str(tmp_path / "out" / f"f{i}_")}
                          for i, path in enumerate(files)], settings={"retries": 2})
    batch = Batch(recipe, RunOptions(log_dir=str(tmp_path / "work")))
    batch.run()
    reasons = ["File format is not supported", "Missing DNA block"]
    for index, (path, reason) in enumerate(zip(files, reasons, strict=True)):
        job = batch.view().job(index)
        assert job.status == "FAILED"
        assert len(job.messages) == 1, job.messages  # no "Attempt 1 of 3 ..." before it
        message = job.messages[0]
        assert message.startswith("The .blend file cannot be read: ") and "not retried" in message
        assert str(path) in message and reason in message


@pytest.mark.parametrize(("file_format", "suffix"), [("OPEN_EXR", "exr"), ("PNG", "png")])
def test_a_frame_cut_by_a_full_disk_is_set_aside_not_kept(tmp_path: Path, blend_factory: Factory,
                                                          file_format: str, suffix: str) -> None:
    blend = blend_factory(engine="BLENDER_WORKBENCH", size=(320, 240), frames=1)
    with small_tmpfs(tmp_path / "disk", "16k") as disk:
        recipe = make_recipe([{"blend_file": str(blend), "output": str(disk / "f_"),
                               "format": file_format}], settings={"retries": 0})
        batch = Batch(recipe, RunOptions(log_dir=str(tmp_path / "work")))
        batch.run()
        frame = disk / f"f_0001.{suffix}"
        job = batch.view().job(0)
        assert job.status == "FAILED", job.messages
        assert not frame.exists()  # no cut file under a frame's name
        partial = disk / f"f_0001.{suffix}.partial"
        assert partial.exists()  # set aside, never deleted
        assert f"Blender could not write {frame} (No space left on device)" in job.messages[-1]
        assert f"the partial file was renamed {partial}" in job.messages[-1]
        assert job.frames_done == 0
