"""Estimates from history (issue 21), without Blender: which runs are similar, how a frame's
time scales with pixels and samples, the start-up and warm-up apart, and the live ETA."""

from __future__ import annotations

from typing import Any

import pytest

from renderplus.batch.estimate import JobEstimate, asked, estimate_job
from renderplus.batch.job_eta import queued_eta, running_eta
from renderplus.batch.run_record import RunTiming
from renderplus.batch.store.run_history import RecordedRun, RunFacts
from tests.batch.conftest import make_recipe

FILE = "/shots/a.blend"
OWN = {"engine": "CYCLES", "width": 100, "height": 100, "percentage": 100, "samples": 10,
       "camera": "Camera", "device": "CPU", "threads": 4}


def run(seconds: list[float], *, samples: int = 10, width: int = 100, engine: str = "CYCLES",
        startup: float = 2.0, scene: str = "Scene", asked_scene: str = "",
        asked_samples: int | None = None, camera: str = "Camera", started: float = 0.0) -> RecordedRun:
    facts = RunFacts(FILE, scene=scene, camera=camera, engine=engine, device="CPU", threads=4,
                     blender="4.2.0", width=width, height=100, percentage=100, samples=samples,
                     frames=len(seconds),
                     shape={"asked": {"scene": asked_scene, "samples": asked_samples},
                            "own": dict(OWN, engine=engine)})
    return RecordedRun("r", 1, 0, facts, started, startup, started + 9, "FINISHED", tuple(seconds))


def job(frames: int, **extra: Any) -> tuple[Any, Any]:
    recipe = make_recipe([{"blend_file": FILE, "animated": True, "frame_start": 1,
                           "frame_end": frames, **extra}])
    return recipe, recipe.jobs[0]


def test_nothing_similar_is_none_and_another_engine_is_not_similar() -> None:
    recipe, the_job = job(5)
    assert estimate_job(recipe, the_job, []) is None
    assert estimate_job(recipe, the_job, [run([3.0, 1.0, 1.0], engine="BLENDER_EEVEE")],
                        ) is not None  # the job asks no engine: the file's, whatever it is
    recipe, eevee = job(5, engine="BLENDER_WORKBENCH")
    assert estimate_job(recipe, eevee, [run([3.0, 1.0, 1.0])]) is None


def test_same_work_takes_the_median_steady_frame_with_start_up_and_warm_up_apart() -> None:
    recipe, the_job = job(10)
    estimate = estimate_job(recipe, the_job, [run([3.0, 1.0, 1.0, 1.2]), run([2.5, 0.9, 1.1])])
    assert estimate is not None and estimate.runs == 2
    assert estimate.per_frame == pytest.approx(1.0)   # the median of each run's frames after the first
    assert estimate.startup == 2.0
    assert estimate.warmup == pytest.approx(1.75, abs=0.01)       # first frame's extra
    assert estimate.seconds == pytest.approx(2.0 + 1.75 + 10 * 1.0, abs=0.1)


def test_samples_scale_in_proportion_from_one_run_and_by_a_fit_from_two() -> None:
    recipe, double = job(4, cycles={"samples": 20})
    one = estimate_job(recipe, double, [run([3.0, 1.0, 1.0])])
    assert one is not None and one.per_frame == pytest.approx(2.0)
    # two works: 10 samples -> 1.5 s, 30 samples -> 2.5 s: a = 1.0 fixed, b = 0.05 s per sample
    two = estimate_job(recipe, double, [run([3.0, 1.5, 1.5]), run([4.0, 2.5, 2.5], samples=30,
                                                                   asked_samples=30)])
    assert two is not None and two.per_frame == pytest.approx(2.0, abs=0.01) and two.runs == 2


def test_size_scales_by_pixels_and_the_global_percentage_counts() -> None:
    recipe, half = job(4, size=[50, 100])
    estimate = estimate_job(recipe, half, [run([2.0, 1.0, 1.0])])
    assert estimate is not None and estimate.per_frame == pytest.approx(0.5)
    recipe = make_recipe([{"blend_file": FILE}],
                         settings={"global_percentage": {"enabled": True, "value": 50}})
    estimate = estimate_job(recipe, recipe.jobs[0], [run([2.0, 1.0, 1.0])])
    assert estimate is not None and estimate.per_frame == pytest.approx(0.25)


