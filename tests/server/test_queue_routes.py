"""The queue, edit and pause routes called in-process (docs/api.md, The queue; Changing a batch;
Pause) around the real ``BatchService``, its batches on a held stand-in executor: bodies read and
refused with the key named, the slot's refusals (``batch/service_errors.py``) as 404/409/503
with their sentence, the token rules, and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.service import (
    BatchService,
    QueueOwnedError,
    QueueStoreError,
    UnknownQueuedError,
)
from renderplus.batch.store import StoreError
from renderplus.batch.store.claims import Claim, ClaimRefused
from renderplus.batch.view import BatchStatus
from renderplus.server.app import EDIT_ROUTES, QUEUE_ROUTES, create_app
from renderplus.server.guard import AccessGuard, TokenScope
from renderplus.server.openapi import openapi_document
from renderplus.server.public_poll import public_batch
from renderplus.server.service_errors import service_error_answer
from tests.procs import processes_with

from .held_service import HeldServices
from .helpers import SLEEP_HOOK, held_recipe, recipe_data, wait_for
from .wsgi_client import WsgiClient

TOKEN = "queue-routes-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
NEW_ROUTES = QUEUE_ROUTES + EDIT_ROUTES


@pytest.fixture
def held(tmp_path: Path) -> Iterator[HeldServices]:
    made = HeldServices(tmp_path)
    yield made
    made.close()
    wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)


@pytest.fixture
def slot(held: HeldServices) -> BatchService:
    return held.make()


@pytest.fixture
def client(slot: BatchService) -> WsgiClient:
    return WsgiClient(create_app(slot))


def concrete(path: str) -> str:
    return path.replace("<queue_id>", "1").replace("<job_id:re:.*>", "0")


def order(client: WsgiClient) -> list[int]:
    return list(client.call("GET", "/batch").data["order"])


# ------------------------------------------------------------------ every route

@pytest.mark.parametrize("method, path, name", NEW_ROUTES, ids=[f"{m} {p}" for m, p, _ in NEW_ROUTES])
def test_every_new_route_answers_in_json(client: WsgiClient, method: str, path: str, name: str) -> None:
    answer = client.call(method, concrete(path), b"{}" if method in ("POST", "PATCH") else None)
    assert answer.code not in (404, 405, 500) or answer.data["status"].startswith("No queued batch")
    assert answer.headers["content-type"] == "application/json"
    assert answer.data["status"]


@pytest.mark.parametrize("method, path, name", NEW_ROUTES, ids=[f"{m} {p}" for m, p, _ in NEW_ROUTES])
def test_every_new_route_needs_the_token(slot: BatchService, method: str, path: str,
                                         name: str) -> None:
    """Changing routes need the token; GET /queue is private (as GET /batches): even a read."""
    guard = AccessGuard(create_app(slot), port=7777, bound_host="127.0.0.1", token=TOKEN,
                        scope=TokenScope.NOT_READS)
    client = WsgiClient(guard)
    body = b"{}" if method in ("POST", "PATCH") else None
    refused = client.call(method, concrete(path), body)
    assert refused.code == 401
    assert f"{method} {concrete(path)} needs this server's access token" in refused.data["status"]
    assert client.call(method, concrete(path), body, headers=BEARER).code not in (401, 403)


# ------------------------------------------------------------------ the queue

def test_a_queued_recipe_is_listed_in_order_and_starts_next(client: WsgiClient, slot: BatchService,
                                                             held: HeldServices) -> None:
    running = held.running(slot, jobs=1)
    night = held.data(1, name="night")
    night["jobs"][0]["output"] = "renders/n_"   # relative: against the server's work folder
    first = client.call("POST", "/queue", night)
    assert first.code == 201
    assert first.data["status"] == "Batch 'night' queued at position 0"
    assert (first.data["id"], first.data["position"], first.data["started"]) == (1, 0, False)
    second = client.call("POST", "/queue", held.data(2, name="day"))
    assert second.data["position"] == 1 and second.data["jobs"] == 2
    listed = client.call("GET", "/queue")
    assert listed.code == 200 and listed.data["status"] == "2 batches queued"
    assert listed.data["held"] is False
    assert [(b["id"], b["name"], b["position"], b["jobs"]) for b in listed.data["batches"]] == [
        (1, "night", 0, 1), (2, "day", 1, 2)]
    assert set(listed.data["batches"][0]) == {"id", "name", "jobs", "position", "added",
                                              "estimated_start", "estimated_end", "estimate_runs"}
    running.release(0)
    wait_for(lambda: len(held.executors) == 2 and held.executors[1].running() == [0])
    poll = client.call("GET", "/batch").data
    assert poll["name"] == "night" and poll["status"] == "RUNNING"
    assert slot.recipe is not None and slot.recipe.base_dir == str(slot.work_dir)   # relative paths
    assert slot.recipe.resolve(slot.recipe.jobs[0].output) == str(slot.work_dir / "renders" / "n_")
    assert [b["name"] for b in client.call("GET", "/queue").data["batches"]] == ["day"]


def test_a_recipe_queued_while_nothing_runs_starts_at_once(client: WsgiClient, held: HeldServices,
                                                           slot: BatchService) -> None:
    answer = client.call("POST", "/queue", held.data(1, name="now"))
    assert answer.code == 201 and answer.data["started"] is True
    assert answer.data["status"] == "Batch 'now' started at once: no batch was running"
    wait_for(lambda: held.executors and held.executors[0].running() == [0])
    assert client.call("GET", "/queue").data["batches"] == []


def test_a_held_queue_says_so_and_continue_starts_the_next(client: WsgiClient, held: HeldServices,
                                                           slot: BatchService) -> None:
    held_answer = client.call("POST", "/queue/hold")
    assert held_answer.code == 200 and held_answer.data["held"] is True
    assert held_answer.data["batches"] == []
    queued = client.call("POST", "/queue", held.data(1, name="later"))
    assert queued.data["started"] is False
    assert queued.data["status"].endswith("the queue is held (POST /queue/continue releases it)")
    assert "held" in client.call("GET", "/queue").data["status"]
    assert not held.executors and not slot.running
    released = client.call("POST", "/queue/continue")
    assert released.code == 200 and released.data["held"] is False
    wait_for(lambda: held.executors and held.executors[0].running() == [0])


def test_an_invalid_recipe_is_refused_as_post_batch_recipe_refuses_it(client: WsgiClient) -> None:
    answer = client.call("POST", "/queue", recipe_data([{"frame_start": 5, "frame_end": 1}]))
    assert answer.code == 400 and answer.data["status"] == "Invalid recipe: 1 error"
    assert answer.data["errors"][0]["path"] == "jobs[0].frame_end"
    assert client.call("POST", "/queue", b"{", content_type="application/json").code == 400
    wrong = client.call("POST", "/queue", b"{}", content_type="text/plain")
    assert wrong.code == 406 and "application/json" in wrong.data["status"]
    assert client.call("GET", "/queue").data["status"] == "The queue is empty"


def test_moving_a_queued_batch(client: WsgiClient) -> None:
    client.call("POST", "/queue/hold")
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
    client.call("POST", "/queue/hold")
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
        assert answer.data == {"status": str(UnknownQueuedError(7))}
        assert answer.data["status"] == "No queued batch 7: GET /queue lists them"


def test_dropping_a_queued_batch(client: WsgiClient) -> None:
    client.call("POST", "/queue/hold")
    client.call("POST", "/queue", recipe_data([{}], name="a"))
    client.call("POST", "/queue", recipe_data([{}], name="b"))
    dropped = client.call("DELETE", "/queue/1")
    assert dropped.code == 200 and dropped.data["status"] == "Queued batch 1 removed from the queue"
    assert [b["name"] for b in dropped.data["batches"]] == ["b"]


def test_dropping_the_batch_that_just_became_current_is_409(client: WsgiClient,
                                                            held: HeldServices) -> None:
    started = client.call("POST", "/queue", held.data(1, name="now"))
    assert started.data["started"] is True
    answer = client.call("DELETE", f"/queue/{started.data['id']}")
    assert answer.code == 409
    assert answer.data["status"] == (f"Queued batch {started.data['id']} has started: it is the "
                                     "current batch now; DELETE /batch cancels it")


def test_a_queue_another_render_plus_owns_is_409_with_owner_and_a_failing_store_503() -> None:
    claim = Claim(subject="queue", token="t", owner=None, label="the add-on", host="farm-2",
                  since=1_700_000_000.0)
    owned = service_error_answer(QueueOwnedError(ClaimRefused(claim, "Another Render+ runs the queue")))
    assert owned.status_code == 409
    assert json.loads(owned.body)["owner"] == {"pid": None, "name": "the add-on", "host": "farm-2",
                                               "since": 1_700_000_000.0, "handed_over": True}
    failing = service_error_answer(QueueStoreError(OSError("disk full")))
    assert failing.status_code == 503
    assert json.loads(failing.body)["status"] == "The queue cannot be changed now: disk full"


def test_a_queue_store_that_cannot_be_read_is_503_not_a_crash(client: WsgiClient, slot: BatchService,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable() -> None:
        raise StoreError("database disk image is malformed")
    monkeypatch.setattr(slot.queue_runner.queue, "view", unreadable)
    for method in ("GET", "POST"):
        path = "/queue" if method == "GET" else "/queue/hold"
        answer = client.call(method, path)
        assert answer.code == 503, (method, answer.data)
        assert answer.data["status"] == ("The queue cannot be changed now: database disk image "
                                         "is malformed")


# ------------------------------------------------------------------ changing a batch

def test_adding_one_job_or_a_list(client: WsgiClient, held: HeldServices, slot: BatchService) -> None:
    slot.load_recipe(held.recipe(3))
    one = client.call("POST", "/batch/jobs", {"name": "extra", "blend_file": "a.blend"})
    assert one.code == 201 and one.data == {
        "status": "Added job 3 at the end of the run order", "ids": [3], "order": [0, 1, 2, 3]}
    two = client.call("POST", "/batch/jobs", [{"name": "x", "blend_file": "x.blend"},
                                              {"name": "y", "blend_file": "y.blend"}])
    assert two.data["ids"] == [4, 5] and two.data["status"].startswith("Added jobs 4, 5")
    jobs = client.call("GET", "/batch").data["jobs"]
    assert [job["name"] for job in jobs][3:] == ["extra", "x", "y"]
    shown = slot.shown   # the loaded recipe got them
    assert shown is not None and [job.name for job in shown.recipe.jobs][3:] == ["extra", "x", "y"]


def test_invalid_jobs_are_400_with_every_path(client: WsgiClient, held: HeldServices,
                                              slot: BatchService) -> None:
    slot.load_recipe(held.recipe(3))
    answer = client.call("POST", "/batch/jobs", [{"blend_file": "a.blend", "frame_end": 3},
                                                 {"blend_file": "b.blend", "frame_end": "x"}])
    assert answer.code == 400 and answer.data["status"] == "Invalid jobs: 1 error"
    assert answer.data["errors"] == [{"path": "jobs[1].frame_end",
                                      "message": 'must be an integer (got "x")'}]
    assert order(client) == [0, 1, 2]


def test_added_jobs_after_names_the_batchs_jobs_and_each_other(client: WsgiClient, held: HeldServices,
                                                                 slot: BatchService) -> None:
    slot.load_recipe(held.recipe(3))
    bad = client.call("POST", "/batch/jobs", [{"blend_file": "a.blend", "after": [4]},
                                              {"blend_file": "b.blend", "after": [3, 9]}])
    assert bad.code == 400 and bad.data["errors"] == [
        {"path": "jobs[1].after[1]", "message": "no job 9 in this batch (its jobs are 0 to 4)"},
        {"path": "jobs[1].after", "message": "a cycle 4 → 3 → 4: these jobs would wait for each "
                                             "other forever"}]
    good = client.call("POST", "/batch/jobs", [{"blend_file": "a.blend", "after": [0, 2]},
                                               {"blend_file": "b.blend", "after": [3]}])
    assert good.code == 201 and good.data["ids"] == [3, 4]
    assert [job["after"] for job in client.call("GET", "/batch").data["jobs"]] == [[], [], [], [0, 2], [3]]


@pytest.mark.parametrize("body, words", [
    (b"[]", "send a job object, or a non-empty list of them"),
    (b'"job"', "send a job object"),
    (b"{", "not valid JSON"),
    (b'{"frame_end": NaN}', "NaN is not a JSON value"),
])
def test_a_jobs_body_that_is_no_job_is_400(client: WsgiClient, held: HeldServices, slot: BatchService,
                                            body: bytes, words: str) -> None:
    slot.load_recipe(held.recipe(3))
    answer = client.call("POST", "/batch/jobs", body)
    assert answer.code == 400 and words in str(answer.data)
    assert order(client) == [0, 1, 2]


def test_adding_jobs_to_an_ended_batch_or_none_is_409(client: WsgiClient, held: HeldServices,
                                                      slot: BatchService) -> None:
    job = {"name": "late", "blend_file": "a.blend"}
    none = client.call("POST", "/batch/jobs", job)
    assert none.code == 409 and "No recipe submitted yet" in none.data["status"]
    held.running(slot, jobs=1).release(0)
    wait_for(lambda: slot.batch is not None and slot.batch.status is BatchStatus.FINISHED)
    ended = client.call("POST", "/batch/jobs", job)
    assert ended.code == 409
    assert ended.data["status"].startswith("The batch has ended (FINISHED): jobs can no longer be added")
    wrong = client.call("POST", "/batch/jobs", b"{}", content_type="text/plain")
    assert wrong.code == 406


def test_moving_and_skipping_a_job(client: WsgiClient, held: HeldServices, slot: BatchService) -> None:
    slot.load_recipe(held.recipe(3))
    moved = client.call("PATCH", "/batch/jobs/2", {"position": 0})
    assert moved.code == 200 and moved.data["order"] == [2, 0, 1]
    assert moved.data["status"] == "Job 2 moved to position 0 among the queued jobs"
    skipped = client.call("PATCH", "/batch/jobs/0", {"enabled": False})
    assert skipped.data["order"] == [2, 1, 0] and skipped.data["status"] == "Job 0 skipped (DISABLED)"
    back = client.call("PATCH", "/batch/jobs/0", {"enabled": True, "position": 0})
    assert back.data["order"] == [0, 2, 1]
    assert back.data["status"] == ("Job 0 queued again at the end and moved to position 0 among "
                                   "the queued jobs")
    slot.start()
    executor = wait_for(lambda: held.executors and held.executors[0])
    wait_for(lambda: executor.started == [0])   # the moved order is the one that runs


@pytest.mark.parametrize("body, path", [
    ({}, ""), ({"enabled": "no"}, "enabled"), ({"enabled": False, "position": 0}, "position"),
    ({"position": -2}, "position"), ({"priority": 1}, "priority"),
])
def test_a_bad_job_change_names_the_key(client: WsgiClient, held: HeldServices, slot: BatchService,
                                        body: dict[str, object], path: str) -> None:
    slot.load_recipe(held.recipe(3))
    answer = client.call("PATCH", "/batch/jobs/1", body)
    assert answer.code == 400 and answer.data["errors"][0]["path"] == path
    assert order(client) == [0, 1, 2]


def test_an_unknown_or_running_job_is_refused_with_the_reason(client: WsgiClient, held: HeldServices,
                                                               slot: BatchService) -> None:
    held.running(slot, jobs=3)
    unknown = client.call("PATCH", "/batch/jobs/9", {"position": 0})
    assert unknown.code == 404
    assert unknown.data == {"status": "No job 9 in this batch (its jobs are 0 to 2)", "job": 9}
    running = client.call("PATCH", "/batch/jobs/0", {"enabled": False})
    assert running.code == 409
    assert running.data["status"].startswith("Job 0 cannot be skipped: it is rendering")
    wrong = client.call("PATCH", "/batch/jobs/current", {"position": 0})
    assert wrong.code == 400 and wrong.data["status"].startswith("Wrong job id 'current'")


def test_a_recipe_refused_while_a_batch_runs_names_post_queue(client: WsgiClient) -> None:
    assert client.call("POST", "/batch/recipe", held_recipe()).code == 200
    assert client.call("GET", "/batch/start").code == 200
    wait_for(lambda: client.call("GET", "/batch").data["status"] == "RUNNING", timeout=10)
    refused = client.call("POST", "/batch/recipe", recipe_data([{}]))
    assert refused.code == 409 and "already running" in refused.data["status"]
    assert "POST /queue" in refused.data["status"]


# ------------------------------------------------------------------ errors, documents

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
