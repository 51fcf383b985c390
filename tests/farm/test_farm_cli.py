"""``--farm slurm`` from the command line: ``--check`` asks the cluster, ``--recipe`` renders
through it with the same exit status and outputs as a local run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.farm.slurm_cluster import SlurmCluster

pytestmark = [pytest.mark.blender, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_check_and_render_through_slurm_from_the_cli(slurm_cluster: SlurmCluster, tmp_path: Path,
                                                     blend_factory: Callable[..., Path]) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    blend = shared / "scene.blend"
    blend.write_bytes(blend_factory(frames=3).read_bytes())
    recipe = shared / "recipe.json"
    recipe.write_text(json.dumps({"version": 2.2, "name": "farm cli", "settings": {"farm_chunk": 2},
                                  "jobs": [{"id": 0, "blend_file": str(blend), "animated": True,
                                            "frame_start": 1, "frame_end": 3,
                                            "output": str(shared / "out" / "f_####")}]}))
    flags = ["--farm", "slurm", "--farm-storage", str(shared), "--work-dir", str(tmp_path / "work")]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "renderplus.server", *args, *flags], cwd=ROOT,
                              env=slurm_cluster.env(), capture_output=True, text=True, timeout=300)

    check = cli("--recipe", str(recipe), "--check")
    assert "farm (slurm): answers" in check.stdout, check.stdout + check.stderr
    assert f"{blend}: every file is on shared storage" in check.stdout
    run = cli("--recipe", str(recipe))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert sorted(p.name for p in (shared / "out").glob("f_*.png")) == [
        "f_0001.png", "f_0002.png", "f_0003.png"]
    wrong = subprocess.run([sys.executable, "-m", "renderplus.server", "--recipe", str(recipe),
                            "--check", "--farm", "nonsense"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert wrong.returncode == 2 and "use slurm, slurm:PARTITION or flamenco=URL" in wrong.stderr
