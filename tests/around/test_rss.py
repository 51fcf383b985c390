"""The RSS feed, read back by a real feed parser (feedparser)."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import feedparser
import pytest

from renderplus.around import BatchWatchers
from renderplus.around.rss import FeedCache, FeedWriter, build_feed
from renderplus.batch.view import BatchStatus, BatchView, JobStatus, JobView, Times
from tests.waiting import wait_for

from .views import batch_view, job_view, mail_section, recipe_with

PASSWORD = "feed-must-not-show-this"


def parse(path: Path) -> feedparser.FeedParserDict:
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, f"not a well-formed feed: {feed.get('bozo_exception')}"
    assert feed.version == "rss20"
    return feed


def job_statuses(feed: feedparser.FeedParserDict) -> list[str]:
    """Each job item's status, in job order (the first item is the batch's progress)."""
    return [entry.tags[0].term for entry in feed.entries[1:]]


def wait_for_feed(path: Path, statuses: list[str], timeout: float = 20.0) -> feedparser.FeedParserDict:
    """The feed once its writer thread has written these job statuses (the last one read when
    it never does: the caller's assertion then shows what it said)."""
    seen: list[feedparser.FeedParserDict] = []

    def written() -> bool:
        if path.exists():
            seen.append(parse(path))
            return job_statuses(seen[-1]) == statuses
        return False

    try:
        wait_for(written, timeout=timeout, interval=0.02)
    except AssertionError:
        if not seen:
            raise AssertionError(f"{path} was never written") from None
    return seen[-1]


def test_statuses_follow_the_batch(tmp_path: Path) -> None:
    feed_path = tmp_path / "feeds" / "render.rss"
    recipe = recipe_with(jobs=3, settings={"rss": {"enabled": True, "path": str(feed_path)}},
                         notifications=mail_section("127.0.0.1:1", password=PASSWORD))
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append)
    timeline = [
        ["RUNNING", "QUEUED", "DISABLED"],
        ["FINISHED", "RUNNING", "DISABLED"],
        ["FINISHED", "FAILED", "DISABLED"],
    ]
    for statuses in timeline:
        jobs = [job_view(i, s, name=f"Shot {i}", rendertime=5.0, progress=40.0,
                         engine="CYCLES", data={"samples_done": "12", "samples_todo": "64"})
                for i, s in enumerate(statuses)]
        watchers.job_changed(batch_view(jobs, eta=250.0))
        feed = wait_for_feed(feed_path, statuses)
        assert len(feed.entries) == 1 + len(statuses)  # progress item + one item per job
        assert job_statuses(feed) == statuses
        done = sum(s in ("FINISHED", "FAILED") for s in statuses)
        assert feed.entries[0].title.startswith(f"{done} of 2 jobs finished")
    assert "ETA 4 min 10 s" in feed.entries[0].title
    running = parse(feed_path)
    jobs = [job_view(0, "FINISHED", rendertime=5.0), job_view(1, "FAILED", rendertime=1.0),
            job_view(2, "DISABLED")]
    watchers.batch_ended(batch_view(jobs, status="FINISHED"))
    watchers.close()
    ended = parse(feed_path)
    assert ended.feed.title == "Render+: shots.blend (FINISHED)"
    assert ended.entries[0].title == "Batch FINISHED: 1 of 2 jobs finished, 1 failed"
    # guids stay put, so readers update items instead of adding new ones
    assert [e.id for e in ended.entries] == [e.id for e in running.entries]
    assert len({e.id for e in ended.entries}) == 4
    assert PASSWORD not in feed_path.read_text()
    assert not [r for r in reports if "RSS" in r]


def test_job_item_carries_times_engine_data_and_messages(tmp_path: Path) -> None:
    jobs = [job_view(0, "FAILED", name="Closeup <v2> & co", rendertime=3.0, engine="CYCLES",
                     data={"frame": "7", "mem": "127.56M"},
                     messages=["Error: Camera 'Cam\x07' not found"])]
    path = tmp_path / "feed.rss"
    path.write_bytes(build_feed(batch_view(jobs), str(path), host="node07"))
    feed = parse(path)
    item = feed.entries[1]
    assert item.title == 'Job #0 "Closeup <v2> & co": FAILED'
    for text in ("CYCLES", "127.56M", "Frame:", "Camera 'Cam' not found", "3.0 s"):
        assert text in item.summary
    assert item.published_parsed is not None
    assert f"<link>{path.as_uri()}</link>" in path.read_text()
    assert "node07" in feed.feed.subtitle


