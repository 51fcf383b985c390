"""Shared fixtures: real .blend files made by the real Blender, and a skip when it is missing;
the markers a test gets from what it needs (tests/tiers.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import tiers
from tests.blendfiles import make_blend


def pytest_configure(config: pytest.Config) -> None:
    tiers.guard_quick_tier(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tiers.mark_needs(items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    tiers.report_blender_calls(session)


@pytest.fixture(scope="session")
def blend_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("blends")


@pytest.fixture(scope="session")
def blend_factory(blend_dir: Path) -> Callable[..., Path]:
    """``blend_factory(engine="CYCLES", frames=3, ...)`` -> path of a tiny real .blend."""
    if shutil.which("blender") is None:
        pytest.skip("the blender executable is not installed (run ./run setup)")

    def factory(**kwargs: Any) -> Path:
        return make_blend(blend_dir, **kwargs)

    return factory


@pytest.fixture(autouse=True, scope="session")
def own_state_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Render+'s per-user state folder (the batch store, logs, uploads) is the test run's own,
    never the user's ~/.local/state: set for this process and every Render+ it starts."""
    folder = tmp_path_factory.mktemp("state")
    previous = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = previous
