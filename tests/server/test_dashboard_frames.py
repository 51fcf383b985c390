"""Frames and previews: only recorded outputs, opened without following links, only images."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.store import BatchStore, NewJob, Owner
from renderplus.batch.view import BatchStatus, BatchView, JobStatus, JobView
from renderplus.blender_scripts import previews
from renderplus.server import dashboard_frames
from renderplus.server.app import _error_page
from renderplus.server.bottle_loader import bottle
from renderplus.server.dashboard_frames import FrameCatalog, preview_path
from renderplus.server.dashboard_routes import DashboardRoutes
from renderplus.server.httpd import HttpServer

from .helpers import call, raw_exchange, split_response

EXR_MAGIC = b"\x76\x2f\x31\x01" + b"\x00" * 60
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + b"\x00" * 40 + b"\xff\xd9"


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny, grey) PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width * 3 for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Outputs:
    """The current batch's view, with outputs a test sets."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, ...]] = [(), ()]

    def view(self) -> BatchView:
        return BatchView(BatchStatus.RUNNING, tuple(
            JobView(i, JobStatus.RUNNING if paths else JobStatus.QUEUED, outputs=paths)
            for i, paths in enumerate(self.jobs)))


@pytest.fixture
def outputs() -> Outputs:
    return Outputs()


@pytest.fixture
def frames_server(outputs: Outputs) -> Iterator[Callable[..., HttpServer]]:
    """``frames_server(store=None)``: the dashboard's routes alone, behind the real guard."""
    started: list[HttpServer] = []

    def make(store: Any = None) -> HttpServer:
        app = bottle.Bottle()
        routes = DashboardRoutes(FrameCatalog(outputs.view, lambda: store))
        app.route("/frames/<batch>/<job>/<index>", "GET", routes.frame)
        app.route("/previews/<batch>/<job>/<index>", "GET", routes.preview)
        app.default_error_handler = _error_page  # JSON errors, as create_app's
        handle = HttpServer(app).start("127.0.0.1", 0)
        started.append(handle)
        return handle

    yield make
    for handle in started:
        handle.stop()


@pytest.fixture
def renders(tmp_path: Path) -> Path:
    folder = tmp_path / "renders"
    folder.mkdir()
    (folder / "shot_0001.png").write_bytes(png())
    (folder / "shot_0002.exr").write_bytes(EXR_MAGIC)
    return folder


def get(server: HttpServer, path: str, **headers: str) -> Any:
    return call(server.port, "GET", path, headers=headers or None)


def test_current_outputs_are_served_by_position_and_last(frames_server: Callable[..., HttpServer],
                                                         outputs: Outputs, renders: Path) -> None:
    outputs.jobs[0] = (str(renders / "shot_0001.png"), str(renders / "shot_0002.exr"))
    server = frames_server()
    answer = get(server, "/frames/current/0/0")
    assert answer.code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.raw == png()
    assert answer.headers["x-frame-options"] == "DENY" and "content-security-policy" in answer.headers
    assert get(server, "/frames/current/0/0", **{"If-None-Match": answer.headers["etag"]}).code == 304
    exr = get(server, "/frames/current/0/last")
    assert exr.code == 415 and "/previews/current/0/last" in exr.data["status"]
    assert get(server, "/previews/current/0/0").raw == png()  # a PNG is its own thumbnail


def test_an_exr_is_shown_by_its_preview_once_blender_wrote_it(frames_server: Callable[..., HttpServer],
                                                              outputs: Outputs, renders: Path) -> None:
    frame = renders / "shot_0002.exr"
    outputs.jobs[0] = (str(frame),)
    server = frames_server()
    missing = get(server, "/previews/current/0/last")
    assert missing.code == 404 and "No preview of shot_0002.exr yet" in missing.data["status"]
    target = Path(preview_path(str(frame)))
    target.parent.mkdir()
    target.write_bytes(JPEG)
    answer = get(server, "/previews/current/0/last")
    assert answer.code == 200 and answer.headers["content-type"] == "image/jpeg" and answer.raw == JPEG
    os.utime(target, ns=(frame.stat().st_mtime_ns - 10**9,) * 2)  # from an earlier render
    assert get(server, "/previews/current/0/last").code == 404


def test_the_preview_rule_is_the_one_blender_writes_by() -> None:
    assert previews.PREVIEW_DIR == dashboard_frames.PREVIEW_DIR
    assert previews.PREVIEW_SUFFIX == dashboard_frames.PREVIEW_SUFFIX
    for path in ("/r/a_0001.exr", "/r/x y/b.tif", "C:/r/c.dpx"):
        assert previews.preview_path(path) == preview_path(path)
    assert previews.BROWSER_SUFFIXES == dashboard_frames.SHOWABLE_SUFFIXES
    assert previews.needs_preview("/r/a.EXR") and previews.needs_preview("/r/a.tif")
    assert not previews.needs_preview("/r/a.png") and not previews.needs_preview("/r/a.mp4")
    assert previews.preview_size(1920, 1080) == (320, 180) and previews.preview_size(100, 50) == (100, 50)
    assert previews.preview_size(1080, 1920) == (180, 320)