def test_rewrite_is_atomic_and_keeps_a_readable_mode(tmp_path: Path) -> None:
    path = tmp_path / "feed.rss"
    writer = FeedWriter(str(path))
    assert writer.write(batch_view([job_view(0, "RUNNING")])) is None
    first_inode = path.stat().st_ino
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    os.chmod(path, 0o640)
    assert writer.write(batch_view([job_view(0, "FINISHED", rendertime=1.0)])) is None
    assert path.stat().st_ino != first_inode  # replaced, not rewritten in place
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["feed.rss"]  # no temporary file left behind
    assert job_statuses(parse(path)) == ["FINISHED"]


def test_unwritable_feed_is_reported_once_and_the_batch_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the feed's folder should be")
    recipe = recipe_with(jobs=1, settings={"rss": {"enabled": True,
                                                   "path": str(blocker / "feed.rss")}})
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append)
    for status in ("RUNNING", "FINISHED"):
        watchers.job_changed(batch_view([job_view(0, status, rendertime=1.0)]))
    watchers.close()
    assert len(reports) == 1
    assert "RSS feed" in reports[0] and str(blocker / "feed.rss") in reports[0]


ODD_VIEWS = {
    "empty": BatchView(BatchStatus.WAITING),
    "from an empty poll": BatchView.from_json({}),
    "from a poll with odd values": BatchView.from_json(
        {"status": 3, "jobs": [{}, {"status": "NONSENSE", "times": None, "engine": None}]}),
    "unknown numbers": BatchView(
        BatchStatus.RUNNING, name="\x00/\x1b\\", eta=math.inf, progress=math.nan,
        messages=("bell \x07 and <b>markup</b>",),
        jobs=(JobView(0, JobStatus.RUNNING, name="\x0c", progress=math.nan, eta=math.nan,
                      times=Times(math.nan, None), engine_data={"<k>": "&v"}),)),
}


@pytest.mark.parametrize("view", ODD_VIEWS.values(), ids=ODD_VIEWS.keys())
def test_odd_views_still_give_a_valid_feed(tmp_path: Path, view: BatchView) -> None:
    path = tmp_path / "feed.rss"
    assert FeedWriter(str(path)).write(view) is None
    parse(path)


def test_relative_feed_path_is_resolved_against_the_recipe(tmp_path: Path) -> None:
    recipe = recipe_with(jobs=1, base_dir=str(tmp_path),
                         settings={"rss": {"enabled": True, "path": "out/feed.rss"}})
    watchers = BatchWatchers(recipe, lambda message: None)
    watchers.job_changed(batch_view([job_view(0, "RUNNING")]))
    assert job_statuses(wait_for_feed(tmp_path / "out" / "feed.rss", ["RUNNING"])) == ["RUNNING"]
    watchers.close()


def test_cached_rewrite_matches_a_fresh_one(tmp_path: Path) -> None:
    """Reusing unchanged jobs' text must give exactly what a fresh build gives."""
    path = str(tmp_path / "feed.rss")
    jobs = [job_view(i, "QUEUED", name=f"Shot {i}") for i in range(50)]
    cache: FeedCache = {}
    build_feed(batch_view(jobs), path, now=1.0, host="h", cache=cache)
    jobs[7] = job_view(7, "FAILED", name="Shot 7", rendertime=2.0, messages=["Error: boom"])
    view = batch_view(jobs)
    cached = build_feed(view, path, now=2.0, host="h", cache=cache)
    assert cached == build_feed(view, path, now=2.0, host="h")
    assert b"Error: boom" in cached


def test_writer_thread_writes_the_latest_view(tmp_path: Path) -> None:
    path = tmp_path / "feed.rss"
    problems: list[str] = []
    writer = FeedWriter(str(path), on_problem=problems.append)
    for status in ("QUEUED", "RUNNING", "FINISHED"):
        writer.submit(batch_view([job_view(0, status, rendertime=1.0)]))
    assert writer.flush(20)
    assert job_statuses(parse(path)) == ["FINISHED"]
    assert writer.close(5)
    writer.submit(batch_view([job_view(0, "FAILED")]))  # after close: ignored
    assert writer.flush(5) and job_statuses(parse(path)) == ["FINISHED"]
    assert problems == []
