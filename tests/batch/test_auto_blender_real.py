"""``blender_bin: "auto"`` with the real Blender 3.4: a server given ``--blender`` renders a
compressed (zstd) 3.4 file with it, and the poll's job says which Blender rendered it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.blend_version import saved_version
from tests.server.helpers import ServerProcess, call
from tests.waiting import wait_for

BLENDER = "/usr/bin/blender"
NEWER = [Path.home() / ".cache/renderplus/blenders" / name / "blender" for name in ("trixie", "sid")]


@pytest.mark.slow
def test_a_server_renders_an_auto_recipe_with_the_listed_blender(
        tmp_path: Path, blend_factory: Callable[..., Path]) -> None:
    if not os.access(BLENDER, os.X_OK):
        pytest.skip(f"{BLENDER} is not installed")
    blend = blend_factory(frames=1, compress=True, name="auto_zstd.blend")
    assert saved_version(str(blend)).version == 304
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"version": 2.2, "name": "auto", "blender_bin": "auto", "jobs": [
        {"id": 0, "name": "Shot", "blend_file": str(blend), "output": str(tmp_path / "out_")}]}))
    extra = [arg for path in NEWER if os.access(path, os.X_OK) for arg in ("--blender", str(path))]
    server = ServerProcess("--blender", BLENDER, *extra, "--recipe", str(recipe), work_dir=tmp_path / "work")
    try:
        assert call(server.port, "GET", "/test").data["blender_bin"] == BLENDER
        ready = call(server.port, "GET", "/batch/ready").data
        assert ready["ready"], ready
        assert call(server.port, "GET", "/batch").data["jobs"][0]["blender"] is None
        assert call(server.port, "GET", "/batch/start").code == 200
        started = time.monotonic()

        def ended() -> bool:
            return call(server.port, "GET", "/batch").data["status"] in ("FINISHED", "FAILED", "CANCELLED")

        wait_for(ended, timeout=240)
        poll = call(server.port, "GET", "/batch").data
        job = poll["jobs"][0]
        assert poll["status"] == "FINISHED", (job["messages"], time.monotonic() - started)
        assert job["blender"] == {"path": BLENDER, "version": "3.4.1"}
        assert len(list(tmp_path.glob("out_*.png"))) == 1
    finally:
        server.close()


@pytest.mark.blender
def test_real_blenders_are_told_apart_by_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the newer Blenders of scripts/blenders.sh beside 3.4 (skipped when they are absent)."""
    from renderplus.batch import blenders as blenders_module
    from renderplus.batch.blender_pick import pick_named
    from renderplus.batch.blenders import InstallRoots

    if not all(os.access(path, os.X_OK) for path in [Path(BLENDER), *NEWER]):
        pytest.skip("needs /usr/bin/blender and the newer Blenders of scripts/blenders.sh")
    roots = InstallRoots(home=str(tmp_path / "nohome"), system=str(tmp_path / "nosystem"))
    monkeypatch.setattr(blenders_module, "machine_places", lambda env: (roots, ""))
    listed = [str(path) for path in NEWER] + [BLENDER]
    chosen = {}
    for header in (b"BLENDER-v304", b"BLENDER-v402", b"BLENDER17-01v0501"):
        file = tmp_path / f"{header.decode()}.blend"
        file.write_bytes(header + b"REND" + bytes(64))
        pick = pick_named("auto", candidates=listed, file=str(file))
        assert pick.problem is None and pick.warnings == ()
        chosen[header] = pick.version
    assert chosen == {b"BLENDER-v304": "3.4.1", b"BLENDER-v402": "4.3.2", b"BLENDER17-01v0501": "5.2.2"}
