"""The runner with the real Blender: renders, failures, cancelling, hooks, logs, clean-up."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import frame_marker, make_recipe
from tests.frames import PNG
from tests.procs import cpu_seconds, pids_in_group
from tests.waiting import wait_for

pytestmark = pytest.mark.blender
Factory = Callable[..., Path]
Fake = Callable[[str], str]


def run(recipe: Any, **options: Any) -> tuple[Batch, dict[str, Any]]:
    batch = Batch(recipe, RunOptions(**options))
    progress_seen: list[list[float]] = [[] for _ in recipe.jobs]

    def watch() -> None:  # every revision the batch goes through, as a poller would see it
        revision = -1
        while not batch.wait(0):
            revision = batch.wait_change(revision, timeout=1.0)
            for job in batch.view().jobs:
                progress_seen[job.id].append(job.progress)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    status = batch.run()
    watcher.join(5)
    snapshot = batch.snapshot()
    assert snapshot["status"] == status
    snapshot["progress_seen"] = progress_seen
    return batch, snapshot


def assert_finished(entry: dict[str, Any], frames: int) -> None:
    assert entry["status"] == "FINISHED", entry["messages"]
    assert entry["progress"] == 100
    assert entry["frames_done"] == entry["frames_total"] == frames
    assert len(entry["outputs"]) == frames
    assert all(Path(p).stat().st_size > 0 for p in entry["outputs"])
    times = entry["times"]
    assert times["started"] < times["finished"]
    assert times["rendertime"] == pytest.approx(times["finished"] - times["started"])


def test_cycles_still_and_animation_and_workbench(tmp_path: Path, blend_factory: Factory) -> None:
    cycles = blend_factory(engine="CYCLES")
    workbench = blend_factory(engine="BLENDER_WORKBENCH")
    recipe = make_recipe([
        {"blend_file": str(cycles), "output": str(tmp_path / "still")},
        {"blend_file": str(cycles), "output": str(tmp_path / "anim"), "animated": True,
         "frame_start": 1, "frame_end": 3},
        {"blend_file": str(workbench), "output": str(tmp_path / "wb"), "animated": True,
         "frame_start": 1, "frame_end": 3},
        {"blend_file": str(cycles), "enabled": False},
    ])
    batch, snap = run(recipe)
    assert snap["status"] == "FINISHED" and snap["messages"] == []
    still, anim, workbench_job, disabled = snap["jobs"]
    assert_finished(still, 1)
    assert_finished(anim, 3)
    assert_finished(workbench_job, 3)
    assert [Path(p).name for p in anim["outputs"]] == ["anim_0001.png", "anim_0002.png", "anim_0003.png"]
    assert still["engine"]["type"] == "CYCLES" and workbench_job["engine"]["type"] == "BLENDER_WORKBENCH"
    assert disabled["status"] == "DISABLED" and disabled["times"]["started"] is None
    # progress only ever grows, over the whole animation
    for seen in snap["progress_seen"][:3]:
        assert seen == sorted(seen) and seen[-1] == 100
    assert any(0 < p < 100 for p in snap["progress_seen"][1])
    stats = snap["stats"]
    rendertimes = {e["id"]: e["times"]["rendertime"] for e in snap["jobs"][:3]}
    assert stats["slowest_time"] == max(rendertimes.values())
    assert stats["fastest_time"] == min(rendertimes.values())
    assert rendertimes[stats["slowest_index"]] == stats["slowest_time"]
    assert stats["average_time"] == pytest.approx(sum(rendertimes.values()) / 3)
    assert snap["times"]["rendertime"] >= sum(rendertimes.values())
    assert snap["current_job"] is None and batch.failed_jobs == 0


@pytest.mark.slow
def test_eevee_still(tmp_path: Path, blend_factory: Factory) -> None:
    recipe = make_recipe([{"blend_file": str(blend_factory(engine="BLENDER_EEVEE")),
                           "output": str(tmp_path / "ev")}])
    _, snap = run(recipe)
    assert_finished(snap["jobs"][0], 1)
    assert snap["jobs"][0]["engine"]["type"] == "BLENDER_EEVEE"
    data = snap["jobs"][0]["engine"]["data"] or {}
    assert "samples_todo" not in data and "remaining" not in data  # no stale per-frame data


def test_failed_jobs_name_the_problem_and_the_batch_goes_on(tmp_path: Path, blend_factory: Factory) -> None:
    blend = blend_factory()
    recipe = make_recipe([
        {"blend_file": str(tmp_path / "missing.blend"), "output": str(tmp_path / "a")},
        {"blend_file": str(blend), "camera": "NoSuchCam", "output": str(tmp_path / "b")},
        {"blend_file": str(blend), "output": str(tmp_path / "c"),
         "custom_overrides": [{"path": 'data.objects["Nope"].hide_render', "value": True}]},
        {"blend_file": str(blend), "output": str(tmp_path / "d")},
    ])
    batch, snap = run(recipe)
    assert snap["status"] == "FINISHED"
    missing, nocam, override, good = snap["jobs"]
    assert missing["status"] == "FAILED"
    assert "Blend file not found" in missing["messages"][0] and "missing.blend" in missing["messages"][0]
    assert nocam["status"] == "FAILED" and "Camera 'NoSuchCam' not found" in nocam["messages"][0]
    assert override["status"] == "FAILED" and "bpy.data.objects has no 'Nope'" in override["messages"][0]
    assert_finished(good, 1)
    assert batch.failed_jobs == 3
    assert "3 of 4 jobs failed" in snap["messages"]
    assert not list(tmp_path.glob("b_*")) and not list(tmp_path.glob("c_*"))
    assert snap["stats"]["fastest_index"] == 3  # only finished jobs count


def slow_scene(blend_factory: Factory) -> Path:
    return blend_factory(size=(320, 240), samples=4000, frames=3)


def rendering(batch: Batch, job: int) -> bool:
    entry = batch.view().job(job).to_json()
    samples = (entry["engine"]["data"] or {}).get("samples_done")
    return entry["status"] == "RUNNING" and samples not in (None, "0")


@pytest.mark.slow
def test_cancel_batch_mid_render(tmp_path: Path, blend_factory: Factory) -> None:
    blend = slow_scene(blend_factory)
    recipe = make_recipe([
        {"blend_file": str(blend), "output": str(tmp_path / "slow"), "animated": True,
         "frame_start": 1, "frame_end": 3},
        {"blend_file": str(blend), "output": str(tmp_path / "never")},
    ], hooks={"POST_BATCH": [{"cmd": f"touch {tmp_path / 'post_batch_ran'}"}]})
    batch = Batch(recipe, RunOptions(kill_grace=2.0))
    batch.start()
    wait_for(lambda: rendering(batch, 0))
    handle = batch.handle(0)
    assert handle is not None and handle.pgid is not None
    pgid = handle.pgid
    assert batch.cancel()
    assert batch.wait(30)
    snap = batch.snapshot()
    assert snap["status"] == "CANCELLED"
    assert [j["status"] for j in snap["jobs"]] == ["CANCELLED", "CANCELLED"]
    assert snap["jobs"][0]["outputs"] == []  # nothing half-written is claimed
    assert not list(tmp_path.glob("slow_*")) and not list(tmp_path.glob("never_*"))
    assert pids_in_group(pgid) == []
    assert all(v is None for v in snap["stats"].values())
    assert not (tmp_path / "post_batch_ran").exists()
    assert not batch.cancel()  # nothing left to cancel


@pytest.mark.slow
def test_cancel_current_job_moves_on(tmp_path: Path, blend_factory: Factory) -> None:
    recipe = make_recipe([
        {"blend_file": str(slow_scene(blend_factory)), "output": str(tmp_path / "slow")},
        {"blend_file": str(blend_factory()), "output": str(tmp_path / "next")},
    ])
    batch = Batch(recipe)
    batch.start()
    wait_for(lambda: rendering(batch, 0))
    assert batch.cancel_current_job()
    assert batch.wait(60)
    snap = batch.snapshot()
    assert snap["status"] == "FINISHED"
    assert snap["jobs"][0]["status"] == "CANCELLED"
    assert_finished(snap["jobs"][1], 1)


def test_hooks_run_in_order_with_output_captured(tmp_path: Path, blend_factory: Factory) -> None:
    trail = tmp_path / "trail.txt"
    blend = blend_factory()

    def hook(text: str) -> dict[str, Any]:
        return {"cmd": f"echo {text} >> {trail}; echo said-{text}"}

    recipe = make_recipe([
        {"blend_file": str(blend), "output": str(tmp_path / "one"),
         "hooks": {"PRE_JOB": [hook("pre0"), {"cmd": "echo off", "enabled": False}],
                   "POST_JOB": [hook("post0"), {"cmd": f"echo $RENDERPLUS_OUTPUTS >> {trail}"}]}},
        {"blend_file": str(blend), "output": str(tmp_path / "two"),
         "hooks": {"PRE_JOB": [{"cmd": "echo failing; exit 3"}], "POST_JOB": [hook("post1")]}},
    ], hooks={"PRE_BATCH": [hook("prebatch")],
              "POST_BATCH": [hook("postbatch"), {"cmd": "exit 4"}]})
    _, snap = run(recipe)
    lines = trail.read_text().split()
    assert lines == ["prebatch", "pre0", "post0", str(tmp_path / "one_0001.png"), "post1", "postbatch"]
    outputs = [(h["phase"], h["job"], h["output"]) for h in snap["hooks"]]
    assert ("PRE_BATCH", None, "said-prebatch") in outputs
    assert ("PRE_JOB", 0, "said-pre0") in outputs
    assert ("PRE_JOB", 1, "failing") in outputs
    second = snap["jobs"][1]
    assert second["status"] == "FAILED"
    assert any("PRE_JOB hook failed (exit code 3)" in m for m in second["messages"])
    assert not list(tmp_path.glob("two_*"))  # the failing PRE_JOB stopped the render
    assert any("POST_BATCH hook failed (exit code 4)" in m for m in snap["messages"])
    assert snap["status"] == "FINISHED"


def test_log_file_holds_commands_hooks_and_blender_output(tmp_path: Path, blend_factory: Factory) -> None:
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / "x")}],
                         hooks={"PRE_BATCH": [{"cmd": "echo hook-output-here"}]},
                         notifications={"mail": {"pass": "s3cret-pw"}})
    batch, _ = run(recipe, write_log=True, log_dir=str(tmp_path / "log"))
    logs = list((tmp_path / "log").iterdir())
    assert len(logs) == 1 and logs[0].name.startswith("renderplus_")
    assert logs[0] == batch.log.path
    text = logs[0].read_text()
    assert "hook-output-here" in text
    assert "--python-exit-code" in text and " -f 1" in text
    assert "Saved: '" in text and "Blender exited with code 0" in text
    assert "s3cret-pw" not in text


def test_log_is_off_unless_asked(tmp_path: Path, blend_factory: Factory) -> None:
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / "x")}])
    batch, _ = run(recipe, log_dir=str(tmp_path / "log"))
    assert not (tmp_path / "log").exists() and batch.log.path is None


# ------------------------------------------------------------------ faults (fake Blender)


def test_exit_zero_without_output_fails(tmp_path: Path, blend_factory: Factory, fake_blender: Fake) -> None:
    fake = fake_blender('print("Blender 3.4.1")\n'
                        'print("Fra:1 Mem:1M (Peak 1M) | Time:00:00.01 | Sample 1/4")')
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / "x")}],
                         blender_bin=fake)
    _, snap = run(recipe)
    job = snap["jobs"][0]
    assert job["status"] == "FAILED"
    assert "without writing every frame: 0 of 1 written" in job["messages"][0]


def test_claimed_output_that_is_missing_fails(tmp_path: Path, blend_factory: Factory,
                                              fake_blender: Fake) -> None:
    ghost = tmp_path / "ghost_0001.png"
    fake = fake_blender(f"print({frame_marker(1, str(ghost))!r})")
    recipe = make_recipe([{"blend_file": str(blend_factory())}], blender_bin=fake)
    _, snap = run(recipe)
    job = snap["jobs"][0]
    assert job["status"] == "FAILED"
    # the frame's check waits for it (a network disk may show it late), renders it once more,
    # then fails the job naming it
    assert job["messages"][0].startswith("Frame 1 failed its check: ghost_0001.png is missing")
    assert job["messages"][-1] == "Frame 1 failed its check twice: ghost_0001.png is missing"


def test_error_line_and_exit_code_fail_the_job(tmp_path: Path, blend_factory: Factory,
                                               fake_blender: Fake) -> None:
    fake = fake_blender('print("Error: Build without OpenImageDenoiser"); sys.exit(1)')
    recipe = make_recipe([{"blend_file": str(blend_factory())}], blender_bin=fake)
    _, snap = run(recipe)
    message = snap["jobs"][0]["messages"][0]
    assert "exit code 1" in message and "Build without OpenImageDenoiser" in message


def test_each_job_has_its_own_tmpdir_removed_afterwards(
        tmp_path: Path, blend_factory: Factory, fake_blender: Fake) -> None:
    record = tmp_path / "tmpdirs.txt"
    out = tmp_path / "o_0001.png"
    fake = fake_blender(f"""
        open({str(record)!r}, "a").write(os.environ["TMPDIR"] + "\\n")
        open(os.path.join(os.environ["TMPDIR"], "blender_junk"), "w").write("x")
        open({str(out)!r}, "wb").write({PNG!r})
        print({frame_marker(1, str(out))!r})
    """)
    recipe = make_recipe([{"blend_file": str(blend_factory())}, {"blend_file": str(blend_factory())}],
                         blender_bin=fake)
    _, snap = run(recipe)
    assert [j["status"] for j in snap["jobs"]] == ["FINISHED", "FINISHED"]
    first, second = record.read_text().split()
    assert first != second
    assert not os.path.exists(first) and not os.path.exists(second)
    _, snap = run(make_recipe([{"blend_file": str(blend_factory())}], blender_bin=fake), cleanup=False)
    kept = record.read_text().split()[-1]
    assert os.path.exists(os.path.join(kept, "blender_junk"))


def test_huge_output_never_blocks_blender(tmp_path: Path, blend_factory: Factory, fake_blender: Fake) -> None:
    out = tmp_path / "o_0001.png"
    fake = fake_blender(f"""
        line = ("Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.09 | Mem:0.76M, Peak:0.76M"
                " | Scene, ViewLayer | Sample 1/4\\n")
        sys.stdout.write(line * 100000)
        sys.stdout.flush()
        open({str(out)!r}, "wb").write({PNG!r})
        print({frame_marker(1, str(out))!r})
    """)
    recipe = make_recipe([{"blend_file": str(blend_factory())}], blender_bin=fake)
    batch = Batch(recipe)
    batch.start()
    assert batch.wait(60), "the runner stopped draining stdout"
    assert batch.snapshot()["jobs"][0]["status"] == "FINISHED"


def test_cancel_kills_children_and_survives_sigterm_ignorers(
        tmp_path: Path, blend_factory: Factory, fake_blender: Fake) -> None:
    fake = fake_blender("""
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        subprocess.Popen(["sleep", "300"])
        print("Fra:1 Mem:1M (Peak 1M) | Time:00:00.01 | Sample 1/4", flush=True)
        time.sleep(300)
    """)
    recipe = make_recipe([{"blend_file": str(blend_factory())}], blender_bin=fake)
    batch = Batch(recipe, RunOptions(kill_grace=0.5))
    batch.start()
    wait_for(lambda: batch.view().job(0).to_json()["engine"]["data"] is not None)
    handle = batch.handle(0)
    assert handle is not None and handle.pgid is not None
    pgid = handle.pgid
    assert len(pids_in_group(pgid)) == 2
    batch.cancel()
    assert batch.wait(15)
    assert batch.snapshot()["jobs"][0]["status"] == "CANCELLED"
    assert pids_in_group(pgid) == []


def test_missing_blender_binary_fails_each_job_clearly(tmp_path: Path, blend_factory: Factory) -> None:
    recipe = make_recipe([{"blend_file": str(blend_factory())}],
                         blender_bin=str(tmp_path / "no-blender"))
    _, snap = run(recipe)
    assert snap["jobs"][0]["status"] == "FAILED"
    assert "Cannot start Blender" in snap["jobs"][0]["messages"][0]


def test_snapshot_is_safe_from_other_threads_while_running(tmp_path: Path, blend_factory: Factory) -> None:
    blend = blend_factory()
    recipe = make_recipe([{"blend_file": str(blend), "output": str(tmp_path / f"j{i}")} for i in range(2)])
    batch = Batch(recipe)
    errors: list[BaseException] = []
    statuses: set[str] = set()

    def poll() -> None:
        try:
            while not batch.wait(0.01):
                snap = batch.snapshot()
                statuses.add(snap["status"])
                assert len(snap["jobs"]) == 2
                assert batch.view().json_bytes
        except BaseException as exc:
            errors.append(exc)

    batch.start()
    pollers = [threading.Thread(target=poll) for _ in range(4)]
    for thread in pollers:
        thread.start()
    for thread in pollers:
        thread.join(60)
    assert errors == []
    assert statuses == {"RUNNING"} or statuses == {"RUNNING", "FINISHED"}
    assert batch.snapshot()["status"] == "FINISHED"


def test_a_batch_runs_once(blend_factory: Factory) -> None:
    batch = Batch(make_recipe([{"blend_file": str(blend_factory())}], blender_bin="/bin/false"))
    batch.run()
    with pytest.raises(RuntimeError):
        batch.run()
    with pytest.raises(RuntimeError):
        batch.start()


_ORPHAN_DRIVER = """
import json, sys, time
sys.path.insert(0, {root!r})
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import Batch
batch = Batch(parse_recipe(json.loads({recipe!r})))
batch.start()
while batch.handle(0) is None:
    time.sleep(0.05)
print(batch.handle(0).pgid, flush=True)
time.sleep(300)
"""


@pytest.mark.slow
def test_blender_ends_itself_when_render_plus_is_killed(tmp_path: Path, blend_factory: Factory) -> None:
    """Even a SIGKILLed runner (no cleanup code runs) leaves no Blender rendering on."""
    import json
    import signal
    import subprocess
    import sys

    recipe = json.dumps({"version": 2.2, "jobs": [
        {"id": 0, "blend_file": str(slow_scene(blend_factory)), "output": str(tmp_path / "o")}]})
    root = str(Path(__file__).resolve().parents[2])
    driver = subprocess.Popen([sys.executable, "-c", _ORPHAN_DRIVER.format(root=root, recipe=recipe)],
                              stdout=subprocess.PIPE, text=True)
    assert driver.stdout is not None
    blender_pgid = int(driver.stdout.readline())
    wait_for(lambda: cpu_seconds(pids_in_group(blender_pgid)) >= 2.0, timeout=120)  # rendering
    driver.send_signal(signal.SIGKILL)
    driver.wait(10)
    wait_for(lambda: not pids_in_group(blender_pgid), timeout=15)
