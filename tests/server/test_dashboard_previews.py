"""Previews written by the real Blender (previews.py, called from a render_write handler as the job
script calls it), then served as thumbnails by the dashboard's route."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from renderplus.batch.view import BatchStatus, BatchView, JobStatus, JobView
from renderplus.blender_scripts import previews
from renderplus.server.app import _error_page
from renderplus.server.bottle_loader import bottle
from renderplus.server.dashboard_frames import FrameCatalog
from renderplus.server.dashboard_routes import DashboardRoutes
from renderplus.server.httpd import HttpServer

from .helpers import call

pytestmark = [pytest.mark.blender, pytest.mark.slow]
BLENDER = shutil.which("blender") or "/usr/bin/blender"

_SCRIPT = r"""
import bpy, importlib.util, json, sys
opts = json.loads(sys.argv[sys.argv.index("--") + 1])
spec = importlib.util.spec_from_file_location("renderplus_previews", opts["module"])
previews = importlib.util.module_from_spec(spec)
spec.loader.exec_module(previews)
scene = bpy.context.scene
scene.render.engine = "BLENDER_WORKBENCH"
scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 400, 300, 100
def on_write(scene, *_):
    path = scene.render.frame_path(frame=scene.frame_current)
    print("WROTE", json.dumps([path, previews.write_preview(path, scene)]), flush=True)
bpy.app.handlers.render_write.append(on_write)
print("BROKEN", json.dumps(previews.write_preview(opts["broken"], scene)), flush=True)
for fmt, name in opts["formats"]:
    scene.render.image_settings.file_format = fmt
    scene.render.filepath = opts["out"] + "/" + name + "_####"
    scene.frame_start, scene.frame_end = 1, 2
    bpy.ops.render.render(animation=True)
"""


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    assert data[:3] == b"\xff\xd8\xff"
    at = 2
    while at < len(data):
        marker, length = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return width, height
        at += 2 + length
    raise AssertionError("no frame header")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    if shutil.which(BLENDER) is None:
        pytest.skip("the blender executable is not installed")
    out = tmp_path_factory.mktemp("previews")
    broken = out / "broken.exr"
    broken.write_bytes(b"v/1\x01 not really an EXR")
    opts = {"module": previews.__file__, "out": str(out), "broken": str(broken),
            "formats": [["OPEN_EXR", "exr"], ["OPEN_EXR_MULTILAYER", "multi"], ["TIFF", "tiff"],
                        ["PNG", "png"]]}
    result = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-expr", _SCRIPT, "--",
                             json.dumps(opts)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    wrote = [json.loads(line[6:]) for line in result.stdout.splitlines() if line.startswith("WROTE ")]
    broken_lines = [line for line in result.stdout.splitlines() if line.startswith("BROKEN ")]
    return {"out": out, "wrote": wrote, "broken": broken_lines, "stderr": result.stderr}


def test_blender_writes_a_small_jpeg_beside_each_frame_browsers_cannot_show(
        rendered: dict[str, object]) -> None:
    wrote = rendered["wrote"]
    assert isinstance(wrote, list) and len(wrote) == 8
    for frame, preview in wrote:
        if frame.endswith(".png"):
            assert preview is None  # a browser shows it as it is
            continue
        assert preview == previews.preview_path(frame)
        data = Path(preview).read_bytes()
        assert jpeg_size(data) == (320, 240)
        assert not Path(preview + ".part").exists()
    assert not list(Path(str(rendered["out"])).glob("**/*.part"))


def test_a_preview_that_fails_never_fails_the_render(rendered: dict[str, object]) -> None:
    assert rendered["broken"] == ["BROKEN null"]
    assert "Render+: no preview of" in str(rendered["stderr"])


@pytest.fixture
def served(rendered: dict[str, object]) -> Iterator[Callable[[str], object]]:
    wrote = rendered["wrote"]
    assert isinstance(wrote, list)
    job = JobView(0, JobStatus.FINISHED, outputs=tuple(frame for frame, _ in wrote))
    view = BatchView(BatchStatus.FINISHED, (job,))
    app = bottle.Bottle()
    routes = DashboardRoutes(FrameCatalog(lambda: view))
    app.route("/previews/<batch>/<job>/<index>", "GET", routes.preview)
    app.default_error_handler = _error_page
    server = HttpServer(app).start("127.0.0.1", 0)
    yield lambda path: call(server.port, "GET", path)
    server.stop()


def test_the_dashboard_serves_the_previews_as_thumbnails(served: Callable[[str], object],
                                                         rendered: dict[str, object]) -> None:
    wrote = rendered["wrote"]
    assert isinstance(wrote, list)
    for index, (frame, _) in enumerate(wrote):
        answer = served(f"/previews/current/0/{index}")
        assert answer.code == 200, (frame, answer.data)  # type: ignore[attr-defined]
        expected = "image/png" if frame.endswith(".png") else "image/jpeg"
        assert answer.headers["content-type"] == expected  # type: ignore[attr-defined]
