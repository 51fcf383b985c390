"""The history that predicts render times: one row per Blender run of a job, and each frame's
own render time (the tables of schema version 6).

A run is recorded when Blender says it is ready to render (the job script's ready marker):
what the frames' cost depends on (file, scene, camera, engine, size, border, samples, device,
threads, Blender version), how long Blender took to get there (``startup``: loading the file,
the add-ons, the overrides), and ``shape``: what the job asked for and the scene's own values,
so a later, different job of the same file can be scaled from it (``batch/estimate``). Each
written frame adds its seconds from the frame's own ``render_pre`` to its file, so the first
frame's warm-up (kernels, BVH) stays apart from the steady frames after it, and nothing of the
time Render+ or Blender was down counts.

Functions over a ``BatchStore``: history is kept on a best-effort basis (a store that cannot be
written loses a run's times, never a frame or a status).
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .database import BatchStore

HISTORY_VERSION = 6   # the schema version that adds these tables


@dataclass(frozen=True)
class RunFacts:
    """What one run of a job renders, as its ready marker said (and the job asked)."""

    source_file: str
    scene: str = ""
    camera: str = ""
    engine: str = ""
    device: str = ""
    threads: int = 0
    blender: str = ""
    width: int | None = None
    height: int | None = None
    percentage: int | None = None
    border: float | None = None
    samples: int | None = None
    frames: int = 0
    shape: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedRun:
    """A recorded run with its frames' times, oldest frame first."""

    id: str
    batch_id: int
    job_id: int
    facts: RunFacts
    started: float
    startup: float | None
    ended: float | None
    status: str | None
    frame_seconds: tuple[float, ...]

    def shape_part(self, part: str) -> Mapping[str, Any]:
        """``asked`` (what the job asked for) or ``own`` (the scene's own values) of ``shape``."""
        value = self.facts.shape.get(part)
        return value if isinstance(value, Mapping) else {}

    @property
    def first_frame(self) -> float | None:
        return self.frame_seconds[0] if self.frame_seconds else None

    @property
    def steady_frame(self) -> float | None:
        """The median frame after the first (the first carries the warm-up); the first's own
        time when the run wrote one frame only."""
        rest = self.frame_seconds[1:]
        if rest:
            return float(statistics.median(rest))
        return self.first_frame


_COLUMNS = ("source_file", "scene", "camera", "engine", "device", "threads", "blender", "width",
            "height", "percentage", "border", "samples", "frames")


def record_run(store: BatchStore, run_id: str, batch_id: int, job_id: int, facts: RunFacts,
               started: float, startup: float | None) -> None:
    values = [getattr(facts, name) for name in _COLUMNS]

    def write(conn: sqlite3.Connection) -> None:
        conn.execute(
            f"INSERT OR REPLACE INTO job_runs (id, batch_id, job_id, {', '.join(_COLUMNS)}, shape, "
            f"started, startup) VALUES (?, ?, ?, {', '.join('?' * len(_COLUMNS))}, ?, ?, ?)",
            (run_id, batch_id, job_id, *values, json.dumps(dict(facts.shape), sort_keys=True),
             started, startup))
    store.write(write)


def record_frame_time(store: BatchStore, run_id: str, frame: int, seconds: float, at: float) -> None:
    store.write(lambda conn: conn.execute(
        "INSERT OR REPLACE INTO frame_times (run_id, frame, seconds, at) VALUES (?, ?, ?, ?)",
        (run_id, frame, seconds, at)))


def end_run(store: BatchStore, run_id: str, ended: float, status: str) -> None:
    store.write(lambda conn: conn.execute(
        "UPDATE job_runs SET ended = ?, status = ? WHERE id = ?", (ended, status, run_id)))


def past_runs(store: BatchStore, source_files: Iterable[str], limit: int = 40) -> list[RecordedRun]:
    """The newest runs (at most ``limit`` per file) of these files that wrote a frame, newest first."""
    files = sorted(set(source_files))

    def query(conn: sqlite3.Connection) -> list[RecordedRun]:
        runs: list[RecordedRun] = []
        for source in files:
            rows = conn.execute(
                f"SELECT id, batch_id, job_id, {', '.join(_COLUMNS)}, shape, started, startup, "
                "ended, status FROM job_runs WHERE source_file = ? AND EXISTS "
                "(SELECT 1 FROM frame_times WHERE run_id = job_runs.id) "
                "ORDER BY started DESC LIMIT ?", (source, limit)).fetchall()
            for row in rows:
                seconds = tuple(s for (s,) in conn.execute(
                    "SELECT seconds FROM frame_times WHERE run_id = ? ORDER BY at", (row[0],)))
                runs.append(_past_run(row, seconds))
        return runs
    return store.read(query)


def rendered_seconds(store: BatchStore, batch_id: int, job_id: int) -> float:
    """How long a job's recorded runs rendered (start to last frame, or to their end): a resume
    after a kill counts what the killed run did, not the time Render+ was down."""

    def query(conn: sqlite3.Connection) -> float:
        row = conn.execute(
            "SELECT sum(coalesce(r.ended, (SELECT max(at) FROM frame_times f WHERE f.run_id = r.id),"
            " r.started) - r.started) FROM job_runs r WHERE batch_id = ? AND job_id = ?",
            (batch_id, job_id)).fetchone()
        return float(row[0] or 0.0)
    return store.read(query)


def _past_run(row: tuple[Any, ...], seconds: tuple[float, ...]) -> RecordedRun:
    count = len(_COLUMNS)
    values = dict(zip(_COLUMNS, row[3:3 + count], strict=True))
    try:
        shape = json.loads(row[3 + count] or "{}")
    except ValueError:
        shape = {}
    facts = RunFacts(**values, shape=shape if isinstance(shape, dict) else {})
    started, startup, ended, status = row[4 + count:8 + count]
    return RecordedRun(row[0], row[1], row[2], facts, started, startup, ended, status, seconds)
