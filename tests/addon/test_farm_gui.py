"""The farm from the panel (issue 26), in GUI Blender 3.4 under Xvfb with the add-on installed
from the zip: the preference "Render on" set to the suite's Slurm cluster (its partition and
shared storage), Render pressed on an open file whose texture lies outside shared storage. The
job runs on Slurm (the cluster's records: a completed job working in Render+'s staging folder),
the file is packed by the bundled Blender Asset Tracer, and the frames are on shared storage."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.addon.helpers import SCRIPTS, parse_result
from tests.farm.blends import make_textured_blend
from tests.farm.slurm_cluster import SlurmCluster

pytestmark = [pytest.mark.blender, pytest.mark.slow]
SCREEN = "1280x800x24"
FRAMES = 3


def run_gui(command: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run GUI Blender in a session of its own; whatever happens, nothing of it is left."""
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)


def test_render_from_the_panel_runs_on_the_slurm_cluster(slurm_cluster: SlurmCluster, addon_zip: Path,
                                                         tmp_path: Path) -> None:
    blender = shutil.which("blender")
    if shutil.which("xvfb-run") is None or blender is None:
        pytest.skip("needs xvfb-run and the blender executable")
    scripts = tmp_path / "blender-scripts"
    with zipfile.ZipFile(addon_zip) as archive:   # what "Install add-on" does in 3.x
        archive.extractall(scripts / "addons")
    shared = tmp_path / "shared"
    shared.mkdir()
    blend, _texture = make_textured_blend(tmp_path / "local")   # the texture: outside shared storage
    output = shared / "renders" / "f_"
    args = {"blend": str(blend), "partition": slurm_cluster.partition, "shared": str(shared),
            "output": str(output), "frames": FRAMES}
    env = {**slurm_cluster.env(), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "BLENDER_USER_SCRIPTS": str(scripts),
           "BLENDER_USER_CONFIG": str(tmp_path / "blender-config"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("RENDERPLUS_TOKEN", None)
    command = ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}", blender, "--factory-startup",
               "--python", str(SCRIPTS / "farm_gui_scenario.py"), "--", json.dumps(args)]
    proc = run_gui(command, env, timeout=420)
    seen: dict[str, Any] = parse_result(proc, "farm_gui_scenario.py (GUI)")

    assert seen["problem"] == "" and seen["where"] == f"Slurm partition '{slurm_cluster.partition}'"
    assert seen["render"] == ["FINISHED"] and not seen.get("timed_out"), seen
    assert seen["status"] == "FINISHED", seen["jobs"]
    assert seen["jobs"][0][0] == "FINISHED", seen["jobs"]
    staging = shared / "renderplus-staging"
    records = subprocess.run(["scontrol", "-o", "show", "job"], env=slurm_cluster.env(),
                             capture_output=True, text=True, timeout=30).stdout
    ran = [line for line in records.splitlines() if f"WorkDir={staging}" in line]
    assert ran and all("JobState=COMPLETED" in line for line in ran), records
    assert not seen["bat_before"] and "renderplus/wheels/blender_asset_tracer-" in seen["bat_file"]
    packed = sorted(p.relative_to(staging) for p in staging.rglob("red.png"))
    assert packed, sorted(str(p) for p in staging.rglob("*"))   # the texture went with the file
    assert sorted(p.name for p in output.parent.glob("f_*.png")) == [
        f"f_{frame:04d}.png" for frame in range(1, FRAMES + 1)]
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and _runs_scenario(pid)]


def _runs_scenario(pid: str) -> bool:
    try:
        return b"farm_gui_scenario.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
