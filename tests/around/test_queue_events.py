"""A paused batch and the end of the queue are events of their own: an item in the batch's
feed and a desktop notice each; the power action waits until nothing is queued."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest

from renderplus.around import BatchWatchers
from renderplus.batch.observers import BatchPaused, QueueEnded

from .conftest import NotificationListener
from .views import batch_view, job_view, recipe_with


def feed_titles(path: Path) -> list[str]:
    return [item.findtext("title") or "" for item in ET.parse(path).getroot().iter("item")]


def test_paused_and_queue_finished_are_feed_items(tmp_path: Path) -> None:
    feed = tmp_path / "feed.rss"
    recipe = recipe_with(jobs=1, settings={"rss": {"enabled": True, "path": str(feed)}})
    watchers = BatchWatchers(recipe, lambda message: None)
    watchers.notify(BatchPaused(batch_view([job_view(0, "QUEUED")], status="RUNNING")))
    watchers.notify(QueueEnded(batch_view([job_view(0, "FINISHED", rendertime=2.0)],
                                          status="FINISHED")))
    watchers.close()
    titles = feed_titles(feed)
    assert "Batch paused" in titles and "Queue finished" in titles
    assert titles.index("Batch paused") < titles.index("Queue finished")


@pytest.mark.skipif(shutil.which("notify-send") is None,
                    reason="notify-send (libnotify-bin) is not installed")
def test_paused_and_queue_finished_are_desktop_notices(notifications: NotificationListener) -> None:
    recipe = recipe_with(jobs=1, notifications={"desktop": True})
    watchers = BatchWatchers(recipe, lambda message: None, platform="linux")
    watchers.notify(BatchPaused(batch_view([job_view(0, "QUEUED")])))
    watchers.notify(QueueEnded(batch_view([job_view(0, "FINISHED", rendertime=2.0)],
                                          status="FINISHED")))
    calls = notifications.wait_for(2)
    watchers.close()
    summaries = sorted(call.summary for call in calls)
    assert summaries == ['Render+: batch "shots.blend" paused', "Render+: queue finished"], summaries
    assert any("The last batch" in call.body for call in calls)


def test_no_desktop_notice_unless_asked(tmp_path: Path) -> None:
    reports: list[str] = []
    watchers = BatchWatchers(recipe_with(jobs=1), reports.append, platform="linux")
    watchers.notify(QueueEnded(batch_view([job_view(0, "FINISHED")], status="FINISHED")))
    watchers.close()
    assert reports == []


def test_the_power_action_waits_while_batches_are_queued() -> None:
    calls: list[list[str]] = []
    reports: list[str] = []

    def runner(argv: Sequence[str]) -> None:
        calls.append(list(argv))

    queued = [True]
    recipe = recipe_with(jobs=1, poweroff={"enabled": True, "action": "SLEEP"})
    ended = batch_view([job_view(0, "FINISHED", rendertime=1.0)], status="FINISHED")
    watchers = BatchWatchers(recipe, reports.append, power_runner=runner,
                             poweroff_grace=0.0, platform="linux",
                             queue_empty=lambda: not queued[0])
    watchers.batch_ended(ended)
    assert not watchers.poweroff_pending and calls == []
    assert reports == ["No sleep yet: batches are queued behind this one (the last batch's power "
                       "setting applies when the queue ends)"]
    watchers.close()
    queued[0] = False
    last = BatchWatchers(recipe, reports.append, power_runner=runner, poweroff_grace=0.0,
                         platform="linux", queue_empty=lambda: not queued[0])
    last.batch_ended(ended)
    assert last.wait_poweroff(10) and calls and calls[0][-1] == "suspend"
    last.close()
