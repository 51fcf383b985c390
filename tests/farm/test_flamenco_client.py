"""The Flamenco client's reading of what a Manager answers: a stand-in Manager on loopback that
answers the way a real one was seen to (task logs with the Worker's ``pid=N > `` prefix and the
Manager's own lines, an empty task list for a job it does not know), and the real Manager when
``FLAMENCO_BIN`` is set."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from renderplus.batch.executors.farm import FlamencoEngine
from renderplus.batch.executors.farm.base import FarmTask, TaskState, UnknownFarmJob
from renderplus.batch.executors.farm.flamenco import JOB_TYPE, blender_output
from renderplus.batch.frames import FrameSet

JOB = "0f6a4d5e-1111-4222-8333-944445555666"
TASK = "7c1b2a3d-aaaa-4bbb-8ccc-ddddeeeeffff"
LOG = (
    "2026-11-28T18:20:01Z task assigned to Worker ci-worker\n"
    "going to run:\n"
    "\n"
    "    /usr/bin/blender -b -y /shared/a.blend --python x.py\n"
    "pid=4242 > Blender 3.4.1\n"
    "pid=4242 > RENDERPLUS {\"event\": \"frame\", \"frame\": 1}\n"
    "2026-11-28T18:20:09Z task changed status active -> completed\n"
    "pid=4242 > Fra:2 Mem:12M | Sample 1/8"           # Blender is still writing this line
)


class StandInManager(BaseHTTPRequestHandler):
    """Only the few answers the client reads, shaped like a real Manager's."""

    def do_GET(self) -> None:
        path = self.path
        if path == f"/api/v3/jobs/{JOB}/tasks":
            self._json({"tasks": [{"id": TASK, "name": "chunk-0", "status": "active"}]})
        elif re.fullmatch(r"/api/v3/jobs/[0-9a-f-]{36}/tasks", path):
            self._json({"tasks": []})                  # what a real Manager says for any uuid
        elif path == f"/api/v3/jobs/{JOB}":
            self._json({"id": JOB, "status": "active"})
        elif re.fullmatch(r"/api/v3/jobs/[0-9a-f-]{36}", path):
            self._json({"code": 404, "message": "no such job"}, 404)
        elif path.startswith("/api/v3/jobs/"):
            self._json({"code": 400, "message": "job ID not valid"}, 400)
        elif path == f"/api/v3/tasks/{TASK}/log":
            self._json({"task_id": TASK, "job_id": JOB, "size": len(LOG.encode()),
                        "url": f"/job-files/job-0f6a/{JOB}/task-{TASK}.txt"})
        elif path.startswith("/job-files/"):
            wanted = re.fullmatch(r"bytes=(\d+)-", self.headers["Range"] or "bytes=0-")
            start = int(wanted[1]) if wanted else 0
            body = LOG.encode()[start:]
            self.send_response(206)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self._json({"code": 404, "message": "not found"}, 404)

    def _json(self, data: Any, code: int = 200) -> None:
        body = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInManager)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


TASKS = (FarmTask(0, FrameSet.parse("1-2"), ("blender", "-b", "a.blend")),)


def test_only_blenders_lines_reach_the_parser() -> None:
    assert blender_output(LOG) == ('Blender 3.4.1\nRENDERPLUS {"event": "frame", "frame": 1}\n'
                                   "Fra:2 Mem:12M | Sample 1/8")


def test_task_log_is_read_as_blender_printed_it_complete_lines_first(stand_in: str) -> None:
    engine = FlamencoEngine(stand_in)
    status = engine.poll(JOB, TASKS)
    assert [(t.index, t.state) for t in status.tasks] == [(0, TaskState.RUNNING)]
    text, offset = engine.read_log(JOB, TASKS[0], 0)
    assert text == 'Blender 3.4.1\nRENDERPLUS {"event": "frame", "frame": 1}\n'
    assert offset == LOG.rindex("\n") + 1                 # the unfinished line is read later
    rest, end = engine.read_log(JOB, TASKS[0], offset, final=True)
    assert rest == "Fra:2 Mem:12M | Sample 1/8" and end == len(LOG.encode())


def test_a_job_the_manager_does_not_know_is_lost_not_queued_forever(stand_in: str) -> None:
    with pytest.raises(UnknownFarmJob, match="does not know job"):
        FlamencoEngine(stand_in).poll(str(uuid.uuid4()), TASKS)
    with pytest.raises(UnknownFarmJob):
        FlamencoEngine(stand_in).poll("not-a-job-id", TASKS)


def test_real_manager_offers_the_job_type_and_forgets_no_job(flamenco_manager: str) -> None:
    engine = FlamencoEngine(flamenco_manager)
    info = engine.describe()
    assert info.answers and info.renderplus_type, info
    assert JOB_TYPE in info.queues and "simple-blender-render" in info.queues
    with pytest.raises(UnknownFarmJob):
        engine.poll(str(uuid.uuid4()), TASKS)
