"""A finished job's movie, checked again when its batch is resumed.

A resumed batch whose job has all its frames makes its movie again only when the movie is
missing or older than one of its frames (``encode.needs_encoding``): the job is queued again,
renders nothing, and only its movie is made. ``resume`` asks ``stale_movie`` of each finished
job; ``finished_jobs_stale_movies`` tells whether a stored batch has such a job (it then offers
Resume).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from .encode import MovieStatus, NoMovie, needs_encoding, plan_encode
from .jobstate import JobState
from .recipe import Job, Recipe, RecipeError, parse_recipe
from .store import BatchStore, StoredBatch, StoredFrame, StoreError
from .view import JobStatus


def stale_movie(recipe: Recipe, job: Job, recorded: Mapping[int, StoredFrame]) -> str | None:
    """Why ``job``'s movie must be made again (its frames all recorded), or None."""
    if job.encode is None:
        return None
    done = {frame: [f.path for f in item.files] for frame, item in recorded.items() if item.files}
    try:
        plan = plan_encode(recipe, job, done)
    except NoMovie:
        return None   # frames are missing: they render again, and the movie after them
    if not needs_encoding(plan):
        return None
    why = "is missing" if not os.path.exists(plan.movie) else "is older than its frames"
    return f"Its movie {why} ({plan.movie}): only the movie is made again"


def finished_jobs_stale_movies(stored: StoredBatch, store: BatchStore) -> list[int]:
    """The finished jobs of ``stored`` whose movie is to be made again."""
    if '"encode"' not in stored.recipe_json:
        return []
    try:
        recipe = parse_recipe(stored.recipe_json, base_dir=stored.base_dir or None)
    except RecipeError:
        return []
    stale = []
    for saved in stored.jobs:
        if saved.status is not JobStatus.FINISHED or not 0 <= saved.job_id < len(recipe.jobs):
            continue
        job = recipe.jobs[saved.job_id]
        if job.encode is None:
            continue
        try:
            if stale_movie(recipe, job, store.frames(stored.id, saved.job_id)):
                stale.append(saved.job_id)
        except StoreError:
            continue
    return stale


def show_restored_movie(recipe: Recipe, job: JobState) -> None:
    """A restored finished job shows its movie when it is there and up to date (the poll of a
    stored batch); anything else stays WAITING: a resume makes it."""
    if job.job.encode is None or job.movie is None or job.status is not JobStatus.FINISHED:
        return
    try:
        plan = plan_encode(recipe, job.job, job.done)
    except NoMovie:
        return
    if not needs_encoding(plan):
        job.movie = replace(job.movie, status=MovieStatus.DONE, path=plan.movie, progress=100.0,
                            frames=len(plan.frames))
