"""The session executor's claim on every version: a job rendered after another in one Blender
session (the file reloaded between them) gives the same pixels as that job in a Blender of its
own, for the engines the default uses sessions for. Each engine is measured against the noise
floor of that version: the same job in two separate processes. What was found is in
docs/blender.md (One session for several jobs)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.runner import Batch, RunOptions
from renderplus.batch.slots import SESSION_PROVEN_ENGINES
from tests.batch.conftest import make_recipe
from tests.versions.conftest import BlenderUnderTest

pytestmark = [pytest.mark.blender, pytest.mark.slow]


def pixels(path: str) -> bytes:
    """A PNG's image data, inflated (its filtered scanlines): equal data, equal pixels."""
    data, at, idat = Path(path).read_bytes(), 8, []
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat.append(data[at + 8:at + 8 + length])
        at += 12 + length
    return zlib.decompress(b"".join(idat))


def second_job_frame(blend: Path, engine: str, folder: Path, session: bool) -> bytes:
    """Two stills of ``blend`` (its two cameras); the second one's pixels."""
    overrides = [{"path": "eevee.taa_render_samples", "value": 2}] if "EEVEE" in engine else []
    recipe = make_recipe(
        [{"blend_file": str(blend), "camera": camera, "engine": engine,
          "output": str(folder / f"{camera}_"), "custom_overrides": overrides}
         for camera in ("Camera", "Cam2")], settings={"session_reuse": session})
    batch = Batch(recipe, RunOptions(blender_bin=_binary))
    batch.run()
    jobs = batch.snapshot()["jobs"]
    assert [job["status"] for job in jobs] == ["FINISHED", "FINISHED"], [j["messages"] for j in jobs]
    return pixels(jobs[1]["outputs"][0])


_binary = ""


@pytest.mark.parametrize("kind", ["CYCLES", "EEVEE", "BLENDER_WORKBENCH"])
def test_a_session_renders_the_pixels_a_process_renders_where_the_default_uses_it(
        blender: BlenderUnderTest, blend_factory: Any, tmp_path: Path, kind: str) -> None:
    global _binary
    _binary = blender.path
    engine = blender.version.eevee if kind == "EEVEE" else kind
    blend = blend_factory(engine="CYCLES", size=(48, 36), samples=4, extra_cameras=("Cam2",))
    first = second_job_frame(blend, engine, tmp_path / "process1", session=False)
    again = second_job_frame(blend, engine, tmp_path / "process2", session=False)
    in_session = second_job_frame(blend, engine, tmp_path / "session", session=True)
    floor, same = first == again, first == in_session
    print(f"Blender {blender.full_version} {engine}: two processes "
          f"{'identical' if floor else 'differ'}; session {'identical' if same else 'differs'}")
    if engine in SESSION_PROVEN_ENGINES:   # what the default relies on must hold on every version
        assert floor and same, (floor, same)
