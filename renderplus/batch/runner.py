"""Runs a batch's jobs as background Blender processes (work in progress: API only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .recipe import Recipe


@dataclass
class RunOptions:
    """How a batch runs, beyond what its recipe says."""

    cleanup: bool = True
    write_log: bool | None = None
    log_dir: str | None = None
    debug: bool = False
    kill_grace: float = 5.0
    blender_bin: str | None = None
    poweroff_grace: float = 60.0
    power_runner: Callable[[Sequence[str]], Any] | None = None


class Batch:
    def __init__(self, recipe: Recipe, options: RunOptions | None = None) -> None:
        self.recipe = recipe
        self.options = options or RunOptions()

    def start(self) -> None:
        raise NotImplementedError

    def run(self) -> str:
        raise NotImplementedError

    def cancel(self) -> bool:
        raise NotImplementedError

    def cancel_current_job(self) -> bool:
        raise NotImplementedError

    def wait(self, timeout: float | None = None) -> bool:
        raise NotImplementedError

    @property
    def status(self) -> str:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return False

    @property
    def revision(self) -> int:
        raise NotImplementedError

    @property
    def failed_jobs(self) -> int:
        raise NotImplementedError

    def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    def job_snapshot(self, job_id: int) -> dict[str, Any]:
        raise NotImplementedError

    def subscribe(self, callback: Callable[[], None]) -> None:
        raise NotImplementedError