def test_runs_of_the_same_scene_and_camera_are_preferred() -> None:
    recipe, other_scene = job(2, scene="Night")
    runs = [run([2.0, 1.0, 1.0]), run([2.0, 4.0, 4.0], scene="Night", asked_scene="Night")]
    estimate = estimate_job(recipe, other_scene, runs)
    assert estimate is not None and estimate.per_frame == pytest.approx(4.0) and estimate.runs == 1
    recipe, default_scene = job(2)
    estimate = estimate_job(recipe, default_scene, runs)
    assert estimate is not None and estimate.per_frame == pytest.approx(1.0)
    recipe, close_up = job(2, camera="CloseUp")
    runs = [run([2.0, 1.0, 1.0]), run([2.0, 3.0, 3.0], camera="CloseUp")]
    estimate = estimate_job(recipe, close_up, runs)
    assert estimate is not None and estimate.per_frame == pytest.approx(3.0)


def test_asked_reads_the_overrides_and_the_recipe_wide_size() -> None:
    recipe = make_recipe([{"blend_file": FILE, "size": [10, 20], "cycles": {"samples": 7},
                           "section": {"enabled": True, "x": 0, "y": 0, "width": 0.5, "height": 0.5}}],
                         settings={"global_size": {"enabled": True, "value": [30, 40]}})
    wants = asked(recipe, recipe.jobs[0])
    assert (wants["width"], wants["height"], wants["samples"], wants["border"]) == (30, 40, 7, 0.25)


def test_the_live_eta_uses_the_history_until_its_own_frames_say_more() -> None:
    prior = JobEstimate(16.0, 3, 1.0, startup=2.0, warmup=2.0)
    assert queued_eta(prior, 12) == (16.0, 3)
    assert queued_eta(None, 12) == (None, None)
    timing = RunTiming(process_started=100.0)
    # still starting: start-up left, warm-up, every frame
    assert running_eta(prior, timing, 12, now=101.0) == (15.0, 3)
    timing.ready_at = 102.0
    assert running_eta(prior, timing, 12, now=102.5) == (13.5, 3)     # warm-up + 12 - 0.5 s
    timing.frame_seconds.append(3.0)
    timing.last_frame_at = 105.0
    assert running_eta(prior, timing, 11, now=105.0) == (11.0, 3)     # history's per frame
    timing.frame_seconds.append(2.0)                                  # its own steady frame
    timing.last_frame_at = 107.0
    assert running_eta(prior, timing, 10, now=108.0) == (19.0, None)  # 10 x 2.0 - 1 s spent
    assert running_eta(None, RunTiming(100.0), 4, now=101.0) == (None, None)
    assert running_eta(prior, timing, 0, now=200.0) == (0.0, None)


def test_a_fresh_copy_of_the_batch_file_finds_the_history_of_the_file_it_came_from() -> None:
    """The add-on renders a new saved copy per batch, naming the artist's file in ``filename``."""
    recipe = make_recipe([{"blend_file": "/copies/a-0042.blend", "filename": FILE, "animated": True,
                           "frame_start": 1, "frame_end": 3}])
    the_job = recipe.jobs[0]
    assert the_job.source_file == "/copies/a-0042.blend" and the_job.history_file == FILE
    estimate = estimate_job(recipe, the_job, [run([3.0, 1.0, 1.0])])
    assert estimate is not None and estimate.runs == 1
    external = make_recipe([{"external": True, "filename": "/shots/b.blend",
                             "blend_file": "/copies/a-0042.blend"}]).jobs[0]
    assert external.history_file == "/shots/b.blend"
    copy_only = make_recipe([{"blend_file": "/copies/a-0042.blend"}])
    assert estimate_job(copy_only, copy_only.jobs[0], [run([3.0, 1.0, 1.0])]) is None
