"""The pause's rules without Blender: the request (when, upgrades), where a stopped job goes back
in the order, the paused exit's outcome, the poll's ``pausing`` key, the stop file, the answers
of a batch and a service that cannot pause or continue, and a crash during a pause (a fake
Blender) (docs/engine-api.md, Pause)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.markers import PAUSED_EXIT_CODE, format_marker
from renderplus.batch.outcome import decide
from renderplus.batch.parser import JobProgress
from renderplus.batch.pause import (
    PAUSE_WHEN,
    STOP_FILE_VAR,
    PauseRequest,
    ask_to_stop,
    check_when,
    put_back_index,
    stop_file,
)
from renderplus.batch.runner import Batch
from renderplus.batch.script_paths import OVERRIDE_SCRIPT
from renderplus.batch.service import BatchService, NotRunningError
from renderplus.batch.view import BatchStatus, BatchView, JobStatus
from tests.batch.conftest import make_recipe
from tests.frames import PNG
from tests.waiting import wait_for


def request(when: str) -> PauseRequest:
    return PauseRequest(when, 0.0)


def test_only_a_stronger_pause_changes_one_under_way() -> None:
    assert PAUSE_WHEN == ("now", "frame", "job")
    assert request("job").stronger_than(None)
    assert request("frame").stronger_than(request("job"))
    assert request("now").stronger_than(request("frame"))
    for weaker, stronger in (("job", "job"), ("frame", "frame"), ("job", "now"), ("frame", "now")):
        assert not request(weaker).stronger_than(request(stronger))
    assert request("now").stops_jobs and request("frame").stops_jobs
    assert not request("job").stops_jobs


def test_an_unknown_when_is_named() -> None:
    assert check_when("frame") == "frame"
    with pytest.raises(ValueError, match=r"'later'.*now, frame, job"):
        check_when("later")


def test_stopped_jobs_go_back_first_in_the_order_they_started() -> None:
    started = {0: 10.0, 1: 11.0, 5: 3.0, 6: 4.0}
    order = [5, 6]                               # queued, never started in this pause
    index = put_back_index(order, set(), 1, started.__getitem__)
    assert index == 0
    order.insert(index, 1)
    held = {1}
    index = put_back_index(order, held, 0, started.__getitem__)  # started before job 1
    assert index == 0
    order.insert(index, 0)
    assert order == [0, 1, 5, 6]
    assert put_back_index([0, 1, 5], {0, 1}, 2, lambda i: 12.0 if i == 2 else started[i]) == 2


def test_the_stop_file_is_made_where_the_environment_says(tmp_path: Path) -> None:
    path = stop_file(str(tmp_path))
    assert not Path(path).exists()
    assert ask_to_stop({STOP_FILE_VAR: path})
    assert Path(path).exists()
    assert not ask_to_stop({})
    assert not ask_to_stop({STOP_FILE_VAR: str(tmp_path / "gone" / "stop")})


def test_the_job_script_knows_the_stop_file_and_the_paused_exit() -> None:
    constants = {node.targets[0].id: node.value.value  # type: ignore[attr-defined]
                 for node in ast.parse(OVERRIDE_SCRIPT.read_text()).body
                 if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)}
    assert constants["PAUSED_EXIT_CODE"] == PAUSED_EXIT_CODE
    assert constants["STOP_FILE_VAR"] == STOP_FILE_VAR


# ------------------------------------------------------------------ the paused exit's outcome

def progress_with(frames: tuple[int, ...], written: int, tmp_path: Path) -> JobProgress:
    progress = JobProgress(frames)
    for frame in frames[:written]:
        path = tmp_path / f"f{frame}.png"
        path.write_bytes(PNG)
        progress.feed(format_marker("frame", frame=frame, path=str(path)))
    return progress


@pytest.mark.parametrize("code", [PAUSED_EXIT_CODE, -15, -9])
def test_a_job_stopped_for_a_pause_is_queued_again_and_not_retried(tmp_path: Path, code: int) -> None:
    result = decide(progress_with((1, 2, 3, 4), 2, tmp_path), 4, code, cancelled=False, paused=True)
    assert result.status is JobStatus.QUEUED
    assert result.retry is False
    assert result.message is not None and "2 of 4 frames" in result.message


@pytest.mark.parametrize("code", [PAUSED_EXIT_CODE, -15, 0])
def test_a_job_that_wrote_every_frame_before_its_pause_finished(tmp_path: Path, code: int) -> None:
    result = decide(progress_with((1, 2), 2, tmp_path), 2, code, cancelled=False, paused=True)
    assert result.status is JobStatus.FINISHED


def test_the_paused_exit_unconfirmed_is_a_failure_and_a_cancel_wins(tmp_path: Path) -> None:
    progress = progress_with((1, 2, 3), 1, tmp_path)
    assert decide(progress, 3, PAUSED_EXIT_CODE, cancelled=False).status is JobStatus.FAILED
    assert decide(progress, 3, -15, cancelled=True, paused=True).status is JobStatus.CANCELLED


# ------------------------------------------------------------------ the view

def test_paused_is_a_status_that_has_not_ended_and_pausing_is_polled() -> None:
    assert BatchStatus.PAUSED == "PAUSED" and not BatchStatus.PAUSED.ended
    paused = BatchView(BatchStatus.PAUSED)
    assert paused.paused and not paused.running
    assert "pausing" not in paused.to_json()
    pausing = BatchView(BatchStatus.RUNNING, pausing="frame")
    data = pausing.to_json()
    assert data["pausing"] == "frame"
    assert BatchView.from_json(data).pausing == "frame"
    assert BatchView.from_json(paused.to_json()).status is BatchStatus.PAUSED


# ------------------------------------------------------------------ what cannot pause or continue

def test_a_batch_that_does_not_run_neither_pauses_nor_continues(tmp_path: Path) -> None:
    batch = Batch(make_recipe([{"blend_file": str(tmp_path / "a.blend")}]))
    assert batch.pause("now") is False
    assert batch.pausing is None
    assert batch.resume_paused() is False
    with pytest.raises(ValueError):
        batch.pause("soon")
    assert batch.status is BatchStatus.WAITING


def test_a_service_without_a_running_batch_says_so(tmp_path: Path) -> None:
    service = BatchService(work_dir=tmp_path)
    with pytest.raises(NotRunningError):
        service.pause()
    with pytest.raises(ValueError):
        service.pause("whenever")
    assert service.paused is False


# ------------------------------------------------------------------ a crash during a pause (fake Blender)

def test_a_crash_while_pausing_is_not_retried_and_the_job_waits(tmp_path: Path, fake_blender: Any) -> None:
    """Real Blender cannot crash on demand: this one writes frame 1, then dies (exit 1) as soon
    as the pause's stop file appears instead of stopping cleanly. The retry waits: the job is
    QUEUED again with its frame, and the batch PAUSED."""
    calls, frame = tmp_path / "calls", tmp_path / "f_0001.png"
    fake = fake_blender(f"""
        open({str(calls)!r}, "a").write("run\\n")
        open({str(frame)!r}, "wb").write({PNG!r})
        print({format_marker("frame", frame=1, path=str(frame))!r}, flush=True)
        while not os.path.exists(os.environ["RENDERPLUS_STOP_FILE"]):
            time.sleep(0.01)
        print("Segmentation fault", flush=True)
        sys.exit(1)
    """)
    (tmp_path / "a.blend").write_bytes(b"BLENDER")
    recipe = make_recipe([{"blend_file": str(tmp_path / "a.blend"), "animated": True,
                           "frame_start": 1, "frame_end": 3}, {"blend_file": str(tmp_path / "a.blend")}],
                         blender_bin=fake, settings={"retries": 2, "session_reuse": False})
    batch = Batch(recipe)
    batch.start()
    wait_for(lambda: batch.view().job(0).frames_done == 1, timeout=30, interval=0.02)
    assert batch.pause("frame")
    wait_for(lambda: batch.status is BatchStatus.PAUSED, timeout=30, interval=0.02)
    job = batch.view().job(0)
    assert job.status is JobStatus.QUEUED and job.frames_done == 1
    assert any("exit code 1" in message for message in job.messages), job.messages
    assert calls.read_text() == "run\n"          # not retried while pausing
    assert batch.view().job(1).status is JobStatus.QUEUED
    assert batch.cancel() and batch.wait(30)
    assert [j.status for j in batch.view().jobs] == [JobStatus.CANCELLED] * 2
