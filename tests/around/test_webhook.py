"""Webhook notices against a real HTTP receiver on loopback: each event, each preset's shape
(Discord's and ntfy's uploads), retries after a 500 and a 429, a hung server, a redirect, and
the URL's secret in no message."""

from __future__ import annotations

import base64
import dataclasses
import json
import socket
from email.header import decode_header
from pathlib import Path
from typing import Any

import pytest

from renderplus.around import BatchWatchers
from renderplus.around.webhook import WebhookNotices, redact_url, retry_after
from renderplus.around.webhook_presets import header_value
from renderplus.batch.observers import BatchEnded, BatchPaused, JobFailed, QueueEnded
from renderplus.batch.recipe import WebhookSettings
from renderplus.batch.view import BatchView

from .views import batch_view, job_view, recipe_with
from .webhook_receiver import SECRET, Answer, Receiver

pytestmark = pytest.mark.timeout(60)

FAST = {"timeout": 5.0, "tries": 3, "backoff": 0.01, "max_retry_after": 0.05, "end_wait": 20.0}
REASON = "Blender ran out of GPU memory (CUDA error: out of memory)"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
       b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def views(frame: Path | None = None) -> tuple[BatchView, BatchView]:
    """A batch with a failed job (while running, and ended); ``frame``: the finished job's output."""
    done = job_view(0, "FINISHED", name="Beauty", rendertime=4.0)
    if frame is not None:
        done = dataclasses.replace(done, outputs=(str(frame),))
    failed = job_view(1, "FAILED", name="Closeup", rendertime=1.0, messages=[REASON])
    return batch_view([done, failed]), batch_view([done, failed], status="FINISHED")


def notices(url: str, reports: list[str], preset: str = "json",
            events: tuple[str, ...] = ("batch_end", "queue_end", "job_failed", "paused"),
            **options: Any) -> WebhookNotices:
    settings = WebhookSettings(enabled=True, url=url, preset=preset, events=list(events))
    return WebhookNotices(settings, "/projects/shots.blend", reports.append, **{**FAST, **options})


def no_secret(texts: list[str]) -> None:
    for text in texts:
        assert SECRET not in text and "/hooks/" not in text, text


# ------------------------------------------------------------------------------ every event


def test_each_event_reaches_the_receiver_as_json(receiver: Receiver) -> None:
    reports: list[str] = []
    hook = notices(receiver.url(), reports)
    running, ended = views()
    hook.notify(JobFailed(running, 1, REASON))
    hook.notify(BatchPaused(running))
    hook.notify(BatchEnded(ended))   # waits until every notice is out
    hook.notify(QueueEnded(ended))
    got = receiver.wait_for(4)
    bodies = [json.loads(r.body) for r in got]
    assert [b["event"] for b in bodies] == ["job_failed", "paused", "batch_end", "queue_end"]
    assert all(r.method == "POST" and r.headers["Content-Type"].startswith("application/json")
               for r in got)
    assert got[0].path == f"/hooks/{SECRET}?token={SECRET}x"
    failed = bodies[0]
    assert failed["job"] == {"id": 1, "name": "Closeup", "reason": REASON}
    assert REASON in failed["message"]
    assert failed["batch"]["name"] == "shots.blend"
    end = bodies[2]
    assert end["status"] == "FINISHED"
    assert end["jobs"] == {"total": 2, "finished": 1, "failed": 1, "cancelled": 0, "running": 0}
    assert end["failed_jobs"] == [{"id": 1, "name": "Closeup", "reason": REASON}]
    assert "1 of 2 jobs finished, 1 failed" in end["message"]
    assert hook.drain(20)
    assert hook.delivered == ["job_failed", "paused", "batch_end", "queue_end"]
    assert reports == []


def test_only_the_events_asked_for_are_sent(receiver: Receiver) -> None:
    reports: list[str] = []
    hook = notices(receiver.url(), reports, events=("batch_end",))
    running, ended = views()
    hook.notify(JobFailed(running, 1, REASON))
    hook.notify(BatchPaused(running))
    hook.notify(BatchEnded(ended))
    assert [json.loads(r.body)["event"] for r in receiver.wait_for(1)] == ["batch_end"]
    assert hook.delivered == ["batch_end"] and reports == []


def test_the_watchers_send_the_webhook_with_the_rest(receiver: Receiver) -> None:
    """The one place that composes the notices (``watchers_factory``'s ``BatchWatchers``)."""
    recipe = recipe_with(notifications={"webhook": {"enabled": True, "url": receiver.url()}})
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append, webhook_options=FAST)
    running, ended = views()
    watchers.notify(JobFailed(running, 1, REASON))
    watchers.notify(BatchEnded(ended))
    got = receiver.wait_for(2)
    assert sorted(json.loads(r.body)["event"] for r in got) == ["batch_end", "job_failed"]
    watchers.close()
    assert reports == []


