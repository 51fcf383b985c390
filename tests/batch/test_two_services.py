"""Two Render+ processes (the engine's ``BatchService`` in each) on one store with an
interrupted batch: only one resumes it, the other refuses with the sentence naming the owner,
and takes it once that owner is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from renderplus.batch.store import BatchStore
from tests.batch.interrupted import make_interrupted_batch, sleeping_blender
from tests.procs import processes_with
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]

SERVICE = """
import sys
from renderplus.batch.options import RunOptions
from renderplus.batch.service import BatchService, ServiceError
from renderplus.batch.store import BatchStore
work = sys.argv[1]
service = BatchService(RunOptions(kill_grace=1.0), work_dir=work, store=BatchStore.open(work))
view = service.interrupted_view()
print("shown", bool(view and view.resumable), flush=True)
for _ in iter(sys.stdin.readline, ""):
    try:
        service.resume()
        print("resumed", flush=True)
    except ServiceError as exc:
        print("refused", exc, flush=True)
        view = service.view()
        print("poll", "resumable" if view and view.resumable else "not resumable", flush=True)
"""


class ServiceProcess:
    """A Render+ process holding a ``BatchService`` on ``work``; each ``resume()`` asks it once."""

    def __init__(self, work: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", SERVICE, str(work)], cwd=ROOT,
                                        text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.shown = self.line()

    def line(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def ask(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("resume\n")
        self.process.stdin.flush()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


def test_two_processes_on_one_store_resume_an_interrupted_batch_once(tmp_path: Path) -> None:
    work, out = tmp_path / "work", tmp_path / "out"
    blender = sleeping_blender(tmp_path, seconds=97.5)
    batch_id = make_interrupted_batch(work, blender, Path(__file__), out)
    first, second = ServiceProcess(work), ServiceProcess(work)
    try:
        assert first.shown == second.shown == "shown True"     # both see it interrupted
        first.ask()
        second.ask()                                            # both ask at once
        answers = {first.process.pid: first.line(), second.process.pid: second.line()}
        assert sorted(answer.split()[0] for answer in answers.values()) == ["refused", "resumed"]
        owner = next(pid for pid, answer in answers.items() if answer == "resumed")
        loser = second if owner == first.process.pid else first
        winner = first if loser is second else second
        refusal = answers[loser.process.pid]
        assert refusal.startswith("refused The batch 'night' is owned by "), refusal
        assert f"(pid {owner} on " in refusal and "cannot be resumed here" in refusal
        assert loser.line() == "poll not resumable"
        wait_for(lambda: len(processes_with("97.5")) == 1, timeout=30)   # one Blender, not two
        with BatchStore.open(work) as store:
            claim = store.claim(f"batch:{batch_id}")
            assert claim is not None and claim.owner is not None and claim.owner.pid == owner
        loser.ask()                                             # asked again: still owned
        assert loser.line().startswith("refused") and loser.line() == "poll not resumable"

        winner.kill()                                           # the owner is killed -9
        wait_for(lambda: not processes_with("97.5"), timeout=30)
        loser.ask()
        assert loser.line() == "resumed"
        wait_for(lambda: len(processes_with("97.5")) == 1, timeout=30)
        with BatchStore.open(work) as store:
            claim = store.claim(f"batch:{batch_id}")
            assert claim is not None and claim.owner is not None
            assert claim.owner.pid == loser.process.pid != os.getpid()
    finally:
        first.kill()
        second.kill()
    wait_for(lambda: not processes_with("97.5"), timeout=30)
