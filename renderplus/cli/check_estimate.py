"""``--check``'s estimate: how long the batch will render, from the store's history of similar
runs (docs/api.md, Estimates), before anything renders."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from ..batch.durations import format_duration
from ..batch.recipe import Recipe


def print_estimate(recipe: Recipe, folder: Path, out: TextIO, now: float | None = None) -> None:
    """One line (two when some jobs have no estimate). Reads the store in ``folder`` when there
    is one; never creates it."""
    from ..batch.estimate import estimate_recipe
    from ..batch.queue_estimate import batch_length
    from ..batch.store import STORE_FILE, BatchStore, StoreError

    if not (folder / STORE_FILE).exists():
        out.write("Estimate: none yet: nothing has rendered with this Render+\n")
        return
    try:
        store = BatchStore.open(folder)
    except StoreError as exc:
        out.write(f"Estimate: none: the store cannot be read ({exc})\n")
        return
    try:
        estimates = estimate_recipe(recipe, store)
        length = batch_length(recipe, store)
    finally:
        store.close()
    unknown = [recipe.jobs[job_id].display_name for job_id, e in estimates.items() if e is None]
    if length.seconds is None:
        names = ", ".join(repr(name) for name in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        out.write(f"Estimate: none: nothing similar ever ran for {len(unknown)} of "
                  f"{len(estimates)} jobs ({names})\n")
        return
    done = time.strftime("%H:%M", time.localtime((now or time.time()) + length.seconds))
    runs = "" if length.runs is None else \
        f", based on {length.runs} similar run{'s' if length.runs != 1 else ''}"
    out.write(f"Estimate: {format_duration(length.seconds)} of rendering (done about {done} if "
              f"started now{runs})\n")
