"""Shared fixtures: real .blend files made by the real Blender (a skip when it is missing), the
batch service and the server processes the server, CLI and dashboard tests drive, each test's
own state and config folders; the markers a test gets from what it needs (tests/tiers.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from tests import tiers
from tests.blendfiles import make_blend
from tests.farm.slurm_cluster import SlurmCluster, missing_reason, start_cluster
from tests.procs import processes_with
from tests.server.helpers import SLEEP_HOOK, ServerProcess
from tests.waiting import wait_for

# Folders whose tests start servers that save token files (and CLI clients that read them).
SERVER_FOLDERS = ("cli", "server")
TESTS = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    tiers.guard_quick_tier(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tiers.mark_needs(items)
    tiers.leave_out_of_quick_tier(config, items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    tiers.report_blender_calls(session)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A real one-node Slurm cluster for the whole session (the farm's and the add-on's farm
    tests); a skip where Slurm is not installed or this is not root."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    cluster = start_cluster()
    yield cluster
    cluster.stop()


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


@pytest.fixture
def own_config_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Servers save their token files in a folder of the test's own, not the user's ~/.config
    (servers started as subprocesses inherit it, and so do the CLI clients)."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


@pytest.fixture(autouse=True)
def _own_config_folder_for_servers(request: pytest.FixtureRequest) -> None:
    """Every test in ``SERVER_FOLDERS`` gets ``own_config_folder``."""
    if Path(str(request.node.path)).resolve().relative_to(TESTS).parts[0] in SERVER_FOLDERS:
        request.getfixturevalue("own_config_folder")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[BatchService]:
    """A real batch service working in the test's own folder; shut down afterwards, and no
    PRE_BATCH hook of a held batch (``tests.server.helpers.SLEEP_HOOK``) left running."""
    svc = BatchService(options=RunOptions(kill_grace=2.0), work_dir=tmp_path / "work")
    yield svc
    svc.shutdown(timeout=20)
    wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """``serve(*flags)``: ``python -m renderplus.server --serve`` on a free port; ended afterwards."""
    started: list[ServerProcess] = []

    def make(*args: str, **kwargs: Any) -> ServerProcess:
        kwargs.setdefault("work_dir", tmp_path / "server-work")
        process = ServerProcess(*args, **kwargs)
        started.append(process)
        return process

    yield make
    for process in started:
        process.close()
    wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)
