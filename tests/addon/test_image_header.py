"""An image's size from its header (``renderplus/addon/image_header.py``): what decides whether the
panel may read a thumbnail in Blender's main thread. Files are real PNGs (written here) and
JPEG/BMP headers as their formats lay them out; Blender-written JPEGs are read in the GUI test."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from renderplus.addon.image_header import cheap_to_read, image_size
from tests.addon.scripts.harness import write_png


def jpeg(width: int, height: int, *, before_frame: bytes = b"") -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes(64)
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + before_frame + dqt + sof0 + b"\xff\xda\x00\x08" + bytes(8) + b"\xff\xd9"


def test_png_size_from_a_real_png(tmp_path: Path) -> None:
    path = tmp_path / "frame_0001.png"
    write_png(str(path), 320, 180)
    assert image_size(str(path)) == (320, 180)


def test_jpeg_size_after_other_segments_and_fill_bytes(tmp_path: Path) -> None:
    exif = b"\xff\xe1" + struct.pack(">H", 2 + 5000) + bytes(5000)  # a large APP1 block first
    path = tmp_path / "frame.jpg"
    path.write_bytes(jpeg(3840, 2160, before_frame=exif + b"\xff\xff"))
    assert image_size(str(path)) == (3840, 2160)


def test_progressive_jpeg_frame_header(tmp_path: Path) -> None:
    path = tmp_path / "p.jpg"
    path.write_bytes(jpeg(640, 480).replace(b"\xff\xc0", b"\xff\xc2"))
    assert image_size(str(path)) == (640, 480)


@pytest.mark.parametrize(("header_size", "fields", "expected"), [
    (40, struct.pack("<ii", 1920, -1080), (1920, 1080)),  # top-down rows: negative height
    (12, struct.pack("<HH", 64, 32), (64, 32)),  # OS/2 core header
])
def test_bmp_size(tmp_path: Path, header_size: int, fields: bytes, expected: tuple[int, int]) -> None:
    path = tmp_path / "f.bmp"
    path.write_bytes(b"BM" + bytes(12) + struct.pack("<I", header_size) + fields + bytes(40))
    assert image_size(str(path)) == expected


@pytest.mark.parametrize("content", [
    b"",  # empty
    b"\x89PNG\r\n\x1a\n\x00\x00",  # cut in the signature's chunk
    b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 0, 10) + bytes(9),
    b"\xff\xd8\xff\xe0\x00",  # JPEG cut in a segment length
    b"\xff\xd8\xff\xda\x00\x08",  # a scan before any frame header
    b"\xff\xd8\xff\xe0\x00\x01",  # a segment length under 2
    b"v/1\x01\x02\x00\x00\x00",  # OpenEXR: not read here (its JPEG preview is)
])
def test_unknown_or_broken_headers_give_none(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "f"
    path.write_bytes(content)
    assert image_size(str(path)) is None


def test_a_missing_file_or_a_folder_gives_none(tmp_path: Path) -> None:
    assert image_size(str(tmp_path / "gone.png")) is None
    assert image_size(str(tmp_path)) is None


def test_only_small_known_images_are_cheap_to_read_at_once(tmp_path: Path) -> None:
    small, large = tmp_path / "small.png", tmp_path / "large.png"
    write_png(str(small), 1920, 1080)
    write_png(str(large), 2048, 1536)
    exr = tmp_path / "f.exr"
    exr.write_bytes(b"v/1\x01\x02\x00\x00\x00")
    assert cheap_to_read(str(small))
    assert not cheap_to_read(str(large)) and not cheap_to_read(str(exr))
