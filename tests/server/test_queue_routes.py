"""The queue, edit and pause routes called in-process (docs/api.md, The queue; Changing a batch;
Pause): bodies read and refused with the key named, the batch slot's refusals as 404/409 with
its sentence, the token rules, and the OpenAPI document. The slot's methods are played by
``QueueServiceDouble`` (a real ``BatchService`` otherwise)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService, NotRunningError, ServiceError
from renderplus.server.app import EDIT_ROUTES, QUEUE_ROUTES, create_app
from renderplus.server.guard import AccessGuard, TokenScope
from renderplus.server.openapi import openapi_document
from renderplus.server.public_poll import public_batch
from renderplus.server.service_errors import http_status
from tests.procs import processes_with

from .helpers import SLEEP_HOOK, held_recipe, recipe_data, wait_for
from .queue_double import QueueServiceDouble
from .wsgi_client import WsgiClient

TOKEN = "queue-routes-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NEW_ROUTES = QUEUE_ROUTES + EDIT_ROUTES


@pytest.fixture
def double(tmp_path: Path) -> Iterator[QueueServiceDouble]:
    svc = QueueServiceDouble(options=RunOptions(kill_grace=2.0), work_dir=tmp_path / "work")
    yield svc
    svc.shutdown(timeout=20)
    wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)


@pytest.fixture
def client(double: QueueServiceDouble) -> WsgiClient:
    return WsgiClient(create_app(double))


def concrete(path: str) -> str:
    return path.replace("<queue_id>", "1").replace("<job_id:re:.*>", "0")


# ------------------------------------------------------------------ every route

@pytest.mark.parametrize("method, path, name", NEW_ROUTES, ids=[f"{m} {p}" for m, p, _ in NEW_ROUTES])
def test_every_new_route_answers_in_json(client: WsgiClient, method: str, path: str, name: str) -> None:
    answer = client.call(method, concrete(path), b"{}" if method in ("POST", "PATCH") else None)
    assert answer.code not in (404, 405, 500) or answer.data["status"].startswith("No queued batch")
    assert answer.headers["content-type"] == "application/json"
    assert answer.data["status"]


@pytest.mark.parametrize("method, path, name", NEW_ROUTES, ids=[f"{m} {p}" for m, p, _ in NEW_ROUTES])
def test_every_new_route_needs_the_token(double: QueueServiceDouble, method: str, path: str,
                                         name: str) -> None:
    """Changing routes need the token; GET /queue is private (as GET /batches): even a read."""
    guard = AccessGuard(create_app(double), port=7777, bound_host="127.0.0.1", token=TOKEN,
                        scope=TokenScope.NOT_READS)
    client = WsgiClient(guard)
    body = b"{}" if method in ("POST", "PATCH") else None
    refused = client.call(method, concrete(path), body)
    assert refused.code == 401
    assert f"{method} {concrete(path)} needs this server's access token" in refused.data["status"]
    assert client.call(method, concrete(path), body, headers=BEARER).code not in (401, 403)


# ------------------------------------------------------------------ the queue

def test_a_queued_recipe_is_listed_in_order(client: WsgiClient, double: QueueServiceDouble) -> None:
    first = client.call("POST", "/queue", recipe_data([{"name": "a"}], name="night"))
    assert first.code == 201
    assert first.data["status"] == "Batch 'night' queued at position 0"
    assert (first.data["id"], first.data["position"], first.data["started"]) == (1, 0, False)
    second = client.call("POST", "/queue", recipe_data([{}, {}], name="day"))
    assert second.data["position"] == 1 and second.data["jobs"] == 2
    listed = client.call("GET", "/queue")
    assert listed.code == 200 and listed.data["status"] == "2 batches queued"
    assert listed.data["held"] is False
    assert [(b["id"], b["name"], b["position"]) for b in listed.data["batches"]] == [
        (1, "night", 0), (2, "day", 1)]
    assert double.enqueued[0].base_dir == str(double.work_dir)  # relative paths: the work folder


def test_a_recipe_queued_while_nothing_runs_starts_at_once(client: WsgiClient,
                                                           double: QueueServiceDouble) -> None:
    double.start_at_once = True
    answer = client.call("POST", "/queue", recipe_data([{}], name="now"))
    assert answer.code == 201 and answer.data["started"] is True
    assert answer.data["status"] == "Batch 'now' started at once: no batch was running"


def test_a_held_queue_says_so(client: WsgiClient) -> None:
    held = client.call("POST", "/queue/hold")
    assert held.code == 200 and held.data["held"] is True and held.data["batches"] == []
    queued = client.call("POST", "/queue", recipe_data([{}], name="later"))
    assert queued.data["status"].endswith("the queue is held (POST /queue/continue releases it)")
    assert "held" in client.call("GET", "/queue").data["status"]
    released = client.call("POST", "/queue/continue")
    assert released.code == 200 and released.data["held"] is False


def test_an_invalid_recipe_is_refused_as_post_batch_recipe_refuses_it(client: WsgiClient,
                                                                      double: QueueServiceDouble) -> None:
    answer = client.call("POST", "/queue", recipe_data([{"frame_start": 5, "frame_end": 1}]))
    assert answer.code == 400 and answer.data["status"] == "Invalid recipe: 1 error"
    assert answer.data["errors"][0]["path"] == "jobs[0].frame_end"
    assert client.call("POST", "/queue", b"{", content_type="application/json").code == 400
    wrong = client.call("POST", "/queue", b"{}", content_type="text/plain")
    assert wrong.code == 406 and "application/json" in wrong.data["status"]
    assert not double.enqueued


def test_moving_a_queued_batch(client: WsgiClient) -> None:
    for name in ("a", "b", "c"):
        client.call("POST", "/queue", recipe_data([{}], name=name))
    moved = client.call("PATCH", "/queue/3", {"position": 0})
    assert moved.code == 200 and moved.data["status"] == "Queued batch 3 moved to position 0"
    assert [b["name"] for b in moved.data["batches"]] == ["c", "a", "b"]
    last = client.call("PATCH", "/queue/3", {"position": 99})
    assert last.data["status"] == "Queued batch 3 moved to position 2"  # past the end: last


@pytest.mark.parametrize("body, path, words", [
    ({"position": -1}, "position", "must be an integer from 0 (0 = next); got -1"),
    ({"position": "1"}, "position", 'got "1"'),
    ({"position": True}, "position", "got true"),
    ({"position": 1.5}, "position", "got 1.5"),
    ({}, "position", "missing"),
    ({"position": 0, "pos": 1}, "pos", "unknown key (this body takes position)"),
    ([0], "", "the body must be a JSON object"),
])
def test_a_bad_move_names_the_key(client: WsgiClient, body: object, path: str, words: str) -> None:
    client.call("POST", "/queue", recipe_data([{}]))
    answer = client.call("PATCH", "/queue/1", body)  # type: ignore[arg-type]
    assert answer.code == 400 and words in answer.data["status"]
    assert answer.data["errors"] == [{"path": path, "message": answer.data["errors"][0]["message"]}]
    assert answer.data["status"].startswith(f"{path}: " if path else "the body")


def test_a_move_without_a_body_says_what_to_send(client: WsgiClient) -> None:
    answer = client.call("PATCH", "/queue/1")
    assert answer.code == 400
    assert answer.data["status"] == 'PATCH /queue/1 needs a JSON body: {"position": N} (0 = next)'
    duplicate = client.call("PATCH", "/queue/1", b'{"position": 1, "position": 2}')
    assert duplicate.code == 400 and duplicate.data["errors"][0]["path"] == "position"
    assert "duplicate key" in duplicate.data["errors"][0]["message"]


def test_a_small_body_over_its_limit_is_413_and_a_chunked_one_411(client: WsgiClient) -> None:
    big = b'{"position": 0, "pad": "' + b"x" * 70_000 + b'"}'
    answer = client.call("PATCH", "/batch/jobs/0", big)
    assert answer.code == 413 and answer.data["limit"] == 64 * 1024
    chunked = client.call("POST", "/batch/pause", b"{}", headers={"Transfer-Encoding": "chunked"})
    assert chunked.code == 411


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("queue_id", ["x", "-1", "1.0", "99999999999999999999", "%C2%B2"])
def test_a_queue_id_that_is_not_a_number_is_400(client: WsgiClient, method: str, queue_id: str) -> None:
    answer = client.call(method, f"/queue/{queue_id}", {"position": 0} if method == "PATCH" else None)
    assert answer.code == 400 and answer.data["status"].startswith("Wrong queue id")


def test_an_unknown_queued_batch_is_404(client: WsgiClient) -> None:
    for method, body in (("PATCH", {"position": 0}), ("DELETE", None)):
        answer = client.call(method, "/queue/7", body)
        assert answer.code == 404
        assert answer.data["status"] == "No queued batch has the id 7 (GET /queue lists them)"


def test_dropping_a_queued_batch(client: WsgiClient) -> None:
    client.call("POST", "/queue", recipe_data([{}], name="a"))
    client.call("POST", "/queue", recipe_data([{}], name="b"))
    dropped = client.call("DELETE", "/queue/1")
    assert dropped.code == 200 and dropped.data["status"] == "Queued batch 1 removed from the queue"
    assert [b["name"] for b in dropped.data["batches"]] == ["b"]


def test_dropping_the_batch_that_just_became_current_is_409(client: WsgiClient,
                                                            double: QueueServiceDouble) -> None:
    double.current_queue_id = 4
    answer = client.call("DELETE", "/queue/4")
    assert answer.code == 409 and answer.data["status"].endswith("DELETE /batch cancels it")


# ------------------------------------------------------------------ changing a batch

def test_adding_one_job_or_a_list(client: WsgiClient, double: QueueServiceDouble) -> None:
    one = client.call("POST", "/batch/jobs", {"name": "extra", "blend_file": "a.blend"})
    assert one.code == 201 and one.data == {
        "status": "Added job 3 at the end of the run order", "ids": [3], "order": [0, 1, 2, 3]}
    two = client.call("POST", "/batch/jobs", [{"name": "x"}, {"name": "y"}])
    assert two.data["ids"] == [4, 5] and two.data["status"].startswith("Added jobs 4, 5")
    assert double.calls[0] == ("add_jobs", [{"name": "extra", "blend_file": "a.blend"}])


def test_invalid_jobs_are_400_with_every_path(client: WsgiClient) -> None:
    answer = client.call("POST", "/batch/jobs", [{"frame_end": 3}, {"frame_end": "x"}])
    assert answer.code == 400 and answer.data["status"] == "Invalid jobs: 1 error"
    assert answer.data["errors"] == [{"path": "jobs[1].frame_end", "message": "must be an integer"}]


@pytest.mark.parametrize("body, words", [
    (b"[]", "send a job object, or a non-empty list of them"),
    (b'"job"', "send a job object"),
    (b"{", "not valid JSON"),
    (b'{"frame_end": NaN}', "NaN is not a JSON value"),
])
def test_a_jobs_body_that_is_no_job_is_400(client: WsgiClient, double: QueueServiceDouble,
                                            body: bytes, words: str) -> None:
    answer = client.call("POST", "/batch/jobs", body)
    assert answer.code == 400 and words in str(answer.data)
    assert not double.calls


def test_adding_jobs_to_an_ended_batch_or_none_is_409(client: WsgiClient,
                                                      double: QueueServiceDouble) -> None:
    double.slot.ended = True
    ended = client.call("POST", "/batch/jobs", {"name": "late"})
    assert ended.code == 409 and ended.data["status"].startswith("The batch has ended")
    double.slot.loaded = False
    none = client.call("POST", "/batch/jobs", {"name": "late"})
    assert none.code == 409 and "No recipe submitted yet" in none.data["status"]
    wrong = client.call("POST", "/batch/jobs", b"{}", content_type="text/plain")
    assert wrong.code == 406


def test_moving_and_skipping_a_job(client: WsgiClient) -> None:
    moved = client.call("PATCH", "/batch/jobs/2", {"position": 0})
    assert moved.code == 200 and moved.data["order"] == [2, 0, 1]
    assert moved.data["status"] == "Job 2 moved to position 0 among the queued jobs"
    skipped = client.call("PATCH", "/batch/jobs/0", {"enabled": False})
    assert skipped.data["order"] == [2, 1, 0] and skipped.data["status"] == "Job 0 skipped (DISABLED)"
    back = client.call("PATCH", "/batch/jobs/0", {"enabled": True, "position": 0})
    assert back.data["order"] == [0, 2, 1]
    assert back.data["status"] == ("Job 0 queued again at the end and moved to position 0 among "
                                   "the queued jobs")


@pytest.mark.parametrize("body, path", [
    ({}, ""), ({"enabled": "no"}, "enabled"), ({"enabled": False, "position": 0}, "position"),
    ({"position": -2}, "position"), ({"priority": 1}, "priority"),
])
def test_a_bad_job_change_names_the_key(client: WsgiClient, double: QueueServiceDouble,
                                        body: dict[str, object], path: str) -> None:
    answer = client.call("PATCH", "/batch/jobs/1", body)
    assert answer.code == 400 and answer.data["errors"][0]["path"] == path
    assert not double.calls


def test_an_unknown_or_running_job_is_refused_with_the_reason(client: WsgiClient,
                                                               double: QueueServiceDouble) -> None:
    unknown = client.call("PATCH", "/batch/jobs/9", {"position": 0})
    assert unknown.code == 404 and unknown.data == {"status": "No job 9 in this batch", "job": 9}
    double.slot.running_jobs.add(1)
    running = client.call("PATCH", "/batch/jobs/1", {"enabled": False})
    assert running.code == 409 and running.data["status"].startswith("Job 1 is RUNNING")
    wrong = client.call("PATCH", "/batch/jobs/current", {"position": 0})
    assert wrong.code == 400 and wrong.data["status"].startswith("Wrong job id 'current'")


# ------------------------------------------------------------------ pause

@pytest.mark.parametrize("body, when", [(None, "frame"), ({}, "frame"), ({"when": "now"}, "now"),
                                        ({"when": "job"}, "job"), ({"when": "frame"}, "frame")])
def test_pause_takes_when_and_defaults_to_the_frame(client: WsgiClient, double: QueueServiceDouble,
                                                    body: dict[str, str] | None, when: str) -> None:
    double.slot.state = "running"
    answer = client.call("POST", "/batch/pause", body)
    assert answer.code == 200 and answer.data["when"] == when
    assert double.calls == [("pause", when)]


def test_pause_refusals(client: WsgiClient, double: QueueServiceDouble) -> None:
    idle = client.call("POST", "/batch/pause", {"when": "now"})
    assert idle.code == 409 and idle.data["status"] == str(NotRunningError())
    double.slot.state = "running"
    bad = client.call("POST", "/batch/pause", {"when": "soon"})
    assert bad.code == 400
    assert bad.data["status"] == 'when: must be one of "now", "frame", "job"; got "soon"'
    unknown = client.call("POST", "/batch/pause", {"when": "now", "grace": 3})
    assert unknown.code == 400 and unknown.data["errors"][0]["path"] == "grace"
    assert client.call("POST", "/batch/pause", b"when=now",
                       content_type="application/x-www-form-urlencoded").code == 406
    assert client.call("POST", "/batch/pause").code == 200
    twice = client.call("POST", "/batch/pause", {"when": "job"})
    assert twice.code == 409 and twice.data["status"] == "The batch is already pausing (after the frame)"
    stronger = client.call("POST", "/batch/pause", {"when": "now"})
    assert stronger.code == 200 and stronger.data["when"] == "now"
    double.slot.state = "paused"
    again = client.call("POST", "/batch/pause")
    assert again.code == 409 and again.data["status"] == "The batch is already paused"


def test_a_paused_batch_blocks_a_recipe_an_upload_and_a_start(client: WsgiClient,
                                                              double: QueueServiceDouble) -> None:
    assert client.call("POST", "/batch/recipe", recipe_data([{}])).code == 200
    double.slot.state = "paused"
    recipe = client.call("POST", "/batch/recipe", recipe_data([{}]))
    assert recipe.code == 409 and "POST /queue" in recipe.data["status"]
    assert "paused" in recipe.data["status"]
    upload = client.call("POST", "/batch/file?name=a.blend", b"BLENDER",
                         content_type="application/octet-stream")
    assert upload.code == 409 and "paused" in upload.data["status"]
    assert client.call("GET", "/batch/start").code == 409
    ready = client.call("GET", "/batch/ready").data
    assert ready["ready"] is False and "A batch is paused" in ready["reasons"]
    assert client.call("GET", "/test").data["paused"] is True


def test_a_recipe_refused_while_a_batch_runs_names_post_queue(client: WsgiClient) -> None:
    assert client.call("POST", "/batch/recipe", held_recipe()).code == 200
    assert client.call("GET", "/batch/start").code == 200
    wait_for(lambda: client.call("GET", "/batch").data["status"] == "RUNNING", timeout=10)
    refused = client.call("POST", "/batch/recipe", recipe_data([{}]))
    assert refused.code == 409 and "already running" in refused.data["status"]
    assert "POST /queue" in refused.data["status"]


# ------------------------------------------------------------------ errors, documents

def test_the_status_code_comes_from_the_error_class_or_its_attribute() -> None:
    class UnknownQueuedError(ServiceError):
        pass

    class Teapot(ServiceError):
        http_status = 418

    class SomethingNew(ServiceError):
        pass

    assert http_status(UnknownQueuedError("x")) == 404
    assert http_status(Teapot("x")) == 418
    assert http_status(SomethingNew("x")) == 409
    assert http_status(NotRunningError()) == 409


def test_the_openapi_document_has_every_new_route_and_the_poll_keys() -> None:
    document = openapi_document()
    paths = document["paths"]
    for method, path, code in [("post", "/queue", "201"), ("get", "/queue", "200"),
                               ("patch", "/queue/{id}", "404"), ("delete", "/queue/{id}", "409"),
                               ("post", "/queue/hold", "200"), ("post", "/queue/continue", "200"),
                               ("post", "/batch/jobs", "400"), ("patch", "/batch/jobs/{id}", "409"),
                               ("post", "/batch/pause", "409")]:
        assert code in paths[path][method]["responses"], (method, path)
        assert paths[path][method]["security"] == document["security"]  # the token
    assert {"get", "delete", "patch"} <= set(paths["/batch/jobs/{id}"])
    batch = document["components"]["schemas"]["Batch"]["properties"]
    assert "PAUSED" in batch["status"]["enum"]
    assert {"order", "pausing"} <= set(batch)


def test_a_real_service_without_a_queue_answers_the_routes_it_has(app_factory: Callable[..., WsgiClient],
                                                                   service: BatchService) -> None:
    """The batch routes need none of the queue's methods: ``paused`` is read only if present."""
    client = app_factory()
    assert client.call("GET", "/test").data["paused"] is False
    assert client.call("POST", "/batch/recipe", recipe_data([{}])).code == 200


def test_the_public_poll_keeps_paused_order_and_pausing() -> None:
    """Nothing in them is secret: a poll without the token shows them as they are."""
    @dataclass
    class PausedView:
        messages: tuple[str, ...] = ("Paused by /home/ann/secret/path.blend's user",)
        hooks: tuple[Any, ...] = ()
        extra: dict[str, Any] = field(default_factory=lambda: {
            "status": "PAUSED", "order": [3, 0, 2, 1], "pausing": None})

        def to_json(self, jobs: bool = True) -> dict[str, Any]:
            return dict(self.extra)

    shown = json.loads(public_batch(PausedView(), "[]"))  # type: ignore[arg-type]
    assert shown["status"] == "PAUSED" and shown["order"] == [3, 0, 2, 1] and shown["pausing"] is None
    assert shown["messages"] == ["Paused by path.blend's user"]