@pytest.mark.parametrize("path", [
    "/frames/current/0/-1", "/frames/current/0/%2e%2e", "/frames/current/0/..%2f..%2fetc%2fpasswd",
    "/frames/current/0/%2Fetc%2Fpasswd", "/frames/%2fetc%2fpasswd/0/0", "/frames/..%2f..%2f/0/0",
    "/frames/current/0/1e3", "/frames/current/0/%D9%A3", "/frames/current/0/0x1", "/frames/current/0/+1",
    "/frames/current/..%2f0/0", "/frames/current/0/0/../../../etc/passwd", "/frames/current/0/%00",
    "/frames/current/0/99999999999", "/frames/current/1/0", "/frames/current/7/0", "/frames/current/0/5",
    "/frames/-1/0/0", "/frames/1/0/0", "/previews/current/0/..", "/previews//etc/passwd/0/0",
    "/frames/current/0//etc/passwd", "/frames/current/0/C:%5cWindows%5cwin.ini",
])
def test_no_address_reaches_another_file(frames_server: Callable[..., HttpServer], outputs: Outputs,
                                         renders: Path, path: str) -> None:
    outputs.jobs[0] = (str(renders / "shot_0001.png"),)
    status, headers, body = split_response(raw_exchange(
        frames_server().port, f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode()))
    assert status in (400, 404), (path, status, body)
    assert headers["content-type"] == "application/json" and b"root:" not in body


def test_an_output_replaced_by_a_symlink_is_refused(frames_server: Callable[..., HttpServer],
                                                    outputs: Outputs, renders: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.png"
    elsewhere.write_bytes(png())
    (renders / "link_0001.png").symlink_to(elsewhere)
    (renders / "passwd.png").symlink_to("/etc/passwd")
    outputs.jobs[0] = (str(renders / "link_0001.png"), str(renders / "passwd.png"))
    server = frames_server()
    for index in ("0", "1"):
        answer = get(server, f"/frames/current/0/{index}")
        assert answer.code == 403 and "not served" in answer.data["status"]
        assert get(server, f"/previews/current/0/{index}").code == 403


def test_a_previews_folder_that_is_a_symlink_is_not_followed(frames_server: Callable[..., HttpServer],
                                                             outputs: Outputs, renders: Path,
                                                             tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "shot_0002.exr.jpg").write_bytes(JPEG)
    (renders / dashboard_frames.PREVIEW_DIR).symlink_to(other)
    outputs.jobs[0] = (str(renders / "shot_0002.exr"),)
    assert get(frames_server(), "/previews/current/0/0").code == 404


def test_only_regular_image_files_of_this_user_are_sent(frames_server: Callable[..., HttpServer],
                                                        outputs: Outputs, renders: Path) -> None:
    (renders / "text.png").write_text("root:x:0:0:root:/root:/bin/bash\n")
    os.mkfifo(renders / "fifo.png")
    (renders / "folder.png").mkdir()
    outputs.jobs[0] = (str(renders / "text.png"), str(renders / "fifo.png"), str(renders / "folder.png"),
                       "relative/shot.png", str(renders / "gone.png"), str(renders / "gone" / "x.png"))
    server = frames_server()
    expected = {"0": 415, "1": 403, "2": 403, "3": 404, "4": 404, "5": 404}
    for index, code in expected.items():
        answer = get(server, f"/frames/current/0/{index}")
        assert answer.code == code, (index, answer.data)
        assert b"root:" not in answer.raw


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a file away")
def test_a_file_of_another_user_is_refused(frames_server: Callable[..., HttpServer], outputs: Outputs,
                                           renders: Path) -> None:
    frame = renders / "shot_0001.png"
    os.chown(frame, 65534, 65534)
    outputs.jobs[0] = (str(frame),)
    answer = get(frames_server(), "/frames/current/0/0")
    assert answer.code == 403 and "another user" in answer.data["status"]


def test_stored_frames_are_served_while_they_are_the_recorded_files(
        frames_server: Callable[..., HttpServer], renders: Path, tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path / "state")
    try:
        batch_id = store.create_batch("stored", "{}", str(tmp_path), Owner.current(),
                                      [NewJob(0, "job0", "a.blend")])
        for frame, name in ((2, "shot_0001.png"), (1, "shot_0002.exr")):
            info = (renders / name).stat()
            store.add_frame(batch_id, 0, frame, str(renders / name), info.st_size, info.st_mtime_ns,
                            info.st_ino)
        server = frames_server(store)
        assert get(server, f"/frames/{batch_id}/0/0").code == 415   # frame 1 first: the EXR
        assert get(server, f"/frames/{batch_id}/0/1").raw == png()
        assert get(server, f"/frames/{batch_id}/1/0").code == 404
        assert get(server, f"/frames/{batch_id + 1}/0/0").code == 404
        (renders / "shot_0001.png").write_bytes(png(8, 8))     # rendered again since
        answer = get(server, f"/frames/{batch_id}/0/last")
        assert answer.code == 410 and "changed since" in answer.data["status"]
    finally:
        store.close()


def test_without_a_store_stored_batches_are_404(frames_server: Callable[..., HttpServer]) -> None:
    answer = get(frames_server(None), "/frames/3/0/0")
    assert answer.code == 404 and "keeps no batch store" in answer.data["status"]


def test_the_guard_refuses_cross_site_frame_requests(frames_server: Callable[..., HttpServer],
                                                     outputs: Outputs, renders: Path) -> None:
    outputs.jobs[0] = (str(renders / "shot_0001.png"),)
    server = frames_server()
    assert get(server, "/frames/current/0/0", **{"Sec-Fetch-Site": "cross-site"}).code == 403
    assert get(server, "/frames/current/0/0", Origin="http://127.0.0.1:9").code == 403


ANOTHER_USER = 65534   # nobody


def swap_for_link(folder: Path, target: Path, owner: int = ANOTHER_USER) -> None:
    """Replace ``folder`` by a symbolic link to ``target`` made by ``owner``, as another user
    could mid-batch in a shared folder (changing a link's owner needs root)."""
    folder.rename(folder.with_name(folder.name + ".was"))
    folder.symlink_to(target, target_is_directory=True)
    if owner != os.geteuid():
        os.lchown(folder, owner, owner)


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="a link of another user needs root to make")


