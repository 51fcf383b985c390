"""``--check``'s estimate from the store's history (issue 21), without Blender: a seeded run
of the recipe's file gives the batch's rendering time; a file nothing ran gives none, named."""

from __future__ import annotations

import io
from pathlib import Path

from renderplus.batch.store import BatchStore
from renderplus.batch.store.run_history import RunFacts, record_frame_time, record_run
from renderplus.cli.check_estimate import print_estimate
from tests.batch.conftest import make_recipe


def seeded(folder: Path, source: str) -> None:
    own = {"engine": "CYCLES", "width": 100, "height": 100, "percentage": 100, "samples": 8}
    facts = RunFacts(source, scene="Scene", engine="CYCLES", width=100, height=100, percentage=100,
                     samples=8, frames=3, shape={"asked": {}, "own": own})
    with BatchStore.open(folder) as store:
        record_run(store, "r", 1, 0, facts, started=10.0, startup=2.0)
        for frame, seconds in ((1, 4.0), (2, 2.0), (3, 2.0)):
            record_frame_time(store, "r", frame, seconds, at=10.0 + frame)


def test_check_says_how_long_the_batch_renders_and_which_jobs_nothing_similar_ran(tmp_path: Path) -> None:
    out = io.StringIO()
    recipe = make_recipe([{"blend_file": "/shots/a.blend", "animated": True, "frame_end": 10}])
    print_estimate(recipe, tmp_path, out)
    assert out.getvalue() == "Estimate: none yet: nothing has rendered with this Render+\n"
    assert not list(tmp_path.iterdir())          # --check never creates a store
    seeded(tmp_path, "/shots/a.blend")
    out = io.StringIO()
    print_estimate(recipe, tmp_path, out)
    # start-up 2 s + warm-up (4 - 2) s + 10 frames x 2 s
    assert out.getvalue().startswith("Estimate: 24.0 s of rendering (done about ")
    assert out.getvalue().endswith("if started now, based on 1 similar run)\n")
    two = make_recipe([{"blend_file": "/shots/a.blend"}, {"blend_file": "/shots/new.blend", "name": "New"}])
    out = io.StringIO()
    print_estimate(two, tmp_path, out)
    assert out.getvalue() == "Estimate: none: nothing similar ever ran for 1 of 2 jobs ('New')\n"
