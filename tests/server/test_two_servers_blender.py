"""Real Blender: a ``--recipe`` run killed -9 mid-batch, then two standalone servers on its
``--work-dir`` asked to resume at the same moment. One renders the missing frames; the other
refuses naming it and never starts a Blender; the frames recorded before the kill are not
rendered again, and once the batch has finished its owner is released."""

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
from tests.server.helpers import ROOT, ServerProcess, call
from tests.server.test_two_servers import resume_both
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def test_two_servers_resume_a_killed_real_batch_once(
        tmp_path: Path, blend_factory: Callable[..., Path],
        serve: Callable[..., ServerProcess]) -> None:
    blend = blend_factory(size=(96, 72), samples=600, frames=4)
    out, work = tmp_path / "out", tmp_path / "work"
    recipe = tmp_path / "night.json"
    recipe.write_text(json.dumps({"version": 2.2, "name": "night", "jobs": [
        {"id": i, "name": f"shot{i}", "blend_file": str(blend), "animated": True,
         "frame_start": 1, "frame_end": 3, "output": str(out / f"shot{i}_####")}
        for i in range(2)]}))
    run = subprocess.Popen([sys.executable, "-m", "renderplus.server", "--recipe", str(recipe),
                            "--work-dir", str(work)], cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    wait_for(lambda: run.poll() is not None or len(list(out.glob("shot0_*.png"))) >= 2,
             timeout=120)
    assert run.poll() is None
    run.send_signal(signal.SIGKILL)
    run.wait(10)
    wait_for(lambda: not processes_with(str(out)), timeout=15)
    with BatchStore.open(work) as store:
        stored = store.latest()
        assert stored is not None and stored.interrupted
        recorded = {f.path: f.mtime_ns for job in (0, 1)
                    for item in store.frames(stored.id, job).values() for f in item.files}
    assert recorded

    servers = [serve(work_dir=work), serve(work_dir=work)]
    answers = resume_both(servers)
    assert sorted(answer.code for answer in answers) == [200, 409]
    winner = servers[[answer.code for answer in answers].index(200)]
    loser = servers[[answer.code for answer in answers].index(409)]
    refused = next(answer for answer in answers if answer.code == 409).data
    assert f"(pid {winner.process.pid} on " in refused["status"]

    def ended() -> bool:
        assert call(loser.port, "GET", "/batch").data["status"] != "RUNNING"  # never renders
        return call(winner.port, "GET", "/batch").data["status"] == "FINISHED"

    wait_for(ended, timeout=300, interval=0.5)
    assert sorted(p.name for p in out.glob("*.png")) == [
        f"shot{j}_000{i}.png" for j in range(2) for i in range(1, 4)]
    assert all(Path(path).stat().st_mtime_ns == mtime for path, mtime in recorded.items())
    with BatchStore.open(work) as store:
        assert store.claim(f"batch:{stored.id}") is None               # released at the end
    nothing = call(loser.port, "GET", "/batch/resume")
    assert nothing.code == 409 and "Nothing to resume" in nothing.data["status"]