# ------------------------------------------------------------------------------ the presets


def test_discord_uploads_the_newest_frame_with_its_embed(receiver: Receiver, tmp_path: Path) -> None:
    frame = tmp_path / "beauty_0001.png"
    frame.write_bytes(PNG)
    reports: list[str] = []
    hook = notices(receiver.url(), reports, preset="discord")
    _, ended = views(frame)
    hook.notify(BatchEnded(ended))
    (got,) = receiver.wait_for(1)
    assert got.headers.get_content_type() == "multipart/form-data"
    parts = got.form_parts()
    assert set(parts) == {"payload_json", "files[0]"}
    payload = json.loads(bytes(parts["payload_json"].get_payload(decode=True)))
    embed = payload["embeds"][0]
    assert payload["content"] == 'Render+: batch "shots.blend" FINISHED'
    assert embed["image"] == {"url": "attachment://beauty_0001.png"}
    assert REASON in embed["description"]
    assert payload["allowed_mentions"] == {"parse": []}
    image = parts["files[0]"]
    assert image.get_filename() == "beauty_0001.png"
    assert image.get_content_type() == "image/png"
    assert image.get_payload(decode=True) == PNG
    assert reports == []


def test_discord_shows_an_exr_by_its_preview_and_posts_json_without_a_frame(
        receiver: Receiver, tmp_path: Path) -> None:
    frame = tmp_path / "beauty_0001.exr"
    frame.write_bytes(b"v/1\x01 not a picture a browser shows")
    preview = tmp_path / ".renderplus-previews" / "beauty_0001.exr.jpg"
    preview.parent.mkdir()
    preview.write_bytes(b"\xff\xd8\xff\xe0 a jpeg")
    reports: list[str] = []
    hook = notices(receiver.url(), reports, preset="discord")
    _running, ended = views(frame)
    hook.notify(BatchEnded(ended))
    hook.notify(BatchPaused(views()[0]))   # no frame at all: plain JSON
    hook.wait_sent()
    with_frame, without = receiver.wait_for(2)
    image = with_frame.form_parts()["files[0]"]
    assert image.get_filename() == "beauty_0001.exr.jpg"
    assert image.get_content_type() == "image/jpeg"
    body = json.loads(without.body)
    assert body["embeds"][0]["title"] == 'Render+: batch "shots.blend" paused'
    assert "image" not in body["embeds"][0]
    assert reports == []


def test_slack_gets_text_and_blocks_and_no_upload(receiver: Receiver, tmp_path: Path) -> None:
    frame = tmp_path / "beauty_0001.png"
    frame.write_bytes(PNG)
    reports: list[str] = []
    hook = notices(receiver.url(), reports, preset="slack")
    running, _ = views(frame)
    hook.notify(JobFailed(running, 1, REASON))
    hook.wait_sent()
    (got,) = receiver.wait_for(1)
    body = json.loads(got.body)
    assert set(body) == {"text", "blocks"}
    assert body["text"].startswith('Render+: job #1 "Closeup" FAILED')
    assert body["blocks"][0]["type"] == "header"
    assert REASON in body["blocks"][1]["text"]["text"]
    assert reports == []


def _header(value: str) -> str:
    return "".join(part.decode(charset or "ascii") if isinstance(part, bytes) else part
                   for part, charset in decode_header(value))


def test_ntfy_posts_the_text_or_puts_the_picture_with_the_text_in_a_header(
        receiver: Receiver, tmp_path: Path) -> None:
    frame = tmp_path / "beauty_0001.png"
    frame.write_bytes(PNG)
    reports: list[str] = []
    hook = notices(receiver.url(), reports, preset="ntfy")
    running, _ended = views()
    hook.notify(JobFailed(running, 1, REASON))
    hook.notify(BatchEnded(views(frame)[1]))
    text, upload = receiver.wait_for(2)
    assert text.method == "POST"
    assert text.body.decode() == f'Batch "shots.blend": {REASON}'
    assert text.headers["Title"] == 'Render+: job #1 "Closeup" FAILED'
    assert text.headers["Priority"] == "4"
    assert "renderplus" in text.headers["Tags"]
    assert upload.method == "PUT"
    assert upload.body == PNG
    assert upload.headers["Filename"] == "beauty_0001.png"
    message = _header(upload.headers["Message"])
    assert message.startswith("1 of 2 jobs finished, 1 failed\n")
    assert REASON in message
    assert reports == []


