"""End to end with the real Blender: ``--serve`` in its own process, changed, paused, queued and
killed over HTTP and through the CLI's client flags (docs/api.md, The queue; Changing a batch;
Pause). Each test waits on what the server or /proc shows, never on a clock."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.procs import processes_with

from .helpers import ServerProcess, call, wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
BLENDER = shutil.which("blender") or "/usr/bin/blender"
Serve = Callable[..., ServerProcess]


@pytest.fixture
def scene(tmp_path: Path, blend_factory: Callable[..., Path]) -> Path:
    """A .blend of this test's own (its path finds this test's Blenders in /proc) whose frames
    take a few tenths of a second each."""
    return Path(shutil.copy(blend_factory(size=(96, 72), samples=100, frames=6),
                            tmp_path / "scene.blend"))


def job(scene: Path, out: Path, name: str, frames: int) -> dict[str, Any]:
    return {"name": name, "blend_file": str(scene), "output": str(out / f"{name}_"),
            "animated": True, "frame_start": 1, "frame_end": frames}


def recipe(name: str, jobs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": 2.2, "name": name, "blender_bin": BLENDER,
            "jobs": [{"id": index, **each} for index, each in enumerate(jobs)]}


def poll(server: ServerProcess) -> dict[str, Any]:
    data: dict[str, Any] = call(server.port, "GET", "/batch").data
    return data


def ended(server: ServerProcess, name: str, status: str = "FINISHED") -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        data = poll(server)
        return data if data["name"] == name and data["status"] == status else None
    result: dict[str, Any] = wait_for(done, timeout=240, interval=0.2)
    return result


def frames(out: Path) -> dict[str, tuple[int, int]]:
    """Each written frame's inode and mtime (ns)."""
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in out.glob("*.png")}


def paused_without_blender(server: ServerProcess, scene: Path) -> dict[str, Any]:
    data: dict[str, Any] = wait_for(lambda: (d := poll(server))["status"] == "PAUSED" and d,
                                    timeout=60, interval=0.1)
    assert processes_with(str(scene)) == []   # no Blender left, no idle session either
    return data


def test_a_job_added_and_moved_runs_next_and_a_pause_keeps_the_frames(
        serve: Serve, scene: Path, tmp_path: Path) -> None:
    server, out = serve(), tmp_path / "out"
    data = recipe("edited", [job(scene, out, "a", 6), job(scene, out, "b", 2)])
    assert call(server.port, "POST", "/batch/recipe", data).code == 200
    assert call(server.port, "GET", "/batch/start").code == 200
    wait_for(lambda: (out / "a_0001.png").exists(), timeout=120, interval=0.05)
    added = call(server.port, "POST", "/batch/jobs", job(scene, out, "c", 1))
    assert added.code == 201 and added.data["ids"] == [2]
    moved = call(server.port, "PATCH", "/batch/jobs/2", {"position": 0})
    assert moved.code == 200 and moved.data["order"] == [0, 2, 1]
    assert poll(server)["order"] == [0, 2, 1]
    paused = call(server.port, "POST", "/batch/pause", {"when": "frame"})
    assert paused.code == 200 and paused.data["when"] == "frame"
    view = paused_without_blender(server, scene)
    kept = frames(out)
    assert kept and view["order"][-2:] == [2, 1]   # the added job still runs before b
    assert [j["status"] for j in view["jobs"]][1:] == ["QUEUED", "QUEUED"]
    resumed = call(server.port, "GET", "/batch/resume")
    assert resumed.code == 200 and resumed.data["status"] == "Batch continued"
    final = ended(server, "edited")
    assert final["order"] == [0, 2, 1]   # ended jobs in the order they ran: c before b
    assert sorted(frames(out)) == ["a_0001.png", "a_0002.png", "a_0003.png", "a_0004.png",
                                   "a_0005.png", "a_0006.png", "b_0001.png", "b_0002.png",
                                   "c_0001.png"]
    now = frames(out)
    assert {name: now[name] for name in kept} == kept   # only what was missing rendered


def write_recipe(folder: Path, data: dict[str, Any]) -> Path:
    path = folder / f"{data['name']}.json"
    path.write_text(json.dumps(data))
    return path


