"""The pause routes called in-process (docs/api.md, Pause) around the real ``BatchService``, its
batches on a held stand-in executor (``held_service``): ``when`` read and defaulted, the
refusals with their sentence, a paused batch blocking new work until ``GET /batch/resume``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.service import BatchService, NotRunningError
from renderplus.server.app import create_app

from .held_service import HeldServices
from .helpers import recipe_data, wait_for
from .wsgi_client import WsgiClient


@pytest.fixture
def held(tmp_path: Path) -> Iterator[HeldServices]:
    made = HeldServices(tmp_path)
    yield made
    made.close()


@pytest.fixture
def slot(held: HeldServices) -> BatchService:
    return held.make()


@pytest.fixture
def client(slot: BatchService) -> WsgiClient:
    return WsgiClient(create_app(slot))


@pytest.mark.parametrize("body, when", [(None, "frame"), ({}, "frame"), ({"when": "now"}, "now"),
                                        ({"when": "job"}, "job"), ({"when": "frame"}, "frame")])
def test_pause_takes_when_and_defaults_to_the_frame(client: WsgiClient, held: HeldServices,
                                                    slot: BatchService,
                                                    body: dict[str, str] | None, when: str) -> None:
    executor = held.running(slot, jobs=2)
    answer = client.call("POST", "/batch/pause", body)
    assert answer.code == 200 and answer.data["when"] == when
    if when == "job":
        assert client.call("GET", "/batch").data["pausing"] == "job"
        executor.release(0)    # the running job ends; the next one does not start
    wait_for(lambda: slot.paused)
    poll = client.call("GET", "/batch").data
    assert poll["status"] == "PAUSED" and executor.running() == [] and executor.started == [0]


def test_pause_refusals(client: WsgiClient, held: HeldServices, slot: BatchService) -> None:
    idle = client.call("POST", "/batch/pause", {"when": "now"})
    assert idle.code == 409 and idle.data["status"] == str(NotRunningError())
    held.running(slot, jobs=2)
    bad = client.call("POST", "/batch/pause", {"when": "soon"})
    assert bad.code == 400
    assert bad.data["status"] == 'when: must be one of "now", "frame", "job"; got "soon"'
    unknown = client.call("POST", "/batch/pause", {"when": "now", "grace": 3})
    assert unknown.code == 400 and unknown.data["errors"][0]["path"] == "grace"
    assert client.call("POST", "/batch/pause", b"when=now",
                       content_type="application/x-www-form-urlencoded").code == 406
    assert client.call("POST", "/batch/pause", {"when": "job"}).code == 200
    twice = client.call("POST", "/batch/pause", {"when": "job"})
    assert twice.code == 409 and twice.data["status"] == "The batch is already pausing (job)"
    stronger = client.call("POST", "/batch/pause")
    assert stronger.code == 200 and stronger.data["when"] == "frame"
    wait_for(lambda: slot.paused)
    again = client.call("POST", "/batch/pause")
    assert again.code == 409 and again.data["status"] == "The batch is already paused"


def test_a_paused_batch_blocks_a_recipe_an_upload_and_a_start_and_resume_continues_it(
        client: WsgiClient, held: HeldServices, slot: BatchService) -> None:
    executor = held.running(slot, jobs=2)
    assert client.call("POST", "/batch/pause", {"when": "now"}).code == 200
    wait_for(lambda: slot.paused)
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
    resumed = client.call("GET", "/batch/resume")
    assert resumed.code == 200 and resumed.data["status"] == "Batch continued"
    assert resumed.data["jobs"] == 2    # the paused job is QUEUED again
    continued = wait_for(lambda: len(held.executors) == 1 and executor.running() == [0])
    assert continued and client.call("GET", "/batch").data["status"] == "RUNNING"
