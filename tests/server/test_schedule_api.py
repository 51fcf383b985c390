"""``GET /batch/resume`` of a batch its window paused, asked while the window is closed: 409,
saying when it continues by itself, and the CLI's ``--resume`` says the same (docs/api.md, When
to render). The batch goes by an injected clock; its Blender is a stand-in whose frames wait."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from renderplus.batch.clock import ManualClock
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.view import BatchStatus
from renderplus.server import start_server
from tests.batch.schedule_fakes import GatedBlender, at
from tests.server.helpers import call
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SENTENCE = "The batch is outside its window 22:00-06:00: it continues by itself at 22:00"


def test_resume_outside_the_window_answers_409_and_the_cli_says_the_same(
        tmp_path: Path, own_config_folder: Path) -> None:
    blender = GatedBlender(tmp_path)
    clock = ManualClock(at("23:00"))
    service = BatchService(RunOptions(clock=clock), work_dir=tmp_path / "work")
    service.load_recipe(parse_recipe(blender.recipe(
        settings={"window": {"start": "22:00", "end": "06:00"}})))
    batch = service.start()
    clock.wait_for_timer(at("06:00", days=1))
    blender.open(1)
    wait_for(lambda: batch.view().job(0).frames_done == 1, timeout=30, interval=0.02)
    clock.set(at("06:00", days=1))
    blender.open(2)
    wait_for(lambda: batch.status is BatchStatus.PAUSED, timeout=30, interval=0.02)
    clock.set(at("09:30", days=1))
    handle = start_server(service, port=0, no_token=True, token_file=False)
    try:
        answer = call(handle.port, "GET", "/batch/resume", auth=False)
        assert (answer.code, answer.data["status"]) == (409, SENTENCE)
        cli = subprocess.run([sys.executable, "-m", "renderplus.server", "--resume",
                              "--port", str(handle.port)], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
        assert cli.returncode != 0
        assert cli.stderr.strip() == f"server: {SENTENCE}"
        poll = call(handle.port, "GET", "/batch", auth=False).data
        assert poll["status"] == "PAUSED" and poll["continues_at"] == at("22:00", days=1)
        assert blender.rendered() == {1: 1, 2: 1}
    finally:
        handle.stop()
        service.shutdown()
        assert batch.cancel() and batch.wait(30)


def test_the_document_has_the_recipe_keys_of_when_to_render() -> None:
    from renderplus.server.openapi import openapi_document

    recipe = openapi_document()["components"]["schemas"]["Recipe"]["properties"]
    window = recipe["settings"]["properties"]["window"]
    assert window["nullable"] and window["required"] == ["start", "end"]
    assert set(window["properties"]) == {"start", "end"}
    assert "spans midnight" in window["description"]
    start_at = recipe["start_at"]
    assert start_at["nullable"] and len(start_at["oneOf"]) == 2
    assert "HH:MM" in start_at["description"]
