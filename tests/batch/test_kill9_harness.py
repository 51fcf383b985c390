"""The kill -9 harness (bench/kill9.py): its quick form against real Blender for the scenarios
that hold today, and, without Blender, the measures it counts with.

Each Blender test kills a real standalone server with SIGKILL at seeded moments while real
Blender renders, restarts it on the same --work-dir, resumes over HTTP until the batch ends, and
asserts what the issue asks of every such run: no frame lost, no recorded frame rendered again,
no process left. Scenarios join ``HOLDING`` once the code they exercise holds under kill -9.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import kill9_measure as measure
from bench.kill9 import quick, run
from bench.kill9_round import Config
from bench.kill9_scenarios import BY_NAME, STUBBORN_HOOK
from bench.kill9_server import MARK_VAR
from tests.blendfiles import BLENDER
from tests.procs import is_alive
from tests.waiting import wait_for

HOLDING = ("process", "parallel", "session", "hook", "two-servers")
SEEDS = range(19, 27)   # a timed moment may still fall after a fast batch: the next seed draws again


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.parametrize("name", HOLDING)
def test_kill9_loses_no_frame_renders_no_recorded_frame_again_and_leaves_no_process(
        name: str, tmp_path: Path) -> None:
    killed = 0
    for seed in SEEDS:   # a seed whose moments all fall after a fast batch's end kills nothing
        [tally] = run([BY_NAME[name]], rounds=1, seed=seed, config=quick(Config(blender=BLENDER)),
                      base=tmp_path / str(seed), say=False)
        [result] = tally.rounds
        assert result.problems == []
        assert result.frames == 6
        assert (result.lost, result.again, result.left, result.together, result.late) == \
            ([], [], [], [], [])
        killed = result.kills
        if killed:
            break
    assert killed >= 1                            # some seed's moments fell inside the batch


# ---------------------------------------------------------------- the measures, without Blender


def write_png(path: Path, complete: bool = True) -> Path:
    path.write_bytes(measure.PNG_SIGNATURE + b"\0" * 32 + (measure.PNG_END if complete else b""))
    return path


def test_a_cut_or_missing_frame_is_lost_and_a_complete_one_is_not(tmp_path: Path) -> None:
    whole, cut = write_png(tmp_path / "a.png"), write_png(tmp_path / "b.png", complete=False)
    assert measure.complete_png(whole) and not measure.complete_png(cut)
    assert measure.lost_frames([whole, cut, tmp_path / "gone.png"]) == [cut, tmp_path / "gone.png"]


def test_a_recorded_frame_rewritten_later_counts_as_rendered_again(tmp_path: Path) -> None:
    kept, redone = write_png(tmp_path / "kept.png"), write_png(tmp_path / "redone.png")
    recorded = {}
    for path in (kept, redone):
        info = path.stat()
        recorded[str(path)] = (info.st_size, info.st_mtime_ns, info.st_ino)
    redone.unlink()
    write_png(redone)   # a new file at the path: another inode
    assert measure.rendered_again(recorded) == [str(redone)]


def test_the_store_frames_table_is_read_as_recorded(tmp_path: Path) -> None:
    import sqlite3

    assert measure.recorded_frames(tmp_path) == {}
    conn = sqlite3.connect(tmp_path / "renderplus.db")
    conn.execute("CREATE TABLE frames (batch_id, job_id, frame, path, size, mtime_ns, inode)")
    conn.execute("INSERT INTO frames VALUES (1, 0, 1, '/out/a.png', 10, 20, 30)")
    conn.commit()
    conn.close()
    assert measure.recorded_frames(tmp_path) == {"/out/a.png": (10, 20, 30)}


def test_saved_lines_are_counted_per_path_over_the_logs(tmp_path: Path) -> None:
    (tmp_path / "renderplus_01-01-2026-00-00-00").write_text(
        "Saved: '/out/a.png'\n Time: 00:00.10\nSaved: '/out/b.png'\n")
    (tmp_path / "renderplus_01-01-2026-00-00-01").write_text("Saved: '/out/a.png'\n")
    (tmp_path / "server-output.txt").write_text("Saved: '/out/a.png'\n")   # not a batch log
    assert measure.saved_counts(tmp_path) == {"/out/a.png": 2, "/out/b.png": 1}


def test_a_marked_process_that_ignores_term_is_found_counted_and_ended() -> None:
    mark = f"kill9-test-{os.getpid()}"
    child = subprocess.Popen(["/bin/sh", "-c", STUBBORN_HOOK], env={**os.environ, MARK_VAR: mark},
                             start_new_session=True)
    try:
        wait_for(lambda: len(measure.marked_processes(lambda m: m == mark)) >= 2, timeout=10)  # sh, sleep
        assert child.pid in measure.marked_processes(lambda m: m == mark)
        assert measure.marked_processes(lambda m: m == "another mark") == {}
        left = measure.left_running(lambda m: m == mark, grace=0.5)   # its parent lives: it waits 2 s
        assert child.pid in left and "trap" in left[child.pid]
        child.wait(10)
        assert not is_alive(child.pid)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_the_harness_explains_itself_and_refuses_an_unknown_scenario() -> None:
    root = Path(__file__).resolve().parents[2]
    shown = subprocess.run([sys.executable, "bench/kill9.py", "--help"], cwd=root,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "processes left" in shown.stdout
    wrong = subprocess.run([sys.executable, "bench/kill9.py", "--scenario", "nope"], cwd=root,
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
