"""The estimate under Render: how long the scene's jobs would render and when they would be
done, from the store's history of similar runs (docs/api.md, Estimates), before anything starts.

No ``bpy``: the panel hands in the recipe it would send and the service's store. The panels
redraw often, so the figure is kept per recipe (its JSON text) and per history mark (the
newest recorded run and the minute): reading the history happens when one of them moves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..batch.durations import format_duration
from ..batch.queue_estimate import batch_length, history_mark, scheduled
from ..batch.recipe import Recipe
from ..batch.schedule import say_when
from ..batch.store import BatchStore


@dataclass(frozen=True)
class RenderEstimate:
    """``seconds`` of rendering (None: some job has no similar run), from ``begins`` (its start
    time or window may hold it) to ``ends``; ``runs``: the fewest similar runs behind a job."""

    seconds: float | None
    runs: int | None
    begins: float = 0.0
    ends: float = 0.0

    def sentence(self, now: float) -> str:
        """``About 25 min of rendering, done about 23:40 (based on 3 similar runs)``."""
        if self.seconds is None:
            return "No estimate yet: nothing similar has rendered"
        starts = f"starts {say_when(self.begins, now)}, " if self.begins > now + 60 else ""
        runs = "" if self.runs is None else \
            f" (based on {self.runs} similar run{'s' if self.runs != 1 else ''})"
        return (f"About {format_duration(self.seconds)} of rendering, {starts}"
                f"done about {say_when(self.ends, now)}{runs}")


def estimate(recipe: Recipe, store: BatchStore | None, now: float) -> RenderEstimate:
    """The recipe's estimate if it were started ``now``."""
    length = batch_length(recipe, store)
    if length.seconds is None:
        return RenderEstimate(None, None)
    begins, ends = scheduled(recipe, now, length.seconds)
    return RenderEstimate(length.seconds, length.runs, begins, ends)


class EstimateCache:
    """The last estimate, computed again when the recipe or the history moved."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._key: tuple[str, tuple[int, int]] | None = None
        self._value: RenderEstimate | None = None

    def get(self, recipe: Recipe, store: BatchStore | None) -> RenderEstimate:
        now = self._clock()
        key = (json.dumps(recipe.to_dict(), sort_keys=True), history_mark(store, now))
        if key != self._key or self._value is None:
            self._value, self._key = estimate(recipe, store, now), key
        return self._value
