"""A store holding a batch that a killed Render+ left RUNNING: what two processes then fight over.

The batch's recorded owner is a process that has exited, so every
Render+ opening the store finds the batch interrupted and offers to resume it. Its one job runs
``blender_bin`` (a stand-in that sleeps, so a resumed batch keeps its owner busy).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from renderplus.batch.spawner import boot_id
from renderplus.batch.store import BatchStore, NewJob, Owner
from renderplus.batch.view import BatchStatus, JobStatus


def dead_owner() -> Owner:
    """The identity of a process that has exited (its pid may be reused: the start time differs)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(30)
    return Owner(process.pid, boot_id(), 1)


def make_interrupted_batch(work: Path, blender_bin: str, blend: Path, output: Path,
                           name: str = "night") -> int:
    """Record in ``work``'s store a RUNNING batch of one job whose owner died; its id."""
    recipe = {"version": 2.2, "name": name, "blender_bin": blender_bin, "jobs": [
        {"id": 0, "name": "shot", "blend_file": str(blend), "animated": True, "frame_start": 1,
         "frame_end": 3, "output": str(output / "shot_####")}]}
    owner = dead_owner()
    with BatchStore.open(work) as store:
        batch_id = store.create_batch(name, json.dumps(recipe), str(blend.parent), owner,
                                      [NewJob(0, "shot", str(blend), JobStatus.RUNNING)],
                                      status=BatchStatus.RUNNING)
        assert store.load(batch_id).interrupted
    return batch_id


def sleeping_blender(folder: Path, seconds: float = 120.0) -> str:
    """A stand-in ``blender`` that renders nothing and sleeps: a job that stays RUNNING."""
    path = folder / "sleeping-blender"
    path.write_text(f"#!/bin/sh\nexec sleep {seconds}\n")
    path.chmod(0o755)
    return str(path)