def test_header_values_keep_accents_and_line_breaks() -> None:
    assert header_value("plain") == "plain"
    encoded = header_value("Séquence\nfinie")
    assert encoded.isascii() and "\n" not in encoded
    assert base64.b64decode(encoded[10:-2]).decode() == "Séquence\nfinie"


# ------------------------------------------------------------------------------ faults


def test_a_500_is_tried_again_until_it_goes_through(receiver: Receiver) -> None:
    receiver.plan = [Answer(500), Answer(503)]
    reports: list[str] = []
    hook = notices(receiver.url(), reports)
    hook.notify(BatchEnded(views()[1]))
    assert len(receiver.wait_for(3)) == 3
    assert hook.delivered == ["batch_end"] and reports == []


def test_a_429_waits_what_retry_after_says(receiver: Receiver) -> None:
    receiver.plan = [Answer(429, (("Retry-After", "3600"),))]   # capped by max_retry_after
    reports: list[str] = []
    hook = notices(receiver.url(), reports, backoff=30.0)  # only Retry-After's wait can be short
    hook.notify(BatchEnded(views()[1]))
    assert len(receiver.wait_for(2)) == 2
    assert hook.delivered == ["batch_end"] and reports == []


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert retry_after("soon") is None and retry_after(None) is None


def test_a_server_that_keeps_failing_is_one_sentence_without_the_url(receiver: Receiver) -> None:
    receiver.plan = [Answer(502)] * 3
    reports: list[str] = []
    hook = notices(receiver.url(), reports)
    _running, ended = views()
    hook.notify(BatchEnded(ended))
    assert len(receiver.wait_for(3)) == 3
    assert reports == [f"Webhook notice of the batch's end not sent to http://127.0.0.1:"
                       f"{receiver.port}/…: it answered 502 (a server error) after 3 tries"]


def test_a_refused_request_is_not_tried_again(receiver: Receiver) -> None:
    receiver.plan = [Answer(404)]
    reports: list[str] = []
    hook = notices(receiver.url(), reports)
    hook.notify(BatchEnded(views()[1]))
    assert len(receiver.wait_for(1)) == 1
    assert len(reports) == 1 and "answered 404" in reports[0] and "after" not in reports[0]
    assert len(receiver.requests) == 1
    no_secret(reports)


def test_a_hung_server_costs_its_timeout_and_never_holds_the_batch(receiver: Receiver) -> None:
    receiver.plan = [Answer(hang=True)] * 2
    reports: list[str] = []
    hook = notices(receiver.url(), reports, timeout=0.5, tries=2)
    running, ended = views()
    hook.notify(JobFailed(running, 1, REASON))   # returns at once: the receiver hangs after it
    receiver.wait_for(1)
    hook.notify(BatchEnded(ended))               # waits, bounded, for the queue
    assert [json.loads(r.body)["event"] for r in receiver.wait_for(3)] == \
        ["job_failed", "job_failed", "batch_end"]
    assert hook.drain(20)
    assert reports == [f"Webhook notice of a failed job not sent to http://127.0.0.1:{receiver.port}/…: "
                       "no answer within 0.5 s after 2 tries"]
    assert hook.delivered == ["batch_end"]


def test_batch_end_waits_a_bounded_time_for_a_hung_server(receiver: Receiver) -> None:
    receiver.plan = [Answer(hang=True)]
    reports: list[str] = []
    hook = notices(receiver.url(), reports, timeout=30.0, tries=1, end_wait=0.2)
    hook.notify(BatchEnded(views()[1]))   # returns after end_wait, the notice still out
    assert reports == [f"Webhook notices to http://127.0.0.1:{receiver.port}/… still not sent "
                       "after 0.2 s: they go on in the background"]
    hook.close()


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.plan = [Answer(308, (("Location", receiver.url(f"/elsewhere/{SECRET}")),))]
    reports: list[str] = []
    hook = notices(receiver.url(), reports)
    hook.notify(BatchEnded(views()[1]))
    assert len(receiver.wait_for(1)) == 1
    assert len(reports) == 1
    assert "answered 308, a redirect: Render+ posts only to the address given" in reports[0]
    assert len(receiver.requests) == 1
    no_secret(reports)


