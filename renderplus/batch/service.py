"""One batch slot shared by the HTTP server, the CLI and the add-on.

The server answers requests from many threads and the add-on polls from Blender's main thread;
both go through this object, which holds the loaded recipe and the current (or last) batch
behind a lock, so a recipe cannot be swapped under a running batch and two batches never run.
"""

from __future__ import annotations

import getpass
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from .options import DEFAULT_BLENDER, RunOptions, choose_blender
from .recipe import Recipe
from .runner import Batch
from .view import BatchView


class ServiceError(Exception):
    """A request the batch slot cannot honour now; ``str()`` is a sentence for people."""


class BatchRunningError(ServiceError):
    def __init__(self) -> None:
        super().__init__("A batch is already running; cancel it or wait until it ends")


class NoRecipeError(ServiceError):
    def __init__(self) -> None:
        super().__init__("No recipe submitted yet: POST one to /batch/recipe first")


class NotRunningError(ServiceError):
    def __init__(self) -> None:
        super().__init__("Not running a batch right now")


def default_work_dir() -> Path:
    """A per-user folder for uploads (never one shared between the users of a machine)."""
    return Path(tempfile.gettempdir()) / f"renderplus-{getpass.getuser()}"


def default_blender_bin() -> str:
    """The ``blender`` on PATH, or the bare name when there is none (a check reports it)."""
    return shutil.which(DEFAULT_BLENDER) or DEFAULT_BLENDER


class BatchService:
    """Holds the recipe and the batch; every method is safe to call from any thread."""

    def __init__(self, options: RunOptions | None = None,
                 work_dir: str | os.PathLike[str] | None = None) -> None:
        self.options = options or RunOptions()  # frozen; each batch keeps the one it started with
        self.work_dir = Path(work_dir) if work_dir else default_work_dir()
        self._lock = threading.Lock()
        self._recipe: Recipe | None = None
        self._batch: Batch | None = None
        self._waiting: Batch | None = None

    @property
    def recipe(self) -> Recipe | None:
        return self._recipe

    @property
    def batch(self) -> Batch | None:
        return self._batch

    @property
    def running(self) -> bool:
        batch = self._batch
        return batch is not None and batch.running

    @property
    def shown(self) -> Batch | None:
        """The batch a poll describes: the current or last one, or, once a new recipe is
        loaded and until it starts, that recipe as a WAITING batch (jobs QUEUED/DISABLED)."""
        batch, recipe = self._batch, self._recipe
        if recipe is None or (batch is not None and batch.recipe is recipe):
            return batch
        with self._lock:
            waiting = self._waiting
            if waiting is None or waiting.recipe is not recipe:
                waiting = self._waiting = Batch(recipe, self.options)  # never started
            return waiting

    def view(self) -> BatchView | None:
        """The poll's read model of ``shown``, or None when no recipe was ever loaded."""
        batch = self.shown
        return batch.view() if batch is not None else None

    @property
    def blender_bin(self) -> str:
        """The binary a batch of the loaded recipe would use now."""
        return choose_blender(self._recipe, self.options.blender_bin)

    def set_options(self, options: RunOptions) -> None:
        """Options for batches started from now on; a running batch keeps its own."""
        self.options = options

    def load_recipe(self, recipe: Recipe) -> None:
        with self._lock:
            if self.running:
                raise BatchRunningError()
            self._recipe = recipe

    def start(self) -> Batch:
        with self._lock:
            if self.running:
                raise BatchRunningError()
            if self._recipe is None:
                raise NoRecipeError()
            batch = Batch(self._recipe, self.options)
            self._batch = batch
            batch.start()
            return batch

    def cancel(self) -> None:
        batch = self._batch
        if batch is None or not batch.cancel():
            raise NotRunningError()

    def cancel_current_job(self) -> None:
        batch = self._batch
        if batch is None or not batch.cancel_current_job():
            raise NotRunningError()

    def cancel_job(self, job_id: int) -> None:
        """Cancel one job (running or queued); NotRunningError when that cannot be done."""
        batch = self._batch
        if batch is None or not batch.cancel_job(job_id):
            raise NotRunningError()

    def snapshot(self) -> dict[str, Any] | None:
        """``view()`` as the spec's poll dict, or None when no recipe was ever loaded."""
        view = self.view()
        return view.to_json() if view is not None else None

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel a running batch (and any pending power-off) and wait for it to end."""
        batch = self._batch
        if batch is not None:
            batch.cancel()
            batch.wait(timeout)
