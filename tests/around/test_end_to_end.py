"""A real batch (real Blender render) with the RSS feed, mail, desktop notices and a power-off
that is called off: everything around a batch, through the engine's observer port."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import feedparser
import pytest

from renderplus.around import watchers_factory
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import Batch, RunOptions
from renderplus.batch.view import BatchStatus

from .conftest import NotificationListener, SmtpServer

PASSWORD = "e2e-Secret-42"

pytestmark = [
    pytest.mark.blender, pytest.mark.slow, pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which("notify-send") is None,
                       reason="notify-send (libnotify-bin) is not installed"),
]


def feed_statuses(path: Path) -> tuple[str, ...] | None:
    if not path.exists():
        return None
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    return tuple(entry.tags[0].term for entry in feed.entries[1:])


def test_batch_with_rss_mail_desktop_and_a_cancelled_poweroff(
        tmp_path: Path, blend_factory: Callable[..., Path], notifications: NotificationListener,
        smtp_factory: Callable[..., SmtpServer], ca_file: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the mail server's CA, as a system would
    smtp = smtp_factory("starttls", user="render@studio.test", password=PASSWORD)
    blend = blend_factory(engine="CYCLES", frames=1)
    feed_path = tmp_path / "feed" / "batch.rss"
    recipe = parse_recipe({
        "name": str(blend), "version": 2.2,
        "settings": {"rss": {"enabled": True, "path": str(feed_path)}},
        "poweroff": {"enabled": True, "action": "POWEROFF"},
        "notifications": {
            "desktop": True, "desktop_job_failures": True,
            "mail": {"enabled": True, "user": "render@studio.test", "pass": PASSWORD, "ssl": False,
                     "to": "lead@studio.test", "server": smtp.address},
        },
        "jobs": [
            {"id": 0, "name": "Beauty", "blend_file": str(blend), "output": str(tmp_path / "beauty")},
            {"id": 1, "name": "Broken", "blend_file": str(tmp_path / "missing.blend"),
             "output": str(tmp_path / "broken")},
        ],
    })
    power_calls: list[list[str]] = []

    def power_runner(argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        power_calls.append(list(argv))
        return subprocess.CompletedProcess(list(argv), 0)

    batch = Batch(recipe, RunOptions(),
                  observers=[watchers_factory(power_runner=power_runner, poweroff_grace=60.0)])
    seen: list[tuple[str, ...]] = []

    def look_at_feed() -> None:
        statuses = feed_statuses(feed_path)
        if statuses is not None and (not seen or seen[-1] != statuses):
            seen.append(statuses)

    def watch_feed() -> None:  # a reader that looks again whenever the batch moved
        revision = -1
        while not batch.wait(0):
            revision = batch.wait_change(revision, timeout=0.5)
            look_at_feed()

    watcher = threading.Thread(target=watch_feed, daemon=True)
    watcher.start()
    assert batch.run() is BatchStatus.FINISHED
    watcher.join(5)

    # The feed followed the batch and ends with the final statuses.
    look_at_feed()
    rank = {"QUEUED": 0, "RUNNING": 1, "FINISHED": 2, "FAILED": 2}
    for job in range(2):  # each job's status only moves forward, as in the batch
        ranks = [rank[statuses[job]] for statuses in seen]
        assert ranks == sorted(ranks), seen
    assert any("RUNNING" in statuses for statuses in seen), seen
    assert seen[-1] == ("FINISHED", "FAILED")
    assert PASSWORD not in feed_path.read_text()

    # Desktop: the failed job, then the batch's end.
    calls = notifications.wait_for(2)
    assert [c.summary for c in calls] == ['Render+: job #1 "Broken" FAILED',
                                          f'Render+: batch "{blend.name}" FINISHED']
    assert "1 of 2 jobs finished, 1 failed" in calls[1].body

    # Mail: over STARTTLS with the login, saying what happened to each job.
    assert smtp.logins == [("render@studio.test", PASSWORD)]
    [mail] = smtp.messages
    assert mail["Subject"] == f'Render+: batch "{blend.name}" FINISHED — 1 of 2 jobs finished, 1 failed'
    body = mail.get_content()
    assert '#0 "Beauty"' in body and '#1 "Broken"' in body and "missing.blend" in body

    # Power-off: announced, visible in the view and the poll, called off by Batch.cancel().
    view = batch.view()
    assert view.poweroff is not None and view.poweroff.action == "POWEROFF"
    assert batch.snapshot()["poweroff"] == {"action": "POWEROFF", "at": view.poweroff.at}
    assert any(m.startswith("Power-off at") for m in view.messages)
    assert batch.cancel()
    assert batch.wait_poweroff(10)
    final = batch.view()
    assert final.poweroff is None and "Power-off called off" in final.messages
    assert power_calls == []
    assert not any(PASSWORD in m for m in final.messages)
