"""A real ``BatchService`` whose batches run on ``HeldExecutor`` (tests/batch/edits_helpers.py):
each job "renders" until the test releases it, so the queue, edit and pause routes meet the real
engine without Blender, and the test knows what runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from renderplus.batch.recipe import Recipe, parse_recipe
from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from tests.batch.edits_helpers import HeldExecutor
from tests.waiting import wait_for


class HeldServices:
    """Makes the service (``make``) and keeps every executor its batches got, in order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.blend = folder / "scene.blend"
        self.blend.write_bytes(b"BLENDER-v304")   # the stand-in executor never opens it
        self.executors: list[HeldExecutor] = []
        self.services: list[BatchService] = []

    def executor(self, recipe: Recipe) -> HeldExecutor:
        made = HeldExecutor(self.folder)
        self.executors.append(made)
        return made

    def make(self, **kwargs: Any) -> BatchService:
        kwargs.setdefault("work_dir", self.folder / "work")
        service = BatchService(RunOptions(kill_grace=0.5), executor_factory=self.executor, **kwargs)
        self.services.append(service)
        return service

    def data(self, jobs: int = 3, name: str = "held") -> dict[str, Any]:
        """A recipe of ``jobs`` one-frame jobs of the stand-in .blend (ids 0..jobs-1), each
        writing where the stand-in writes its frame (a released job FINISHES)."""
        return {"version": 2.2, "name": name, "blender_bin": sys.executable,
                "jobs": [{"id": i, "name": f"j{i}", "blend_file": str(self.blend),
                          "output": str(self.folder / f"job{i}_")} for i in range(jobs)]}

    def recipe(self, jobs: int = 3, name: str = "held") -> Recipe:
        return parse_recipe(self.data(jobs, name))

    def running(self, service: BatchService, jobs: int = 3, name: str = "held") -> HeldExecutor:
        """Start a batch of ``jobs`` on ``service``; its executor once job 0 runs."""
        service.load_recipe(self.recipe(jobs, name))
        service.start()
        executor = wait_for(lambda: self.executors and self.executors[-1].running() == [0]
                            and self.executors[-1])
        assert isinstance(executor, HeldExecutor)
        return executor

    def close(self) -> None:
        for service in self.services:
            service.shutdown(timeout=10)
