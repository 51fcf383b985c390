"""A farm job's manifest: what a restarted Render+ needs to find the job again and to know
what became of it.

The ``JobHandle`` in the batch store names the farm job (``farm_id``); the manifest, kept on
shared storage under that id, holds the rest: the job's frames, its tasks (argvs and logs),
and a pause. A pause is written when asked (``pause: {"when", "asked"}``), before the farm is
told, and again when the farm confirmed it (``paused``: the time): so after a kill -9 a paused
farm job (nothing of it left on the farm: resubmit only its missing frames) is told apart from
one still pausing (its running chunks finish, the held rest is cancelled: re-attach) and from a
lost one (the farm forgot a job that was never paused).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from ...frames import FrameSet
from .base import FarmJobSpec, FarmTask

log = logging.getLogger("renderplus.farm")


class Manifests:
    """The manifests of one engine's farm jobs, in ``staging_dir/farm-jobs``."""

    def __init__(self, staging_dir: str, engine: str) -> None:
        self.folder = Path(staging_dir) / "farm-jobs"
        self.engine = engine

    def path(self, farm_id: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in farm_id)
        return self.folder / f"{self.engine}-{safe}.json"

    def write_new(self, farm_id: str, job_id: int, frames: FrameSet, spec: FarmJobSpec,
                  encode: FarmTask | None = None) -> None:
        """``encode``: the queued encode, with its own farm id."""
        data: dict[str, Any] = {
            "engine": self.engine, "farm_id": farm_id, "job_id": job_id,
            "frames": frames.to_spec(), "folder": spec.folder,
            "tasks": [_task_json(t) for t in spec.tasks]}
        if encode is not None:
            data["encode"] = {**_task_json(encode), "farm_id": encode.farm_id}
        self._write(farm_id, data)

    def read(self, farm_id: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path(farm_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def record_pause(self, farm_id: str, when: str) -> None:
        """The pause asked, before the farm is told (a stronger one replaces a weaker one)."""
        data = self.read(farm_id)
        if data is None:
            return
        asked = data.get("pause") or {}
        if asked.get("when") != "now":
            data["pause"] = {"when": when, "asked": time.time()}
            self._write(farm_id, data)

    def record_paused(self, farm_id: str) -> None:
        """The farm confirmed the pause: nothing of the job runs or waits there any more."""
        data = self.read(farm_id)
        if data is not None:
            data["paused"] = time.time()
            self._write(farm_id, data)

    def _write(self, farm_id: str, data: dict[str, Any]) -> None:
        path = self.path(farm_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(path.name + ".tmp")
            temp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(temp, path)  # whole or not at all: a kill -9 never leaves half of one
        except OSError as exc:  # the job runs anyway; only what a restart can learn is lost
            log.warning("cannot write the manifest of farm job %s: %s", farm_id, exc)


def _task_json(task: FarmTask) -> dict[str, Any]:
    return {"index": task.index, "frames": task.frames.to_spec(), "argv": list(task.argv),
            "log": task.log_path}


def encode_of(manifest: dict[str, Any]) -> FarmTask | None:
    """The job's encode (with its farm id), or None when it has no movie."""
    encode = manifest.get("encode")
    if not isinstance(encode, dict):
        return None
    return FarmTask(int(encode["index"]), FrameSet.parse(encode["frames"]), tuple(encode["argv"]),
                    str(encode.get("log", "")), str(encode.get("farm_id", "")))


def tasks_of(manifest: dict[str, Any]) -> tuple[FarmTask, ...]:
    return tuple(FarmTask(int(t["index"]), FrameSet.parse(t["frames"]), tuple(t["argv"]),
                          str(t.get("log", ""))) for t in manifest["tasks"])


def frames_of(manifest: dict[str, Any]) -> FrameSet:
    return FrameSet.parse(manifest["frames"]) if manifest.get("frames") else FrameSet()


def pause_asked(manifest: dict[str, Any]) -> str | None:
    """"now" or "frame" when a pause of the job was asked, else None."""
    pause = manifest.get("pause")
    when = pause.get("when") if isinstance(pause, dict) else None
    return when if when in ("now", "frame") else None
