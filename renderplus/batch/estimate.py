"""How long a job will render, before it starts: from the recorded runs of similar jobs.

A job's time is Blender's start-up, then its frames: the first carries a warm-up (kernels,
BVH) the others do not, and a steady frame costs about ``a + b * work``, where ``work`` is the
pixels rendered (size x percentage squared x the border's share) times the samples. The
history (``store/run_history``) gives, per earlier run of the same file, what rendered and
its frames' own times. The estimate prefers runs of the same scene, engine, device, camera,
Blender and threads, each preference dropped when no run has it; runs of the same work give
their median frame; runs of two or more different works fit ``a`` and ``b``; one other work
scales in proportion. Nothing similar (no run of the file with that engine): None.

What a job will render is what it asks for (its overrides, the recipe's global size and
percentage) over the scene's own values, which every recorded run keeps beside what it
rendered (``shape``: ``asked`` and ``own``).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .command import override_config
from .recipe import Job, Recipe
from .store import BatchStore, StoreError
from .store.run_history import RecordedRun, past_runs

KEYS = ("engine", "width", "height", "percentage", "border", "samples", "camera", "device", "scene",
        "threads")


@dataclass(frozen=True)
class JobEstimate:
    """Seconds a job will take, and what they rest on: ``runs`` similar earlier runs, a steady
    frame's ``per_frame`` seconds, Blender's ``startup`` and the first frame's extra ``warmup``."""

    seconds: float
    runs: int
    per_frame: float | None
    startup: float = 0.0
    warmup: float = 0.0

    def for_frames(self, count: int) -> float:
        """The same job with ``count`` frames left to render (a resumed or half-done one)."""
        if count <= 0:
            return 0.0
        per = self.per_frame or 0.0
        return round(self.startup + self.warmup + per * count, 1)


def asked(recipe: Recipe, job: Job) -> dict[str, Any]:
    """What a job asks for beyond its file's own values (empty values: the file's)."""
    config = override_config(recipe, job)   # what the job script will apply
    size, border = config["size"], config["border"]
    if border is not None:
        border = round(max(0.0, border[2] - border[0]) * max(0.0, border[3] - border[1]), 4)
    device = config["device"] if config["device"] not in ("", "DEFAULT") else ""
    return {"engine": job.engine or "", "width": size[0] if size else None,
            "height": size[1] if size else None, "percentage": config["percentage"],
            "border": border, "samples": config["samples"] or None,
            "camera": job.camera or "", "device": device, "scene": job.scene or "",
            "threads": job.threads or 0,
            "overrides": sorted(f"{o.path}={o.value!r}" for o in job.custom_overrides if o.enabled)}


def estimate_recipe(recipe: Recipe, store: BatchStore | None, blender: str = "",
                    only: Iterable[Job] | None = None) -> dict[int, JobEstimate | None]:
    """Each enabled job's estimate before it starts (None: nothing similar ever ran);
    ``blender``: the version that will render, when known (runs of it are preferred);
    ``only``: these jobs of the recipe (jobs just added)."""
    jobs = [job for job in (recipe.jobs if only is None else only) if job.enabled]
    if store is None or not jobs:
        return {job.id: None for job in jobs}
    try:
        runs = past_runs(store, {recipe.resolve(job.history_file) for job in jobs})
    except StoreError:
        return {job.id: None for job in jobs}
    return {job.id: estimate_job(recipe, job, runs, blender=blender) for job in jobs}


def estimate_job(recipe: Recipe, job: Job, runs: Sequence[RecordedRun],
                 frames: int | None = None, blender: str = "") -> JobEstimate | None:
    """``job``'s estimate from ``runs`` (any files: those of its own are used), for ``frames``
    frames (default: all of the job's)."""
    source = recipe.resolve(job.history_file)
    mine = [run for run in runs if run.facts.source_file == source and run.steady_frame]
    if not mine:
        return None
    wants = {**_expected(asked(recipe, job), mine), "blender": blender}
    similar = _similar(mine, wants)
    if not similar:
        return None
    per_frame = _per_frame(similar, wants)
    startups = [run.startup for run in similar if run.startup is not None]
    warmups = [max(0.0, (run.first_frame or 0.0) - (run.steady_frame or 0.0))
               for run in similar if len(run.frame_seconds) > 1]
    estimate = JobEstimate(0.0, len(similar), round(per_frame, 3),
                           round(statistics.median(startups), 2) if startups else 0.0,
                           round(statistics.median(warmups), 2) if warmups else 0.0)
    count = len(job.frames) if frames is None else frames
    return JobEstimate(estimate.for_frames(count), estimate.runs, estimate.per_frame,
                       estimate.startup, estimate.warmup)


