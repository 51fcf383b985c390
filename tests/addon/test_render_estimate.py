"""The estimate under Render, without Blender: from a seeded history of the artist's file, as a
fresh saved copy of it would render; moved by a start time and a window; kept while neither the
recipe nor the history moves."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from renderplus.addon.render_estimate import EstimateCache, estimate
from renderplus.batch.recipe import Recipe
from renderplus.batch.store import BatchStore
from renderplus.batch.store.run_history import RunFacts, record_frame_time, record_run
from tests.batch.conftest import make_recipe
from tests.cli.test_check_estimate import seeded

SOURCE = "/shots/a.blend"


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 6, 10, hour, minute).timestamp()


def copy_recipe(**extra: Any) -> Recipe:
    """As the add-on builds it: the batch's own file is a copy; ``filename`` names the artist's."""
    return make_recipe([{"blend_file": "/copies/a-7.blend", "filename": SOURCE, "animated": True,
                         "frame_end": 10}], **extra)


def test_no_history_says_so_and_a_seeded_one_gives_the_length_and_the_end(tmp_path: Path) -> None:
    with BatchStore.open(tmp_path) as store:
        assert estimate(copy_recipe(), store, at(18)).sentence(at(18)) == \
            "No estimate yet: nothing similar has rendered"
    seeded(tmp_path, SOURCE)
    with BatchStore.open(tmp_path) as store:
        found = estimate(copy_recipe(), store, at(18))
    assert found.seconds == 24.0 and found.runs == 1 and found.ends == at(18) + 24.0
    assert found.sentence(at(18)) == \
        "About 24.0 s of rendering, done about 18:00 (based on 1 similar run)"


def test_a_start_time_and_a_window_move_the_start_and_the_end(tmp_path: Path) -> None:
    seeded(tmp_path, SOURCE)
    with BatchStore.open(tmp_path) as store:
        later = estimate(copy_recipe(start_at="22:00"), store, at(18))
        windowed = estimate(copy_recipe(settings={"window": {"start": "23:00", "end": "06:00"}}),
                            store, at(18))
    assert later.begins == at(22) and later.sentence(at(18)).startswith(
        "About 24.0 s of rendering, starts 22:00, done about 22:00")
    assert windowed.begins == at(23)


def test_the_cache_reads_the_history_again_only_when_it_or_the_recipe_moved(tmp_path: Path) -> None:
    now = [at(18)]
    cache = EstimateCache(clock=lambda: now[0])
    with BatchStore.open(tmp_path) as store:
        first = cache.get(copy_recipe(), store)
        assert first.seconds is None
        assert cache.get(copy_recipe(), store) is first
        own = {"engine": "CYCLES", "width": 100, "height": 100, "percentage": 100, "samples": 8}
        facts = RunFacts(SOURCE, scene="Scene", engine="CYCLES", width=100, height=100,
                         percentage=100, samples=8, frames=2, shape={"asked": {}, "own": own})
        record_run(store, "new", 1, 0, facts, started=10.0, startup=1.0)
        for frame in (1, 2):
            record_frame_time(store, "new", frame, 1.0, at=10.0 + frame)
        second = cache.get(copy_recipe(), store)   # a run was recorded: read again
        assert second.seconds is not None and second.runs == 1
        other = cache.get(make_recipe([{"blend_file": "/copies/b.blend", "filename": "/b.blend"}]),
                          store)
        assert other.seconds is None