@needs_root
def test_an_output_folder_swapped_for_another_users_link_serves_nothing(
        frames_server: Callable[..., HttpServer], outputs: Outputs, renders: Path,
        tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "shot").mkdir(parents=True)
    (other / "shot" / "shot_0001.png").write_bytes(png(9, 9))  # another image, same name
    (renders / "shot").mkdir()
    (renders / "shot" / "shot_0001.png").write_bytes(png())
    outputs.jobs[0] = (str(renders / "shot" / "shot_0001.png"),)
    server = frames_server()
    assert get(server, "/frames/current/0/0").raw == png()
    swap_for_link(renders / "shot", other / "shot")  # the folder holding the frame
    answer = get(server, "/frames/current/0/0")
    assert answer.code == 403 and "'shot' on its path is a symbolic link made by another user" \
        in answer.data["status"]
    (renders / "shot").unlink()
    (renders / "shot.was").rename(renders / "shot")
    assert get(server, "/frames/current/0/0").raw == png()
    swap_for_link(renders, other)  # a folder further up
    answer = get(server, "/frames/current/0/0")
    assert answer.code == 403 and "'renders' on its path is a symbolic link" in answer.data["status"]


@needs_root
def test_a_frame_folder_swapped_for_another_users_link_serves_no_preview(
        frames_server: Callable[..., HttpServer], outputs: Outputs, renders: Path,
        tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    for folder, picture in ((renders, JPEG), (other, JPEG + b"another")):
        (folder / "shot_0002.exr").write_bytes(EXR_MAGIC)
        preview = Path(preview_path(str(folder / "shot_0002.exr")))
        preview.parent.mkdir(exist_ok=True)
        preview.write_bytes(picture)
    outputs.jobs[0] = (str(renders / "shot_0002.exr"),)
    server = frames_server()
    assert get(server, "/previews/current/0/0").raw == JPEG
    swap_for_link(renders, other)
    answer = get(server, "/previews/current/0/0")
    assert answer.code == 403 and "symbolic link made by another user" in answer.data["status"]


def test_a_folder_reached_through_the_users_own_link_is_served(
        frames_server: Callable[..., HttpServer], outputs: Outputs, renders: Path,
        tmp_path: Path) -> None:
    """An artist's ``~/renders`` -> ``/mnt/nas/renders``: their own link, followed."""
    real = tmp_path / "nas" / "shot"
    real.mkdir(parents=True)
    (real / "shot_0001.png").write_bytes(png(9, 9))
    (renders / "shot").symlink_to(real, target_is_directory=True)
    outputs.jobs[0] = (str(renders / "shot" / "shot_0001.png"),)
    assert get(frames_server(), "/frames/current/0/0").raw == png(9, 9)


def test_a_link_among_the_entries_of_the_root_is_followed(tmp_path: Path) -> None:
    """The entries of ``/`` are the trusted root (only root changes them): ``/tmp`` -> ...
    on macOS, ``/bin`` -> ``usr/bin``; the walk follows them and nothing below."""
    links = [entry for entry in os.scandir("/") if entry.is_symlink() and entry.is_dir()]
    if not links:
        pytest.skip("no directory link among the entries of / here")
    folder = links[0].path
    name = sorted(os.listdir(folder))[0]
    fd = dashboard_frames.open_folder(os.path.join(folder, name), name)
    try:
        assert os.path.samestat(os.fstat(fd), os.stat(folder))
    finally:
        os.close(fd)
