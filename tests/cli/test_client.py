"""The client flags against a stand-in server (what a newer or older server answers) and a real one."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from renderplus.batch.view import BatchStatus, BatchView, JobStatus, JobView, Times
from renderplus.cli import main
from tests.server.helpers import ServerProcess

Routes = dict[tuple[str, str], tuple[int, dict[str, Any]]]
StandIn = Callable[[Routes], tuple[int, list[str]]]


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """``stand_in({(method, path): (code, body)})`` -> (port, the requests it got)."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: Routes) -> tuple[int, list[str]]:
        seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                seen.append(f"{self.command} {self.path}")
                code, body = routes.get((self.command, self.path),
                                        (404, {"status": f"No such route: {self.command} {self.path}"}))
                raw = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_DELETE = answer

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1], seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_cancel_job_with_an_id_uses_the_extension_route(stand_in: StandIn) -> None:
    port, seen = stand_in({("DELETE", "/batch/jobs/3"): (200, {"status": "Job 3 cancelled"})})
    assert run_cli("--cancel-job", "3", "--port", str(port)) == (0, "Job 3 cancelled\n")
    assert seen == ["DELETE /batch/jobs/3"]


def test_cancel_job_alone_cancels_the_current_job(stand_in: StandIn) -> None:
    port, seen = stand_in({("DELETE", "/batch/jobs/current"): (200, {"status": "Job cancelled"})})
    assert run_cli("--cancel-job", "--port", str(port)) == (0, "Job cancelled\n")
    assert seen == ["DELETE /batch/jobs/current"]


def test_a_server_without_the_route_gets_a_clear_sentence(stand_in: StandIn,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    port, _ = stand_in({})
    assert run_cli("--cancel-job", "3", "--port", str(port))[0] == 1
    err = capsys.readouterr().err
    assert "cannot cancel a job by its number (DELETE /batch/jobs/3 answered HTTP 404)" in err


def test_an_answer_about_the_job_is_passed_on(stand_in: StandIn,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    port, _ = stand_in({("DELETE", "/batch/jobs/9"): (400, {"status": "No job 9: the batch has 3 jobs"})})
    assert run_cli("--cancel-job", "9", "--port", str(port))[0] == 1
    assert capsys.readouterr().err == "server: No job 9: the batch has 3 jobs\n"


def test_a_real_server_without_the_route(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    server = ServerProcess(work_dir=tmp_path)
    try:
        code, _ = run_cli("--cancel-job", "1", "--port", str(server.port))
        err = capsys.readouterr().err
        if "HTTP 405" in err or "HTTP 404" in err:  # a server without DELETE /batch/jobs/ID yet
            assert code == 1 and "use --cancel-job without a number" in err
        else:  # the route exists: nothing runs, so it cannot cancel
            assert code == 1 and err.startswith("server: ")
    finally:
        server.close()


def test_poll_reads_the_answer_into_the_read_model(stand_in: StandIn) -> None:
    ended = BatchView(status=BatchStatus.FINISHED, times=Times(0.0, 5.0), jobs=(
        JobView(id=0, status=JobStatus.FINISHED, name="a", progress=100.0, times=Times(0.0, 2.0)),
        JobView(id=1, status=JobStatus.FAILED, name="b", messages=("Camera 'X' not found",))))
    port, _ = stand_in({("GET", "/batch"): (200, ended.to_json()),
                        ("GET", "/batch/jobs/0"): (200, ended.jobs[0].to_json())})
    code, out = run_cli("--poll", "--print-stats", "--port", str(port))
    assert code == 1  # a job failed
    assert "Batch FINISHED in 00:05: 1 failed, 1 finished" in out
    assert "  job 1 failed: Camera 'X' not found" in out and "BATCH STATS" in out
    code, out = run_cli("--poll-job", "0", "--port", str(port))
    assert code == 0 and out.splitlines()[-1] == "Job 0 FINISHED"
