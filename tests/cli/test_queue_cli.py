"""``--queue``, ``--queue-list``, ``--pause`` and ``--resume`` as clients of a running server, and
``--continue-queue`` (docs/api.md, Client flags). The server is the real one, in this process,
around the real ``BatchService``, its batches on a held stand-in executor (``held_service``)."""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from renderplus.batch.service import BatchService
from renderplus.cli import build_parser, choose_mode, main
from renderplus.cli.common import UsageError
from renderplus.server import ServerHandle, start_server
from tests.ports import free_port
from tests.server.held_service import HeldServices
from tests.waiting import wait_for


@pytest.fixture
def held(tmp_path: Path) -> Iterator[HeldServices]:
    made = HeldServices(tmp_path)
    yield made
    made.close()


@pytest.fixture
def slot(held: HeldServices, tmp_path: Path) -> BatchService:
    return held.make(work_dir=tmp_path / "server-work")


@pytest.fixture
def server(slot: BatchService) -> Iterator[ServerHandle]:
    handle = start_server(slot, port=0)
    yield handle
    handle.stop()


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def write_recipe(folder: Path, **top: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    recipe = folder / "night.json"
    recipe.write_text(json.dumps({"version": 2.2, "name": "night", "blender_bin": "bin/blender",
                                  "settings": {"rss": {"enabled": False, "path": "feed.xml"}},
                                  "jobs": [{"id": 0, "blend_file": "shots/a.blend", "output": "out/a_####"},
                                           {"id": 1, "blend_file": "/abs/b.blend", "blender_bin": "blender"}],
                                  **top}))
    return recipe


def test_queue_sends_the_recipe_with_its_paths_made_absolute(server: ServerHandle, slot: BatchService,
                                                             held: HeldServices, tmp_path: Path) -> None:
    held.running(slot, jobs=1)
    recipe = write_recipe(tmp_path / "project")
    code, out = run_cli("--queue", str(recipe), "--port", str(server.port))
    assert (code, out) == (0, "Batch 'night' queued at position 0 (queue id 1)\n")
    slot.cancel()    # the queued batch is next
    sent = wait_for(lambda: slot.recipe if slot.recipe is not None and slot.recipe.name == "night"
                    else None)
    folder = os.path.realpath(tmp_path / "project")
    assert sent.jobs[0].blend_file == os.path.join(folder, "shots", "a.blend")
    assert sent.jobs[0].output == os.path.join(folder, "out", "a_####")
    assert sent.jobs[1].blend_file == "/abs/b.blend"
    assert sent.jobs[1].blender_bin == "blender"  # a bare name: looked up on the server's PATH
    assert sent.blender_bin == os.path.join(folder, "bin", "blender")
    assert sent.settings.rss.path == os.path.join(folder, "feed.xml")


def test_queue_of_an_invalid_recipe_is_a_usage_error_before_any_request(
        server: ServerHandle, slot: BatchService, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "bad.json"
    recipe.write_text(json.dumps({"version": 2.2, "jobs": [{"id": 0, "frame_start": 5, "frame_end": 1}]}))
    assert run_cli("--queue", str(recipe), "--port", str(server.port))[0] == 2
    assert "jobs[0].frame_end" in capsys.readouterr().err
    assert not slot.queue_view().entries and slot.batch is None


def test_queue_list_prints_the_queue(server: ServerHandle, slot: BatchService,
                                     tmp_path: Path) -> None:
    assert run_cli("--queue-list", "--port", str(server.port)) == (0, "The queue is empty\n")
    slot.hold_queue()
    recipe = write_recipe(tmp_path / "p")
    run_cli("--queue", str(recipe), "--port", str(server.port))
    code, out = run_cli("--queue-list", "--port", str(server.port))
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["pos", "id", "added", "jobs", "starts", "ends", "name"]
    # a held queue starts nothing by itself: no estimated start or end
    assert lines[1].split()[:2] == ["0", "1"] and lines[1].split()[-4:] == ["2", "-", "-", "night"]
    assert lines[2] == "1 batch queued; the queue is held (POST /queue/continue releases it)"


@pytest.mark.parametrize("flags, when", [(["--pause"], "frame"), (["--pause", "now"], "now"),
                                         (["--pause", "job"], "job")])
def test_pause_asks_the_server(server: ServerHandle, slot: BatchService, held: HeldServices,
                               flags: list[str], when: str) -> None:
    executor = held.running(slot, jobs=2)
    code, out = run_cli(*flags, "--port", str(server.port))
    assert code == 0 and out.startswith("Pausing")
    assert slot.batch is not None and slot.batch.pausing in (when, None)
    if when == "job":
        executor.release(0)
    wait_for(lambda: slot.paused)
    code, out = run_cli("--resume", "--port", str(server.port))
    assert code == 0 and out.startswith(f"Batch continued on 127.0.0.1:{server.port}: 'held'")
    wait_for(lambda: slot.running and executor.running() != [])


def test_a_refused_pause_is_one_sentence_and_exit_1(server: ServerHandle,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("--pause", "--port", str(server.port)) == (1, "")
    assert capsys.readouterr().err == "server: Not running a batch right now\n"


def test_pause_with_an_unknown_when_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--pause", "soon"])
    assert exited.value.code == 2
    assert "invalid choice: 'soon'" in capsys.readouterr().err


def test_without_a_server_the_clients_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    port = str(free_port())
    assert run_cli("--queue-list", "--port", port)[0] == 1
    assert f"No Render+ server is running on 127.0.0.1:{port}" in capsys.readouterr().err


def test_resume_asks_the_running_server(server: ServerHandle, capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    """The server answers (here: nothing to resume, 409): no foreground resume is tried."""
    work = tmp_path / "cli-work"
    assert run_cli("--resume", "--port", str(server.port), "--work-dir", str(work)) == (1, "")
    assert capsys.readouterr().err.startswith("server: Nothing to resume")
    assert not work.exists()  # the store of a foreground resume was never opened


def test_resume_without_a_server_resumes_here(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "cli-work"
    assert run_cli("--resume", "--port", str(free_port()), "--work-dir", str(work))[0] == 1
    assert capsys.readouterr().err.startswith("server: Nothing to resume")
    assert (work / "renderplus.db").exists()  # the foreground resume read its own store


@pytest.mark.parametrize("argv, message", [
    (["--queue", "r.json", "--poll"], "--poll and --queue cannot be combined"),
    (["--pause", "--queue-list"], "--queue-list and --pause cannot be combined"),
    (["--queue", "r.json", "--recipe", "r.json"], "--queue talks to a running server: it cannot be "
                                                  "combined with --recipe"),
    (["--pause", "--serve"], "--pause talks to a running server: it cannot be combined with --serve"),
    (["--queue-list", "--continue-queue"], "--continue-queue is a --serve flag"),
    (["--resume", "--continue-queue"], "--continue-queue is a --serve flag"),
    (["--recipe", "r.json", "--continue-queue"], "--continue-queue is a --serve flag"),
])
def test_flags_that_mean_nothing_together_are_refused(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("-", r"\-")):
        choose_mode(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv, mode", [(["--queue", "r.json"], "queue"), (["--queue-list"], "queue"),
                                        (["--pause"], "queue"), (["--pause", "now"], "queue"),
                                        (["--resume"], "resume"), (["--serve", "--continue-queue"], "serve")])
def test_the_new_flags_pick_their_mode(argv: list[str], mode: str) -> None:
    args = build_parser().parse_args(argv)
    assert choose_mode(args).name == mode


@pytest.fixture
def older_server() -> Iterator[int]:
    """A server without the queue's routes: every request gets Bottle's 'No such route' 404."""
    class Handler(BaseHTTPRequestHandler):
        def answer(self) -> None:
            raw = json.dumps({"status": f"No such route: {self.command} {self.path}"}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("flags, route", [(["--queue-list"], "GET /queue"),
                                          (["--pause"], "POST /batch/pause")])
def test_an_older_server_without_the_route_is_named_as_such(
        older_server: int, flags: list[str], route: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(*flags, "--port", str(older_server)) == (1, "")
    assert capsys.readouterr().err == (
        f"server: the server on 127.0.0.1:{older_server} has no {route} (it answered HTTP 404): "
        "it is an older Render+ without the queue and the pause\n")



def test_queue_list_shows_the_estimates_and_the_queues_end(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import time

    from renderplus.cli.queue_client import list_queue
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        night = 1796421600.0   # Fri 2026-12-04 22:00 UTC
        answer = {"held": False, "status": "2 batches queued", "estimated_end": night + 9000,
                  "batches": [
                      {"id": 3, "name": "night", "jobs": 4, "position": 0, "added": night - 3600,
                       "estimated_start": night, "estimated_end": night + 5400, "estimate_runs": 3},
                      {"id": 4, "name": "new", "jobs": 1, "position": 1, "added": night - 60,
                       "estimated_start": None, "estimated_end": None, "estimate_runs": None}]}

        class Client:
            def request(self, method: str, path: str,
                        *rest: object) -> tuple[int, dict[str, object], dict[str, str]]:
                assert (method, path) == ("GET", "/queue")
                return 200, answer, {}

        out = io.StringIO()
        assert list_queue(Client(), out) == 0  # type: ignore[arg-type]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    lines = out.getvalue().splitlines()
    assert lines[1].split()[-6:] == ["4", "Fri", "22:00", "Fri", "23:30", "night"]
    assert lines[2].split()[-4:] == ["1", "-", "-", "new"]
    assert lines[-1] == "Everything is done about Sat 00:30"
