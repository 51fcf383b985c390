"""BatchService: one slot, no recipe swapped under a running batch, clear refusals."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.recipe import Recipe
from renderplus.batch.runner import RunOptions
from renderplus.batch.service import (
    BatchRunningError,
    BatchService,
    NoRecipeError,
    NotRunningError,
)
from tests.batch.conftest import make_recipe
from tests.waiting import wait_for


def sleeper_recipe(fake_blender: Callable[[str], str], seconds: float) -> Recipe:
    fake = fake_blender(f"time.sleep({seconds})")
    return make_recipe([{"blend_file": __file__}], blender_bin=fake)


def test_refusals_name_the_reason(tmp_path: Path, fake_blender: Callable[[str], str]) -> None:
    service = BatchService(RunOptions(kill_grace=0.5), work_dir=tmp_path)
    assert service.snapshot() is None and not service.running
    with pytest.raises(NoRecipeError, match="No recipe submitted"):
        service.start()
    with pytest.raises(NotRunningError, match="Not running a batch"):
        service.cancel()
    with pytest.raises(NotRunningError):
        service.cancel_current_job()
    service.load_recipe(sleeper_recipe(fake_blender, 30))
    batch = service.start()
    assert service.running and service.batch is batch
    with pytest.raises(BatchRunningError, match="already running"):
        service.start()
    with pytest.raises(BatchRunningError):
        service.load_recipe(sleeper_recipe(fake_blender, 1))
    wait_for(lambda: batch.view().job(0).status == "RUNNING", timeout=10, interval=0.01)
    service.cancel_current_job()
    assert batch.wait(10)
    snapshot = service.snapshot()
    assert snapshot is not None and snapshot["jobs"][0]["status"] == "CANCELLED"
    assert snapshot["status"] == "FINISHED"
    with pytest.raises(NotRunningError):
        service.cancel()


def test_shutdown_cancels_a_running_batch(tmp_path: Path, fake_blender: Callable[[str], str]) -> None:
    service = BatchService(RunOptions(kill_grace=0.5), work_dir=tmp_path)
    service.load_recipe(sleeper_recipe(fake_blender, 30))
    batch = service.start()
    service.shutdown(timeout=10)
    assert not batch.running and batch.status == "CANCELLED"


def test_blender_bin_prefers_the_recipe(tmp_path: Path) -> None:
    service = BatchService(RunOptions(blender_bin="/opt/blender/blender"), work_dir=tmp_path)
    assert service.blender_bin == "/opt/blender/blender"
    recipe = make_recipe([{"blend_file": "a.blend"}], blender_bin="bin/blender")
    recipe.base_dir = "/recipes"
    service.load_recipe(recipe)
    assert service.blender_bin == "/recipes/bin/blender"


def test_a_bare_blender_name_is_looked_up_on_path(tmp_path: Path) -> None:
    service = BatchService(work_dir=tmp_path)
    recipe = make_recipe([{"blend_file": "a.blend"}], blender_bin="sh")
    recipe.base_dir = "/recipes"
    service.load_recipe(recipe)
    assert service.blender_bin == shutil.which("sh")


def test_a_loaded_recipe_polls_as_a_waiting_batch(tmp_path: Path, fake_blender: Callable[[str], str]) -> None:
    service = BatchService(work_dir=tmp_path)
    recipe = make_recipe([{"blend_file": "a.blend"}, {"blend_file": "b.blend", "enabled": False}])
    service.load_recipe(recipe)
    snapshot = service.snapshot()
    assert snapshot is not None and snapshot["status"] == "WAITING"
    assert [j["status"] for j in snapshot["jobs"]] == ["QUEUED", "DISABLED"]
    assert service.shown is service.shown  # the same waiting batch until something changes
    assert not service.running
