"""Fixtures for the farm tests: a real Flamenco Manager + Worker when ``FLAMENCO_BIN`` names a
folder with both binaries (the real one-node Slurm cluster, ``slurm_cluster``, is the suite's:
the add-on's farm tests use it too)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.executors.farm import FarmExecutor, FlamencoEngine, SharedStorage, SlurmEngine
from renderplus.batch.script_paths import FLAMENCO_JOB_TYPE
from tests.farm.flamenco_farm import start_flamenco
from tests.farm.slurm_cluster import SlurmCluster

REPO = Path(__file__).resolve().parents[2]
JOB_TYPE_JS = FLAMENCO_JOB_TYPE


@dataclass
class Farm:
    """One farm the tests drive: how to make an executor, and how to poke it from outside."""

    kind: str
    make_engine: Callable[[], Any]
    cluster: SlurmCluster | None = None

    def executor(self, shared: Path, **options: Any) -> FarmExecutor:
        options.setdefault("poll_interval", 0.3)
        storage = SharedStorage([str(shared)], str(shared / "staging"))
        return FarmExecutor(self.make_engine(), storage, **options)


def manager_with_job_type(binaries: Path, bin_dir: Path) -> Path:
    """A folder with both binaries and Render+'s job type in ``scripts/`` beside the Manager.

    The Manager loads job types only from the ``scripts`` folder next to its own executable
    (the path the kernel reports for the running binary, symlinks resolved), not from its
    working directory: so the Manager is hard-linked (copied across file systems) into a
    folder of the test's own rather than adding a file to ``FLAMENCO_BIN``."""
    (bin_dir / "scripts").mkdir(parents=True)
    manager = bin_dir / "flamenco-manager"
    try:
        os.link(binaries / "flamenco-manager", manager)
    except OSError:
        shutil.copy2(binaries / "flamenco-manager", manager)
    (bin_dir / "flamenco-worker").symlink_to(binaries.resolve() / "flamenco-worker")
    shutil.copy(JOB_TYPE_JS, bin_dir / "scripts")
    return bin_dir


@pytest.fixture(scope="session")
def flamenco_manager() -> Iterator[str]:
    folder = os.environ.get("FLAMENCO_BIN", "")
    if not folder:
        pytest.skip("FLAMENCO_BIN is not set: no Flamenco binaries to test against (build them "
                    "from Flamenco's public repository: tests/farm/flamenco_farm.py says how)")
    if not all(os.access(os.path.join(folder, n), os.X_OK)
               for n in ("flamenco-manager", "flamenco-worker")):
        pytest.skip(f"FLAMENCO_BIN={folder} lacks flamenco-manager / flamenco-worker")
    run_dir = Path(tempfile.mkdtemp(prefix="renderplus-flamenco-"))
    bin_dir = manager_with_job_type(Path(folder), run_dir / "bin")
    try:
        farm = start_flamenco(bin_dir, run_dir, 18080, shutil.which("blender") or "blender")
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    yield farm.url
    farm.stop()
    shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(params=["slurm", "flamenco"])
def farm(request: pytest.FixtureRequest) -> Farm:
    if request.param == "slurm":
        cluster: SlurmCluster = request.getfixturevalue("slurm_cluster")
        return Farm("slurm", lambda: SlurmEngine(cluster.partition, conf=str(cluster.conf),
                                                 blender=shutil.which("blender")), cluster)
    url: str = request.getfixturevalue("flamenco_manager")
    return Farm("flamenco", lambda: FlamencoEngine(url))


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """The shared-storage root of a test: staging, the .blends and the outputs live under it."""
    path = tmp_path / "shared"
    path.mkdir()
    return path
