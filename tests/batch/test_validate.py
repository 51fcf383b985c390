"""Frames checked whole (settings key ``validate``) with the real Blender: a frame that a
wrapper damages right after Blender wrote it (``frame_faults``) is caught, set aside as
``.invalid``, rendered once more, and a frame bad twice fails its job naming it; the POST_JOB
hook's outputs list holds only verified frames; a frame that appears late is waited for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import Batch
from tests.batch.conftest import make_recipe
from tests.batch.frame_faults import black_png, damaged_count, damaging_blender, nan_exr
from tests.blendfiles import BLENDER, file_output_script

pytestmark = pytest.mark.blender
Factory = Callable[..., Path]


def run_job(tmp_path: Path, blend: Path, blender: str, *, fmt: str = "PNG",
            validate: dict[str, Any] | None = None) -> tuple[Any, list[str]]:
    """One job of frames 1-3 rendered by ``blender``; (its view, the POST_JOB hook's list)."""
    listed = tmp_path / "listed.txt"
    job = {"blend_file": str(blend), "output": str(tmp_path / "out" / "f_####"), "format": fmt,
           "frames": "1-3", "blender_bin": blender,
           "hooks": {"POST_JOB": [{"cmd": f"cp \"$RENDERPLUS_OUTPUTS_FILE\" {listed}"}]}}
    settings = {"validate": validate} if validate is not None else {}
    batch = Batch(make_recipe([job], settings=settings))
    batch.run()
    return batch.view().job(0), listed.read_text().split()


def frames_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_a_truncated_frame_renders_once_more_and_its_job_finishes(
        tmp_path: Path, blend_factory: Factory) -> None:
    """No ``validate`` key: the structural check every frame gets still catches it."""
    blender = damaging_blender(tmp_path / "bin", frame=2, mode="truncate", times=1)
    job, listed = run_job(tmp_path, blend_factory(frames=3, samples=1), blender)
    assert job.status == "FINISHED", job.messages
    assert damaged_count(tmp_path / "bin", "truncate", 2) == 1
    assert any(m.startswith("Frame 2 failed its check:") and "renders once more" in m
               for m in job.messages), job.messages
    out = tmp_path / "out"
    assert frames_in(out) == ["f_0001.png", "f_0002.png", "f_0002.png.invalid", "f_0003.png"]
    assert sorted(Path(p).name for p in listed) == ["f_0001.png", "f_0002.png", "f_0003.png"]
    assert job.frames_done == 3


def test_a_truncated_multilayer_exr_fails_its_job_naming_the_frame(
        tmp_path: Path, blend_factory: Factory) -> None:
    blender = damaging_blender(tmp_path / "bin", frame=2, mode="truncate", times=5)
    job, listed = run_job(tmp_path, blend_factory(frames=3, samples=1), blender,
                          fmt="OPEN_EXR_MULTILAYER", validate={"decode": True})
    assert job.status == "FAILED"
    assert job.messages[-1].startswith("Frame 2 failed its check twice:"), job.messages
    assert damaged_count(tmp_path / "bin", "truncate", 2) == 2     # rendered once more, no more
    assert frames_in(tmp_path / "out") == [
        "f_0001.exr", "f_0002.exr.invalid", "f_0002.exr.invalid-2", "f_0003.exr"]  # all kept
    assert sorted(Path(p).name for p in listed) == ["f_0001.exr", "f_0003.exr"]


def test_a_truncated_file_output_file_fails_its_job_naming_the_frame(
        tmp_path: Path, blend_factory: Factory) -> None:
    import subprocess
    blend = tmp_path / "with_file_output.blend"
    script = tmp_path / "add_node.py"
    script.write_text(file_output_script(str(tmp_path / "passes") + "/")
                      + f"bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})\n")
    subprocess.run(["blender", "-b", str(blend_factory(frames=3, samples=1)), "--python",
                    str(script)], check=True, capture_output=True, timeout=120)
    blender = damaging_blender(tmp_path / "bin", frame=2, mode="truncate", times=5, which="files")
    job, listed = run_job(tmp_path, blend, blender, validate={"decode": True})
    assert job.status == "FAILED"
    assert job.messages[-1].startswith("Frame 2 failed its check twice:"), job.messages
    assert "pass_0002.png" in job.messages[-1]
    assert "pass_0002.png.invalid" in frames_in(tmp_path / "passes")
    assert not any("0002" in Path(p).name for p in listed), listed


def test_a_black_frame_is_refused_when_asked(tmp_path: Path, blend_factory: Factory) -> None:
    black = black_png(tmp_path / "black.png")
    blender = damaging_blender(tmp_path / "bin", frame=2, mode="replace", times=5, source=black)
    job, listed = run_job(tmp_path, blend_factory(frames=3, samples=1), blender,
                          validate={"decode": True, "black": True})
    assert job.status == "FAILED"
    assert job.messages[-1].startswith("Frame 2 failed its check twice:"), job.messages
    assert "black" in job.messages[-1]
    assert damaged_count(tmp_path / "bin", "replace", 2) == 2
    assert sorted(Path(p).name for p in listed) == ["f_0001.png", "f_0003.png"]


def test_a_black_frame_passes_when_black_is_not_asked(tmp_path: Path, blend_factory: Factory) -> None:
    black = black_png(tmp_path / "black.png")
    blender = damaging_blender(tmp_path / "bin", frame=2, mode="replace", times=5, source=black)
    job, _ = run_job(tmp_path, blend_factory(frames=3, samples=1), blender,
                     validate={"decode": True, "black": False})
    assert job.status == "FINISHED", job.messages
    assert not any("failed its check" in m for m in job.messages)


def test_a_frame_holding_nans_is_refused_when_asked(tmp_path: Path, blend_factory: Factory) -> None:
    nan = nan_exr(tmp_path / "nan.exr")
    blender = damaging_blender(tmp_path / "bin", frame=2, mode="replace", times=5, source=nan)
    job, _ = run_job(tmp_path, blend_factory(frames=3, samples=1), blender, fmt="OPEN_EXR",
                     validate={"black": True})
    assert job.status == "FAILED"
    assert job.messages[-1].startswith("Frame 2 failed its check twice:"), job.messages
    assert "NaN" in job.messages[-1]
    assert frames_in(tmp_path / "out") == [
        "f_0001.exr", "f_0002.exr.invalid", "f_0002.exr.invalid-2", "f_0003.exr"]


def test_a_frame_that_appears_late_is_waited_for(tmp_path: Path, blend_factory: Factory) -> None:
    blender = damaging_blender(tmp_path / "bin", frame=2, mode="late", times=1, delay=1.5)
    job, listed = run_job(tmp_path, blend_factory(frames=3, samples=1), blender,
                          validate={"decode": True})
    assert job.status == "FINISHED", job.messages
    assert damaged_count(tmp_path / "bin", "late", 2) == 1
    assert not any("failed its check" in m for m in job.messages), job.messages
    assert frames_in(tmp_path / "out") == ["f_0001.png", "f_0002.png", "f_0003.png"]
    assert len(listed) == 3


def test_skip_existing_counts_a_frame_only_when_it_passes_the_structural_check(
        tmp_path: Path, blend_factory: Factory) -> None:
    job = {"blend_file": str(blend_factory(frames=2, samples=1)), "frames": "1-2",
           "output": str(tmp_path / "s_####")}
    Batch(make_recipe([dict(job)])).run()
    damaged = tmp_path / "s_0002.png"
    data = bytearray(damaged.read_bytes())
    data[60:80] = b"\xff" * 20          # its image data damaged; its size and its end as before
    damaged.write_bytes(bytes(data))
    batch = Batch(make_recipe([{**job, "skip_existing": True}]))
    batch.run()
    view = batch.view().job(0)
    assert view.status == "FINISHED", view.messages
    assert "Skipping 1 existing frame(s)" in view.messages
    handle = batch.handle(0)
    assert handle is not None and handle.argv[handle.argv.index("-f") + 1] == "2"
    assert damaged.read_bytes() != bytes(data)


def test_a_bad_frame_renders_again_in_a_shared_blender_session(
        tmp_path: Path, blend_factory: Factory) -> None:
    """Two jobs of one file in one Blender session: job 0's bad frame renders again through
    the session, job 1 renders as usual."""
    blender = damaging_blender(tmp_path / "bin", frame=2, mode="truncate", times=1)
    blend = str(blend_factory(frames=3, samples=1))
    jobs = [{"blend_file": blend, "output": str(tmp_path / f"out{i}" / "f_####"), "frames": "1-3",
             "engine": "CYCLES"} for i in range(2)]
    batch = Batch(make_recipe(jobs, blender_bin=blender, settings={"session_reuse": True}))
    batch.run()
    first, second = batch.view().job(0), batch.view().job(1)
    assert (first.status, second.status) == ("FINISHED", "FINISHED"), (first.messages, second.messages)
    assert any("failed its check" in m for m in first.messages)
    assert frames_in(tmp_path / "out0") == ["f_0001.png", "f_0002.png", "f_0002.png.invalid",
                                            "f_0003.png"]
    assert frames_in(tmp_path / "out1") == ["f_0001.png", "f_0002.png", "f_0003.png"]
    assert damaged_count(tmp_path / "bin", "truncate", 2) == 1


def test_a_pause_lets_the_pending_checks_answer_first(tmp_path: Path, blend_factory: Factory) -> None:
    """Frame 2 shows up 3 s late: a pause after the frame waits for its check; the frame
    counts as done and is not rendered again when the batch continues."""
    from renderplus.batch.view import BatchStatus
    from tests.waiting import wait_for
    blender = damaging_blender(tmp_path / "bin", frame=2, mode="late", times=1, delay=3.0)
    job = {"blend_file": str(blend_factory(frames=12, samples=1)), "frames": "1-12",
           "output": str(tmp_path / "out" / "f_####"), "blender_bin": blender}
    batch = Batch(make_recipe([job], settings={"validate": {"decode": True}}))
    batch.start()
    wait_for(lambda: batch.view().job(0).frames_done >= 2, timeout=180, interval=0.02)
    assert batch.pause("frame")
    wait_for(lambda: batch.status is BatchStatus.PAUSED, timeout=120, interval=0.02)
    paused = batch.view().job(0)
    assert paused.status == "QUEUED", paused.messages
    assert not any("failed its check" in m for m in paused.messages), paused.messages
    second = tmp_path / "out" / "f_0002.png"
    kept = second.stat().st_mtime_ns          # there: its check answered before PAUSED
    assert batch.resume_paused()
    assert batch.wait(300)
    done = batch.view().job(0)
    assert done.status == "FINISHED", done.messages
    assert frames_in(tmp_path / "out") == [f"f_{n:04d}.png" for n in range(1, 13)]
    assert damaged_count(tmp_path / "bin", "late", 2) == 1
    assert second.stat().st_mtime_ns == kept   # verified before the pause: not rendered again


def test_a_frame_reader_that_cannot_start_loses_no_frame(tmp_path: Path, blend_factory: Factory,
                                                         fake_blender: Callable[[str], str]) -> None:
    """The job's Blender renders; the same binary as a frame reader dies at once: the frames
    are checked for structure only, the batch says so once, the job finishes."""
    blender = fake_blender(f"""
        if "--renderplus-reader" in sys.argv:
            print("reader refused", flush=True)
            sys.exit(3)
        os.execv({str(BLENDER)!r}, [{str(BLENDER)!r}, *sys.argv[1:]])
    """)
    batch = Batch(make_recipe([{"blend_file": str(blend_factory(frames=3, samples=1)),
                                "output": str(tmp_path / "out" / "f_####"), "format": "OPEN_EXR",
                                "frames": "1-3", "blender_bin": blender}],
                              settings={"validate": {"decode": True, "black": True}}))
    batch.run()
    view = batch.view()
    job = view.job(0)
    assert job.status == "FINISHED", job.messages
    assert job.frames_done == 3 and len(job.outputs) == 3
    told = [m for m in view.messages if "could not be read back whole" in m]
    assert len(told) == 1 and "structure only" in told[0], view.messages
