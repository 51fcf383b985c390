"""The add-on's batch slot as ``addon_state.make_service`` composes it, without Blender: every
batch it runs (from the panel or over HTTP) gets ``renderplus.around``'s watchers through the
engine's observer port, so the recipe's feed is written (and its notices and power action go
out through the same watchers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser

from renderplus.addon.addon_state import make_service
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.service import BatchService, open_store
from renderplus.batch.view import BatchStatus
from tests.stand_ins import one_frame_blender
from tests.waiting import wait_for


def test_the_add_ons_service_writes_the_recipes_feed(tmp_path: Path) -> None:
    blend = tmp_path / "scene.blend"
    blend.write_bytes(b"BLENDER-v304")
    feed = tmp_path / "feed.rss"
    blender = one_frame_blender(tmp_path / "fake-blender", tmp_path / "out_0001.png")
    recipe = parse_recipe({
        "version": 2.2, "name": "add-on feed", "blender_bin": str(blender),
        "settings": {"rss": {"enabled": True, "path": str(feed)}},
        "jobs": [{"id": 0, "name": "Shot", "blend_file": str(blend)}]})
    service = make_service(default_blender=None, log_dir=tmp_path / "logs",
                           work_dir=tmp_path / "server", store=None)
    try:
        service.load_recipe(recipe)
        batch = service.start()
        assert batch.wait(60) and batch.status is BatchStatus.FINISHED
    finally:
        service.shutdown()
    parsed: Any = feedparser.parse(feed.read_bytes())
    assert [entry.tags[0].term for entry in parsed.entries[1:]] == ["FINISHED"]


def test_the_continue_queue_preference_reaches_the_service(tmp_path: Path) -> None:
    """Off (the default): a queue the last Blender left waits, held; on
    (``BatchService(continue_queue=True)``): it goes on by itself. Real services on one store,
    one after the other, as Blender quits and starts again."""
    blender = one_frame_blender(tmp_path / "fake-blender", tmp_path / "out_0001.png")
    blend = tmp_path / "scene.blend"
    blend.write_bytes(b"BLENDER-v304")
    recipe = parse_recipe({"version": 2.2, "name": "queued", "blender_bin": str(blender),
                           "jobs": [{"id": 0, "name": "Shot", "blend_file": str(blend)}]})

    def service(continue_queue: bool) -> BatchService:
        store, why = open_store(tmp_path / "state")
        assert store is not None, why
        return make_service(default_blender=None, log_dir=tmp_path / "logs",
                            work_dir=tmp_path / "server", store=store, continue_queue=continue_queue)

    first = service(False)
    first.hold_queue()
    entry = first.enqueue(recipe)      # held: it waits
    first.shutdown()
    second = service(False)            # the preference off: still held
    try:
        queue = second.queue_view()
        assert queue.held and [e.id for e in queue.entries] == [entry.id]
    finally:
        second.shutdown()
    third = service(True)              # on: it starts by itself
    try:
        wait_for(lambda: third.batch is not None and third.batch.status is BatchStatus.FINISHED,
                 timeout=60)
        assert not third.queue_view().held and third.queue_view().entries == ()
    finally:
        third.shutdown()
