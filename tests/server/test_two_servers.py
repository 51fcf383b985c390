"""Two standalone servers on one store (``--work-dir`` the same) with an interrupted batch:
only one resumes it; the other answers 409 with the sentence and the owner (docs/api.md,
Errors), shows the batch as not resumable, and takes it over once the owner is killed -9."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from renderplus.batch.store import BatchStore
from tests.batch.interrupted import make_interrupted_batch, sleeping_blender
from tests.procs import processes_with
from tests.server.helpers import Answer, ServerProcess, call
from tests.waiting import wait_for


def resume_both(servers: list[ServerProcess]) -> list[Answer]:
    """``GET /batch/resume`` on every server at the same moment."""
    start = threading.Barrier(len(servers))
    answers: list[Answer | None] = [None] * len(servers)

    def ask(index: int) -> None:
        start.wait()
        answers[index] = call(servers[index].port, "GET", "/batch/resume")

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def test_two_servers_on_one_store_resume_the_batch_once(
        tmp_path: Path, serve: Callable[..., ServerProcess]) -> None:
    work = tmp_path / "shared-work"
    blender = sleeping_blender(tmp_path, seconds=93.25)
    batch_id = make_interrupted_batch(work, blender, Path(__file__), tmp_path / "out", name="night")
    servers = [serve(work_dir=work), serve(work_dir=work)]
    for server in servers:
        assert call(server.port, "GET", "/batch").data.get("resumable") is True
    answers = resume_both(servers)
    assert sorted(answer.code for answer in answers) == [200, 409]
    winner = servers[[answer.code for answer in answers].index(200)]
    loser = servers[[answer.code for answer in answers].index(409)]
    refused = next(answer for answer in answers if answer.code == 409).data
    pid = winner.process.pid
    assert refused["status"].startswith("The batch 'night' is owned by ")
    assert f"(pid {pid} on " in refused["status"] and "cannot be resumed here" in refused["status"]
    assert refused["owner"]["pid"] == pid and refused["owner"]["handed_over"] is False
    assert "renderplus.server" in refused["owner"]["name"]
    wait_for(lambda: len(processes_with("93.25")) == 1, timeout=30)   # one Blender renders
    poll = call(loser.port, "GET", "/batch").data
    assert "resumable" not in poll and refused["status"] in poll["messages"]
    assert call(winner.port, "GET", "/batch").data["status"] == "RUNNING"
    again = call(loser.port, "GET", "/batch/resume")
    assert again.code == 409 and again.data["owner"]["pid"] == pid

    winner.process.kill()                      # kill -9: the claim's process is gone
    winner.process.wait(10)
    wait_for(lambda: not processes_with("93.25"), timeout=30)
    taken = call(loser.port, "GET", "/batch/resume")
    assert taken.code == 200, taken.data
    assert taken.data["status"] == "Batch resumed" and taken.data["name"] == "night"
    wait_for(lambda: len(processes_with("93.25")) == 1, timeout=30)
    assert call(loser.port, "GET", "/batch").data["status"] == "RUNNING"
    assert call(loser.port, "DELETE", "/batch").code == 200
    wait_for(lambda: not processes_with("93.25"), timeout=30)
    with BatchStore.open(work) as store:          # a cancelled batch has no owner any more
        assert store.claim(f"batch:{batch_id}") is None
