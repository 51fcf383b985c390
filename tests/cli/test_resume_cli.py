"""``--recipe`` killed, then ``--resume``: the same survival through the command line, and
``--history`` listing what the store holds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.store import BatchStore
from tests.procs import processes_with
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "renderplus.server", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, **kwargs)  # type: ignore[call-overload]


def test_recipe_killed_then_resume_renders_only_the_missing_frames(
        tmp_path: Path, blend_factory: Callable[..., Path]) -> None:
    blend = blend_factory(size=(96, 72), samples=600, frames=4)
    out = tmp_path / "out"
    recipe = tmp_path / "night.json"
    recipe.write_text(json.dumps({"version": 2.2, "name": "cli night", "jobs": [
        {"id": i, "name": f"shot{i}", "blend_file": str(blend), "animated": True,
         "frame_start": 1, "frame_end": 3, "output": str(out / f"shot{i}_####")}
        for i in range(2)]}))
    work = tmp_path / "work"
    assert "No batches in the store" in cli("--history", "--work-dir", str(work)).stdout
    run = subprocess.Popen([sys.executable, "-m", "renderplus.server", "--recipe", str(recipe),
                            "--work-dir", str(work)], cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    wait_for(lambda: run.poll() is not None or len(list(out.glob("shot1_*.png"))) >= 2,
             timeout=120)  # frame 1 is recorded by then
    assert run.poll() is None
    run.send_signal(signal.SIGKILL)
    run.wait(10)
    wait_for(lambda: not processes_with(str(out)), timeout=15)  # ended by the parent-death signal
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    # the frames the killed run recorded must stay untouched; a file written in the instant
    # before the kill, before its record, may render again (it could be half-written)
    store = BatchStore.open(work)
    stored = store.latest()
    assert stored is not None
    recorded = {Path(f.path).name for job in (0, 1)
                for item in store.frames(stored.id, job).values() for f in item.files}
    store.close()
    assert {*(f"shot0_000{i}.png" for i in range(1, 4)), "shot1_0001.png"} <= recorded <= set(before)

    again = cli("--recipe", str(recipe), "--work-dir", str(work), "--dry")
    assert again.returncode == 0
    resumed = cli("--resume", "--work-dir", str(work), "--print-stats")
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert "FINISHED" in resumed.stdout
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    assert sorted(after) == [f"shot{j}_000{i}.png" for j in range(2) for i in range(1, 4)]
    assert all(after[name] == before[name] for name in recorded)  # nothing done rendered twice
    history = cli("--history", "--work-dir", str(work))
    assert history.returncode == 0 and "cli night" in history.stdout and "FINISHED" in history.stdout
    nothing = cli("--resume", "--work-dir", str(work))
    assert nothing.returncode == 1 and "Nothing to resume" in nothing.stderr
