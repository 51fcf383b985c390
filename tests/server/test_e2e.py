"""End to end: ``--serve`` in its own process, real Blender renders, cancel, ``--stop``."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.procs import processes_with

from .helpers import ROOT, ServerProcess, call, multipart, port_is_free, wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
BLENDER = shutil.which("blender") or "/usr/bin/blender"


def recipe(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    for index, job in enumerate(jobs):
        job.setdefault("id", index)
        job.setdefault("name", f"job {index}")
    return {"version": 2.2, "name": "e2e batch", "blender_bin": BLENDER, "jobs": jobs}


def job(blend: Path, output: Path) -> dict[str, Any]:
    return {"blend_file": str(blend), "output": str(output)}


def poll_until_ended(port: int, timeout: float = 240) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        data = call(port, "GET", "/batch").data
        return data if data["status"] in ("FINISHED", "CANCELLED") else None
    result: dict[str, Any] = wait_for(ended, timeout=timeout, interval=0.25)
    return result


@pytest.fixture
def slow_blend(blend_factory: Callable[..., Path], tmp_path: Path) -> Path:
    """A render that takes far longer than any test waits (it gets cancelled)."""
    target = tmp_path / "slow-e2e.blend"
    shutil.copyfile(blend_factory(samples=5000, size=(320, 240), frames=1), target)
    return target


def start_rendering(server: ServerProcess, jobs: list[dict[str, Any]], blend: Path) -> None:
    assert call(server.port, "POST", "/batch/recipe", recipe(jobs)).code == 200
    assert call(server.port, "GET", "/batch/start").code == 200
    wait_for(lambda: processes_with(str(blend)))


def test_upload_recipe_start_poll_until_finished(serve: Callable[..., ServerProcess],
                                                  blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    server = serve()
    source = blend_factory(frames=3, compress=True)
    body, content_type = multipart({"file": ("shot.blend", source.read_bytes())})
    stored = call(server.port, "POST", "/batch/file", body, content_type=content_type)
    assert stored.code == 201
    out = tmp_path / "renders"
    jobs = [{"blend_file": "shot.blend", "output": str(out / "still_")},  # relative: the work folder
            {"blend_file": stored.data["path"], "output": str(out / "anim_"), "animated": True,
             "frame_start": 1, "frame_end": 3},
            {"blend_file": "shot.blend", "enabled": False}]
    assert call(server.port, "POST", "/batch/recipe", recipe(jobs)).code == 200
    assert call(server.port, "GET", "/batch/ready").data["ready"] is True
    assert call(server.port, "GET", "/batch/start").code == 200
    poller = subprocess.Popen([sys.executable, "-m", "renderplus.server", "--poll", "--print-stats",
                               "--port", str(server.port)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    final = poll_until_ended(server.port)
    assert final["status"] == "FINISHED"
    assert [job["status"] for job in final["jobs"]] == ["FINISHED", "FINISHED", "DISABLED"]
    assert sorted(p.name for p in out.iterdir()) == ["anim_0001.png", "anim_0002.png", "anim_0003.png",
                                                     "still_0001.png"]
    assert all(p.stat().st_size > 0 for p in out.iterdir())
    stats = final["stats"]
    assert stats["average_time"] > 0 and stats["fastest_index"] in (0, 1) and stats["slowest_index"] in (0, 1)
    assert final["times"]["rendertime"] > 0 and final["current_job"] is None
    job = call(server.port, "GET", "/batch/jobs/1").data
    assert job["progress"] == 100 and job["engine"]["type"] == "CYCLES" and job["frames_done"] == 3
    poll_out, _ = poller.communicate(timeout=60)
    assert poller.returncode == 0
    assert "Batch FINISHED" in poll_out and "BATCH STATS" in poll_out and "[####" in poll_out
    poll_job = server.client("--poll-job", "1")
    assert poll_job.returncode == 0 and "Job 1 FINISHED" in poll_job.stdout


def test_delete_batch_mid_render_cancels_and_ends_blender(serve: Callable[..., ServerProcess],
                                                          slow_blend: Path, tmp_path: Path) -> None:
    server = serve()
    start_rendering(server, [job(slow_blend, tmp_path / "o" / "a_"),
                             job(slow_blend, tmp_path / "o" / "b_")], slow_blend)
    assert call(server.port, "GET", "/batch").data["jobs"][0]["status"] == "RUNNING"
    answer = call(server.port, "DELETE", "/batch")
    assert answer.code == 200
    final = call(server.port, "GET", "/batch").data
    assert final["status"] == "CANCELLED"
    assert [job["status"] for job in final["jobs"]] == ["CANCELLED", "CANCELLED"]
    assert processes_with(str(slow_blend)) == []


def test_cancel_job_mid_render_goes_on_with_the_next(serve: Callable[..., ServerProcess],
                                                     slow_blend: Path, blend_factory: Callable[..., Path],
                                                     tmp_path: Path) -> None:
    server = serve()
    quick = blend_factory(frames=1)
    start_rendering(server, [job(slow_blend, tmp_path / "o" / "slow_"),
                             job(quick, tmp_path / "o" / "quick_")], slow_blend)
    result = server.client("--cancel-job")
    assert result.returncode == 0 and "Job 0 cancelled" in result.stdout
    final = poll_until_ended(server.port)
    assert final["status"] == "FINISHED"
    assert [job["status"] for job in final["jobs"]] == ["CANCELLED", "FINISHED"]
    assert (tmp_path / "o" / "quick_0001.png").exists()
    assert processes_with(str(slow_blend)) == []


def test_stop_mid_render_cancels_ends_the_server_and_frees_the_port(
        serve: Callable[..., ServerProcess], slow_blend: Path, tmp_path: Path) -> None:
    server = serve()
    start_rendering(server, [job(slow_blend, tmp_path / "o" / "a_")], slow_blend)
    result = server.client("--stop")
    assert result.returncode == 0
    code, out = server.finish()
    assert code == 0 and "Batch CANCELLED" in out
    assert port_is_free(server.port)
    assert processes_with(str(slow_blend)) == []


def test_ctrl_c_on_the_server_mid_render_leaves_nothing_running(serve: Callable[..., ServerProcess],
                                                                slow_blend: Path, tmp_path: Path) -> None:
    server = serve()
    start_rendering(server, [job(slow_blend, tmp_path / "o" / "a_")], slow_blend)
    server.process.send_signal(signal.SIGINT)
    code, out = server.finish()
    assert code == 0 and "Batch CANCELLED" in out
    assert port_is_free(server.port)
    assert processes_with(str(slow_blend)) == []
