"""A queued batch with a webhook (the real service and queue, a stand-in executor): its URL waits
in the 0600 secrets file, never in the store; when the batch runs, the receiver gets its end and
the queue's end; afterwards the secrets file is gone and no file or poll holds the URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from renderplus.around import watchers_factory
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.secrets import SECRETS_FOLDER
from renderplus.batch.store import BatchStore
from tests.server.held_service import HeldServices
from tests.waiting import wait_for

from .webhook_receiver import SECRET, Receiver

pytestmark = pytest.mark.timeout(120)

FAST = {"timeout": 10.0, "tries": 3, "backoff": 0.05, "end_wait": 30.0}


def holding_secret(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


def test_a_queued_batch_keeps_its_webhook_url_aside_and_uses_it(tmp_path: Path,
                                                                 receiver: Receiver) -> None:
    held = HeldServices(tmp_path)
    store = BatchStore.open(tmp_path / "state")
    service = held.make(store=store, observers=(watchers_factory(webhook_options=FAST),))
    try:
        first = held.running(service, jobs=1)
        night = held.data(1, name="night")
        night["notifications"] = {"webhook": {"enabled": True, "url": receiver.url(),
                                              "events": ["batch_end", "queue_end"]}}
        service.enqueue(parse_recipe(night))
        kept = tmp_path / "state" / SECRETS_FOLDER / "queued-1.json"
        assert kept.stat().st_mode & 0o777 == 0o600
        assert holding_secret(tmp_path) == [str(kept)]    # only the secrets file, while it waits

        first.release(0)
        wait_for(lambda: len(held.executors) == 2 and held.executors[1].running() == [0])
        held.executors[1].release(0)
        got = receiver.wait_for(2)
        assert [json.loads(r.body)["event"] for r in got] == ["batch_end", "queue_end"]
        assert json.loads(got[0].body)["batch"]["name"] == "night"
        wait_for(lambda: not kept.exists())
        poll = json.dumps(service.snapshot())
    finally:
        held.close()
        store.close()
    assert SECRET not in poll
    assert not any("Webhook" in m for m in json.loads(poll)["messages"])
    assert holding_secret(tmp_path) == []