def test_a_server_that_is_not_there_is_tried_again_then_said() -> None:
    with socket.socket() as sock:   # a port nothing listens on (bound, never listening)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        reports: list[str] = []
        hook = notices(f"http://127.0.0.1:{port}/hooks/{SECRET}", reports, tries=2)
        hook.notify(BatchEnded(views()[1]))
    assert len(reports) == 1
    assert reports[0].startswith(f"Webhook notice of the batch's end not sent to http://127.0.0.1:{port}/…: "
                                 "cannot connect (")
    assert reports[0].endswith("after 2 tries")
    no_secret(reports)


@pytest.mark.parametrize(("url", "why"), [
    ("", "is empty (its kept secret was lost?)"),
    ("***", 'was left out of the recipe ("***")'),
])
def test_a_url_that_is_gone_is_said_once(url: str, why: str) -> None:
    reports: list[str] = []
    hook = notices(url, reports)
    running, ended = views()
    hook.notify(JobFailed(running, 1, REASON))
    hook.notify(BatchEnded(ended))
    assert reports == [f"Webhook notices are not sent: the webhook URL {why}: set it again"]


def test_no_part_of_the_key_survives_in_a_sentence() -> None:
    from renderplus.around.webhook import _scrub

    url = f"https://bot:pw@ntfy.example/{SECRET}/x?auth={SECRET}2&v=1"
    text = f"failed at {url}; path /{SECRET}/x; auth {SECRET}2; user bot:pw"
    scrubbed = _scrub(text, url)
    assert SECRET not in scrubbed and "bot:pw" not in scrubbed
    assert scrubbed.startswith("failed at …")


@pytest.mark.parametrize(("url", "shown"), [
    (f"https://discord.com/api/webhooks/123/{SECRET}", "https://discord.com/…"),
    (f"http://ntfy.local:8080/{SECRET}?auth={SECRET}", "http://ntfy.local:8080/…"),
    ("not a url", "(the webhook URL)"),
])
def test_the_url_is_shown_as_scheme_and_host(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_notices_are_made_on_the_sender_thread(receiver: Receiver,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A notice that cannot be made (a bug) is a sentence, and the next still goes out."""
    from renderplus.around import webhook

    calls: list[int] = []

    def broken(view: BatchView, name: str) -> Any:
        calls.append(1)
        raise RuntimeError(f"bug while reading {SECRET}")

    monkeypatch.setattr(webhook, "paused_notice", broken)
    reports: list[str] = []
    hook = notices(f"{receiver.url()}", reports)
    hook.notify(BatchPaused(views()[0]))
    hook.notify(BatchEnded(views()[1]))
    assert [json.loads(r.body)["event"] for r in receiver.wait_for(1)] == ["batch_end"]
    assert calls == [1]
    assert len(reports) == 1 and reports[0].startswith("Webhook notice of the pause not sent")
    assert SECRET in receiver.url() and SECRET not in reports[0]



def test_a_full_queue_drops_notices_and_says_so_from_the_sender(
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from renderplus.around import webhook

    monkeypatch.setattr(webhook, "MAX_WAITING", 1)
    receiver.plan = [Answer(hang=True)]
    reports: list[str] = []
    hook = notices(receiver.url(), reports, timeout=2.0, tries=1)
    running, ended = views()
    hook.notify(JobFailed(running, 1, REASON))
    receiver.wait_for(1)                  # the sender waits on the hung server; the queue is empty
    hook.notify(BatchPaused(running))     # queued
    hook.notify(QueueEnded(ended))        # dropped
    hook.notify(BatchEnded(ended))        # dropped; waits for the queue
    assert [json.loads(r.body)["event"] for r in receiver.wait_for(2)] == ["job_failed", "paused"]
    assert reports[1:] == ["2 webhook notice(s) dropped: the queue of 1 waiting notices was full"]
    assert hook.delivered == ["paused"]


def test_a_failed_job_shows_only_its_own_frame(tmp_path: Path) -> None:
    from renderplus.around.webhook_notice import thumbnail

    other, own = tmp_path / "beauty_0001.png", tmp_path / "closeup_0001.png"
    other.write_bytes(PNG)
    own.write_bytes(PNG + b"own")
    done = dataclasses.replace(job_view(0, "FINISHED", rendertime=4.0), outputs=(str(other),))
    failed = job_view(1, "FAILED", rendertime=1.0, messages=[REASON])
    view = batch_view([done, failed])
    assert thumbnail(view, 1) is None
    picture = thumbnail(batch_view([done, dataclasses.replace(failed, outputs=(str(own),))]), 1)
    assert picture is not None and picture.name == "closeup_0001.png"
    newest = thumbnail(view)
    assert newest is not None and newest.name == "beauty_0001.png" and newest.mime == "image/png"