def test_queued_batches_run_one_after_another_held_paused_and_resumed_by_the_cli(
        serve: Serve, scene: Path, tmp_path: Path) -> None:
    server, out = serve(), tmp_path / "out"
    first = recipe("first", [job(scene, out, "first", 6)])
    assert call(server.port, "POST", "/queue", first).data["started"] is True
    wait_for(lambda: processes_with(str(scene)), timeout=60, interval=0.05)
    queued = server.client("--queue", str(write_recipe(tmp_path, recipe("second", [
        job(scene, out, "second", 4)]))))
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout == "Batch 'second' queued at position 0 (queue id 2)\n"
    third = call(server.port, "POST", "/queue", recipe("third", [job(scene, out, "third", 1)]))
    assert third.code == 201 and third.data["position"] == 1
    listed = server.client("--queue-list")
    assert listed.returncode == 0 and listed.stdout.splitlines()[-1] == "2 batches queued"
    assert [line.split()[-1] for line in listed.stdout.splitlines()[1:3]] == ["second", "third"]
    assert call(server.port, "POST", "/queue/hold").data["held"] is True
    ended(server, "first")
    held = call(server.port, "GET", "/queue").data    # the hand-over ran and kept the queue
    assert held["held"] is True and [b["name"] for b in held["batches"]] == ["second", "third"]
    assert poll(server)["name"] == "first"
    assert call(server.port, "POST", "/queue/continue").code == 200
    wait_for(lambda: (out / "second_0001.png").exists(), timeout=120, interval=0.05)
    pausing = server.client("--pause", "now")
    assert pausing.returncode == 0 and pausing.stdout.startswith("Pausing now"), pausing.stderr
    view = paused_without_blender(server, scene)
    assert view["name"] == "second" and call(server.port, "GET", "/queue").data["batches"]
    resumed = server.client("--resume")
    assert resumed.returncode == 0 and resumed.stdout.startswith("Batch continued"), resumed.stderr
    ended(server, "third")
    history = [b["name"] for b in call(server.port, "GET", "/batches").data["batches"]]
    assert history[:3] == ["third", "second", "first"]
    assert call(server.port, "GET", "/queue").data["batches"] == []
    assert len(list(out.glob("second_*.png"))) == 4


def test_a_killed_server_finds_its_queue_held_and_goes_on_when_asked(
        serve: Serve, scene: Path, tmp_path: Path) -> None:
    work, out = tmp_path / "kept-work", tmp_path / "out"
    server = serve(work_dir=work)
    assert call(server.port, "POST", "/queue", recipe("running", [job(scene, out, "r", 6)])).code == 201
    wait_for(lambda: processes_with(str(scene)), timeout=60, interval=0.05)
    assert call(server.port, "POST", "/queue", recipe("waiting", [job(scene, out, "w", 1)])).code == 201
    server.process.kill()
    server.process.wait()
    again = serve(work_dir=work)
    queue = call(again.port, "GET", "/queue").data
    assert queue["held"] is True and [b["name"] for b in queue["batches"]] == ["waiting"]
    assert processes_with(str(scene)) == []   # the dead server's Blender was ended
    interrupted = poll(again)
    assert interrupted["name"] == "running" and interrupted.get("resumable") is True
    assert call(again.port, "POST", "/queue/continue").data["held"] is False
    wait_for(lambda: poll(again)["status"] == "RUNNING" and processes_with(str(scene)),
             timeout=60, interval=0.05)   # the queue's interrupted batch goes first
    again.process.kill()
    again.process.wait()
    going = serve("--continue-queue", work_dir=work)
    ended(going, "waiting")   # after the queue's interrupted batch, which goes first
    history = call(going.port, "GET", "/batches").data["batches"]
    assert [(b["name"], b["status"]) for b in history] == [("waiting", "FINISHED"),
                                                           ("running", "FINISHED")]
    assert call(going.port, "GET", "/queue").data == {
        "held": False, "batches": [], "estimated_end": None, "status": "The queue is empty"}
    assert (out / "w_0001.png").exists() and len(list(out.glob("r_*.png"))) == 6
