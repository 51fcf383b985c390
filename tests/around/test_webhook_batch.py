"""A real batch (real Blender) with a webhook: a job that fails for a missing camera reaches the
receiver as ``job_failed`` with Blender's reason, the batch's end as ``batch_end``; the URL's
secret is in no file the batch wrote (log, store, feed, work folder) and in no poll, even
where a notice could not be delivered (that is one message, with the address redacted)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.around import watchers_factory
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.store import BatchStore
from renderplus.batch.view import BatchStatus, JobStatus

from .webhook_receiver import SECRET, Answer, Receiver

pytestmark = [pytest.mark.blender, pytest.mark.slow, pytest.mark.timeout(300)]

FAST = {"timeout": 10.0, "tries": 3, "backoff": 0.05, "end_wait": 30.0}


def test_a_real_batch_tells_the_webhook_and_keeps_its_secret(
        tmp_path: Path, blend_factory: Callable[..., Path], receiver: Receiver) -> None:
    blend = blend_factory(engine="CYCLES", frames=1)
    receiver.plan = [Answer(500)] * 3   # the failed job's notice is given up: a message
    feed = tmp_path / "feed" / "batch.rss"
    recipe = parse_recipe({
        "name": str(blend), "version": 2.2,
        "settings": {"write_log": True, "rss": {"enabled": True, "path": str(feed)}},
        "notifications": {"webhook": {"enabled": True, "url": receiver.url(), "preset": "json"}},
        "jobs": [
            {"id": 0, "name": "Beauty", "blend_file": str(blend),
             "output": str(tmp_path / "out" / "beauty_")},
            {"id": 1, "name": "Closeup", "blend_file": str(blend), "camera": "Cam2",
             "output": str(tmp_path / "out" / "closeup_")},
        ],
    })
    store = BatchStore.open(tmp_path / "state")
    service = BatchService(RunOptions(log_dir=str(tmp_path / "logs")), work_dir=tmp_path / "work",
                           store=store, observers=(watchers_factory(webhook_options=FAST),))
    try:
        service.load_recipe(recipe)
        batch = service.start()
        assert batch.wait(240)
        view = batch.view()
        polls = [json.dumps(service.snapshot()).encode(), view.json_bytes]
    finally:
        service.shutdown(timeout=30)
        store.close()

    assert view.status is BatchStatus.FINISHED
    assert [job.status for job in view.jobs] == [JobStatus.FINISHED, JobStatus.FAILED]
    got = receiver.wait_for(4)
    assert [json.loads(r.body)["event"] for r in got] == ["job_failed"] * 3 + ["batch_end"]
    bodies = {body["event"]: body for body in (json.loads(r.body) for r in got)}
    assert set(bodies) == {"job_failed", "batch_end"}
    reason = bodies["job_failed"]["job"]["reason"]
    assert "Camera 'Cam2' not found" in reason
    assert bodies["job_failed"]["job"]["id"] == 1
    assert bodies["batch_end"]["jobs"]["failed"] == 1
    assert bodies["batch_end"]["failed_jobs"][0]["reason"] == reason
    said = f"Webhook notice of a failed job not sent to http://127.0.0.1:{receiver.port}/…: " \
           "it answered 500 (a server error) after 3 tries"
    assert said in view.messages

    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.parent == tmp_path / "logs" for path in written), written   # the log
    assert any(path.name == "renderplus.db" for path in written)    # the store
    assert feed.exists()
    logs = [path.read_bytes() for path in written if path.parent == tmp_path / "logs"]
    assert any(b'"url": "***"' in log for log in logs)   # the recipe is there, redacted
    assert any(said.encode() in log for log in logs)     # and the message
    leaking = [str(path) for path in written if SECRET.encode() in path.read_bytes()]
    assert leaking == []
    for poll in polls:
        assert SECRET.encode() not in poll
