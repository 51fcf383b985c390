"""Previews of EXR, multilayer EXR and TIFF frames, with the real Blender, in real batches:
parallel slots (two Blenders writing at once, which crashed Blender 3.4 when the preview was
made inside its render_write handler) and a session. The frame reader (a helper Blender) makes
them; the dashboard's route serves them as thumbnails (docs/blender.md, Reading frames outside
the rendering Blender)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.frame_reader import READER_FLAG, FrameReader
from renderplus.batch.runner import Batch
from renderplus.batch.view import BatchView
from renderplus.blender_scripts import previews
from renderplus.server.app import _error_page
from renderplus.server.bottle_loader import bottle
from renderplus.server.dashboard_frames import FrameCatalog
from renderplus.server.dashboard_routes import DashboardRoutes
from renderplus.server.httpd import HttpServer
from tests.batch.conftest import make_recipe
from tests.blendfiles import BLENDER
from tests.procs import processes_with
from tests.waiting import wait_for

from .helpers import call

pytestmark = [pytest.mark.blender, pytest.mark.slow]
FORMATS = ("OPEN_EXR", "OPEN_EXR_MULTILAYER", "TIFF", "PNG")
FRAMES = 3


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


def run_formats(tmp_path: Path, blend_factory: Callable[..., Path], blender_bin: str = "",
                **settings: Any) -> BatchView:
    """A job per format, each a FRAMES-frame animation at 400x300, no retry (a crash fails);
    ``blender_bin``: the recipe's Blender (default: the server's)."""
    blend = blend_factory(engine="BLENDER_WORKBENCH", size=(400, 300), frames=FRAMES)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(tmp_path / fmt.lower() / "f_"),
                           "animated": True, "frame_start": 1, "frame_end": FRAMES, "format": fmt}
                          for fmt in FORMATS], blender_bin=blender_bin, settings={"retries": 0, **settings})
    batch = Batch(recipe)
    batch.start()
    assert batch.wait(300)
    view = batch.view()
    assert [job.status for job in view.jobs] == ["FINISHED"] * len(FORMATS), \
        [job.messages for job in view.jobs]
    return view


def serve_previews(view: BatchView) -> Callable[[str], Any]:
    app = bottle.Bottle()
    routes = DashboardRoutes(FrameCatalog(lambda: view))
    app.route("/previews/<batch>/<job>/<index>", "GET", routes.preview)
    app.default_error_handler = _error_page
    server = HttpServer(app).start("127.0.0.1", 0)
    return lambda path: (call(server.port, "GET", path), server)


def assert_a_served_preview_per_frame(view: BatchView) -> None:
    get = serve_previews(view)
    server = None
    try:
        for job in view.jobs:
            assert len(job.outputs) == FRAMES
            for index, frame in enumerate(job.outputs):
                answer, server = get(f"/previews/current/{job.id}/{index}")
                assert answer.code == 200, (frame, answer.raw[:300])
                if frame.endswith(".png"):  # a browser shows it as it is: no preview made
                    assert answer.headers["content-type"] == "image/png"
                    assert not Path(previews.preview_path(frame)).exists()
                    continue
                assert answer.headers["content-type"] == "image/jpeg"
                assert jpeg_size(answer.raw) == (320, 240)
                assert Path(previews.preview_path(frame)).read_bytes() == answer.raw
        assert not list(Path(view.jobs[0].outputs[0]).parent.parent.glob("**/*.part"))
    finally:
        if server is not None:
            server.stop()


def test_parallel_slots_render_exr_multilayer_and_tiff_animations_with_a_preview_per_frame(
        tmp_path: Path, blend_factory: Callable[..., Path]) -> None:
    view = run_formats(tmp_path, blend_factory, parallel=2)
    assert_a_served_preview_per_frame(view)
    wait_for(lambda: not processes_with(READER_FLAG), timeout=30)  # the reader ended with it


def test_a_session_renders_them_with_a_preview_per_frame(
        tmp_path: Path, blend_factory: Callable[..., Path]) -> None:
    view = run_formats(tmp_path, blend_factory, session_reuse=True)
    assert_a_served_preview_per_frame(view)


def test_the_reader_answers_a_broken_frame_with_its_error_and_reads_on(tmp_path: Path) -> None:
    broken = tmp_path / "broken.exr"
    broken.write_bytes(b"v/1\x01 not really an EXR")
    reader = FrameReader(BLENDER)
    try:
        answer = reader.request("preview", frame=str(broken), look=None)
        assert answer["ok"] is False and answer["error"]
        assert reader.request("preview", frame=str(tmp_path / "f.png"), look=None) == {
            "event": "answer", "id": 2, "ok": True, "preview": None}  # a browser shows a PNG
        assert reader.request("read", frame=str(broken))["error"] == "ValueError: unknown request 'read'"
    finally:
        reader.close()
    wait_for(lambda: not reader.running, timeout=30)
