"""Each Blender run of a job, as it happens: its timing for the live ETA, and its record in the
store's history for later estimates (``store/run_history``, ``estimate``).

The job loop tells the recorder when a job's Blender started, each marker it printed (the
ready marker: what renders and the scene's own values; a frame marker: the frame's own render
time) and when it ended. ``RunTiming`` is what the job's ETA reads: Blender's start, when it was
ready, its frames' seconds. Writes to the store are best effort: a store that fails loses
history, never a frame, a status or the batch.
"""

from __future__ import annotations

import logging
import statistics
import time
import uuid
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from .estimate import asked
from .recipe import Recipe
from .store import StoreError, StoreWriter
from .store.run_history import RunFacts, end_run, record_frame_time, record_run

log = logging.getLogger("renderplus.batch")


@dataclass
class RunTiming:
    """One run's clock, kept by the batch's thread and read under the batch's lock."""

    process_started: float
    ready_at: float | None = None
    frame_seconds: list[float] = field(default_factory=list)
    last_frame_at: float | None = None
    run_id: str = ""

    @property
    def steady(self) -> float | None:
        """The mean frame after this run's first (None until there is one)."""
        rest = self.frame_seconds[1:]
        return statistics.fmean(rest) if rest else None

    def in_frame(self, now: float) -> float:
        """Seconds spent on the frame being rendered now."""
        since = self.last_frame_at or self.ready_at or self.process_started
        return max(0.0, now - since)


def facts_of(source_file: str, marker: Mapping[str, Any], frames: int,
             shape: Mapping[str, Any]) -> RunFacts:
    """A ready marker's facts (missing ones empty: an older job script, a farm)."""
    size = _size(marker.get("resolution"))
    return RunFacts(
        source_file=source_file, scene=_text(marker.get("scene")),
        camera=_text(marker.get("camera")), engine=_text(marker.get("engine")),
        device=_text(marker.get("device")), threads=_int(marker.get("threads")) or 0,
        blender=_text(marker.get("blender")), width=size[0], height=size[1],
        percentage=size[2], border=_number(marker.get("border")),
        samples=_int(marker.get("samples")), frames=frames, shape=shape)


def own_values(marker: Mapping[str, Any]) -> dict[str, Any]:
    """The scene's own values (the ready marker's ``file``) under the estimate's keys."""
    own = marker.get("file")
    if not isinstance(own, Mapping):
        return {}
    width, height, percentage = _size(own.get("resolution"))
    return {"engine": _text(own.get("engine")), "width": width, "height": height,
            "percentage": percentage, "border": _number(own.get("border")),
            "samples": _int(own.get("samples")), "camera": _text(own.get("camera")),
            "device": _text(own.get("device")), "threads": _int(own.get("threads")) or 0}


class RunRecorder:
    """Keeps each running job's ``RunTiming`` and writes its run to the history."""

    def __init__(self, recipe: Recipe, store: StoreWriter, lock: AbstractContextManager[Any]) -> None:
        self.recipe = recipe
        self.store = store
        self.lock = lock   # the batch's: an ETA reads the timings under it
        self.timings: dict[int, RunTiming] = {}

    def started(self, job_id: int, at: float) -> RunTiming:
        timing = RunTiming(at)
        self.timings[job_id] = timing
        return timing

    def marker(self, job_id: int, marker: Mapping[str, Any], frames: int) -> None:
        """A ready or frame marker of the job's running Blender."""
        timing = self.timings.get(job_id)
        if timing is None:
            return
        now = time.time()
        event = marker.get("event")
        if event == "ready":
            with self.lock:
                timing.ready_at = now
                timing.frame_seconds.clear()
                timing.last_frame_at = None
                timing.run_id = uuid.uuid4().hex
            job = self.recipe.jobs[job_id]
            shape = {"asked": asked(self.recipe, job), "own": own_values(marker)}
            facts = facts_of(self.recipe.resolve(job.history_file), marker, frames, shape)
            self._write(lambda store, batch_id: record_run(
                store, timing.run_id, batch_id, job_id, facts, timing.process_started,
                round(now - timing.process_started, 3)))
        elif event == "frame":
            seconds = _number(marker.get("seconds"))
            frame = _int(marker.get("frame"))
            with self.lock:
                timing.last_frame_at = now
                if seconds is not None:
                    timing.frame_seconds.append(seconds)
            if seconds is None or frame is None:
                return
            if timing.run_id:
                run_id = timing.run_id
                self._write(lambda store, _: record_frame_time(store, run_id, frame, seconds, now))

    def ended(self, job_id: int, status: str) -> None:
        timing = self.timings.pop(job_id, None)
        if timing is None or not timing.run_id:
            return
        run_id, now = timing.run_id, time.time()
        self._write(lambda store, _: end_run(store, run_id, now, status))

    def _write(self, action: Any) -> None:
        store, batch_id = self.store.store, self.store.batch_id
        if store is None or batch_id is None:
            return
        try:
            action(store, batch_id)
        except (StoreError, OSError) as exc:  # history is best effort
            log.warning("render time history not recorded: %s", exc)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _size(value: Any) -> tuple[int | None, int | None, int | None]:
    if isinstance(value, list) and len(value) == 3 and all(_int(v) for v in value):
        return value[0], value[1], value[2]
    return None, None, None