def _expected(wants: Mapping[str, Any], runs: Sequence[RecordedRun]) -> dict[str, Any]:
    """What the job will render: its own asks, else the scene's values as the newest run that
    did not override them saw them (unknown stays empty: each run's own value is then assumed)."""
    expected = dict(wants)
    for key in KEYS:
        if expected.get(key):
            continue
        for run in runs:  # newest first
            shape_asked = run.shape_part("asked")
            if shape_asked.get(key) or (key in ("width", "height") and shape_asked.get("width")):
                continue
            value = run.shape_part("own").get(key)
            if value:
                expected[key] = value
                break
    return expected


def _similar(runs: Sequence[RecordedRun], wants: Mapping[str, Any]) -> list[RecordedRun]:
    """The runs most like the job: the same engine (required when known), then each preference
    kept only where some run meets it."""
    engine = wants.get("engine")
    chosen = [run for run in runs if not engine or run.facts.engine == engine]
    if not wants.get("scene"):  # the file's own scene: runs that did not name another
        chosen = [run for run in chosen if not run.shape_part("asked").get("scene")] or chosen
    for key in ("scene", "device", "camera", "overrides", "blender", "threads"):
        value = wants.get(key)
        if not value:
            continue
        chosen = [run for run in chosen if _fact(run, key) == value] or chosen
    return chosen


def _fact(run: RecordedRun, key: str) -> Any:
    if key == "overrides":
        return run.shape_part("asked").get("overrides") or []
    return getattr(run.facts, key, None)


def _work(wants: Mapping[str, Any], run: RecordedRun | None) -> float:
    """Pixels rendered times samples; a value the job leaves unknown is taken from ``run``."""
    def value(key: str) -> Any:
        given = wants.get(key)
        if given or run is None:
            return given
        return getattr(run.facts, key)
    width, height = value("width") or 0, value("height") or 0
    percentage = value("percentage") or 100
    border = value("border") or 1.0
    samples = value("samples") or 1
    return float(width) * float(height) * (percentage / 100.0) ** 2 * float(border) * float(samples)


def _per_frame(runs: Sequence[RecordedRun], wants: Mapping[str, Any]) -> float:
    """A steady frame's seconds for the job (a size nobody knows: each run's own is assumed)."""
    points = [(_work({}, run), run.steady_frame or 0.0) for run in runs]
    if not (wants.get("width") and wants.get("height")):
        return statistics.median(seconds * _work(wants, run) / work if work else seconds
                                 for run, (work, seconds) in zip(runs, points, strict=True))
    work = _work(wants, None)
    same = [seconds for run_work, seconds in points if run_work and abs(run_work - work) <= 0.01 * work]
    if same:
        return statistics.median(same)
    known = [(w, s) for w, s in points if w > 0]
    if len({round(w) for w, _ in known}) >= 2:
        return _fit(known, work)
    if known:
        return statistics.median(s * work / w for w, s in known)
    return statistics.median(seconds for _, seconds in points)


def _fit(points: Iterable[tuple[float, float]], work: float) -> float:
    """Least squares ``a + b * work`` through the points, both kept >= 0: a frame costs at least
    its fixed part, and more work never costs less."""
    pairs = list(points)
    mean_w = statistics.fmean(w for w, _ in pairs)
    mean_s = statistics.fmean(s for _, s in pairs)
    spread = sum((w - mean_w) ** 2 for w, _ in pairs)
    slope = sum((w - mean_w) * (s - mean_s) for w, s in pairs) / spread if spread else 0.0
    slope = max(0.0, slope)
    fixed = max(0.0, mean_s - slope * mean_w)
    if fixed == 0.0:  # refit through the origin
        slope = sum(w * s for w, s in pairs) / sum(w * w for w, _ in pairs)
    return fixed + slope * work
