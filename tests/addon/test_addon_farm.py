"""The add-on's "Render on" preference (bpy 5.0) against the suite's real Slurm cluster: a bad
choice is said before Render and refused by it, a good one renders the job on Slurm, and the
add-on's server reports the farm on ``/test``."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import run_bpy_script
from tests.farm.slurm_cluster import SlurmCluster
from tests.ports import free_port

pytestmark = [pytest.mark.bpy, pytest.mark.blender, pytest.mark.slow]


@pytest.fixture(scope="module")
def scenario(addon_zip: Path, blend_factory: Callable[..., Path], slurm_cluster: SlurmCluster,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("farm-pref")
    shared = tmp / "shared"
    shared.mkdir()
    blend = shared / "scene.blend"
    blend.write_bytes(blend_factory(size=(32, 24)).read_bytes())
    args = {"zip": str(addon_zip), "blend": str(blend), "shared": str(shared), "port": free_port(),
            "partition": slurm_cluster.partition, "out": str(shared / "out" / "frame_")}
    before = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(slurm_cluster.conf)   # the add-on's Slurm tools use the cluster
    try:
        result = run_bpy_script("farm_scenario.py", args, tmp, timeout=300)
    finally:
        if before is None:
            del os.environ["SLURM_CONF"]
        else:
            os.environ["SLURM_CONF"] = before
    result["args"] = args
    result["slurm_jobs"] = subprocess.run(["scontrol", "-o", "show", "job"], env=slurm_cluster.env(),
                                          capture_output=True, text=True, timeout=30).stdout
    yield result


def test_a_choice_that_cannot_work_is_said_and_render_refuses_it(scenario: dict[str, Any]) -> None:
    assert scenario["default"] == "local"
    shown, refused, local = scenario["no_storage"]
    assert any("Render on Slurm: a farm needs a shared storage folder" in line for line in shown), shown
    assert "a farm needs a shared storage folder" in refused and local
    shown, refused = scenario["missing_storage"]
    assert "nowhere does not exist" in refused
    farm = scenario["test_refused"]   # the add-on's server says why the farm is not used
    assert farm["engine"] == "slurm" and farm["ok"] is False and "does not exist" in farm["detail"]
    shown, refused = scenario["bad_url"]
    assert "Render on Flamenco Manager: flamenco=URL: the Manager's address" in refused


def test_a_slurm_choice_renders_on_the_cluster_and_test_reports_it(scenario: dict[str, Any]) -> None:
    args = scenario["args"]
    shown, has_factory = scenario["good"]
    assert has_factory and f"Renders on Slurm partition '{args['partition']}'" in shown, shown
    code, test = scenario["test_route"]
    assert code == 200 and test["farm"]["engine"] == "slurm" and test["farm"]["answers"] is True
    assert any(queue.startswith(args["partition"]) for queue in test["farm"]["queues"])
    assert scenario["finished"], scenario["job"]
    assert scenario["job"][0] == "FINISHED", scenario["job"]
    staging = os.path.join(args["shared"], "renderplus-staging")
    ran = [line for line in scenario["slurm_jobs"].splitlines() if f"WorkDir={staging}" in line]
    assert ran and all("JobState=COMPLETED" in line for line in ran), scenario["slurm_jobs"]
    assert sorted(os.listdir(Path(args["out"]).parent)) == ["frame_0001.png"]
    shown, local = scenario["local_again"]
    assert local and not any("Renders on" in line for line in shown)
