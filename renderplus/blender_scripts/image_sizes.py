"""The pixel size of a frame file, read from its header alone (standard library only).

The encode checks that every frame has the same size before anything is encoded (FFmpeg would
otherwise scale the odd ones silently). PNG, JPEG, TIFF, BMP, Targa and OpenEXR (its display
window, single-part or multi-part, single or multilayer); None for anything else (Blender then
tells the size as it reads the frame).
"""

from __future__ import annotations

import struct
from typing import BinaryIO

HEADER_LIMIT = 1 << 20   # an EXR header larger than this is not read


def frame_size(path: str) -> tuple[int, int] | None:
    """(width, height) of the image at ``path`` from its header, or None when unknown."""
    with open(path, "rb") as stream:
        head = stream.read(32)
        stream.seek(0)
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            return struct.unpack(">II", head[16:24])
        if head.startswith(b"\xff\xd8"):
            return _jpeg(stream)
        if head[:4] in (b"II*\x00", b"MM\x00*"):
            return _tiff(stream)
        if head.startswith(b"v/1\x01"):
            return _exr(stream)
        if head.startswith(b"BM") and len(head) >= 26:
            width, height = struct.unpack("<ii", head[18:26])
            return width, abs(height)
    if path.lower().endswith(".tga") and len(head) >= 16:
        return struct.unpack("<HH", head[12:16])
    return None


def _jpeg(stream: BinaryIO) -> tuple[int, int] | None:
    stream.read(2)
    while True:
        marker = stream.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        if marker[1] in (0xD8, 0x01) or 0xD0 <= marker[1] <= 0xD7:
            continue
        length_bytes = stream.read(2)
        if len(length_bytes) < 2:
            return None
        length = struct.unpack(">H", length_bytes)[0]
        if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):
            data = stream.read(5)
            height, width = struct.unpack(">HH", data[1:5])
            return width, height
        stream.seek(length - 2, 1)


def _tiff(stream: BinaryIO) -> tuple[int, int] | None:
    order = "<" if stream.read(2) == b"II" else ">"
    stream.read(2)
    stream.seek(struct.unpack(order + "I", stream.read(4))[0])
    count = struct.unpack(order + "H", stream.read(2))[0]
    found: dict[int, int] = {}
    for _ in range(count):
        tag, kind, _n, value = struct.unpack(order + "HHI4s", stream.read(12))
        if tag in (256, 257):
            found[tag] = struct.unpack(order + ("H" if kind == 3 else "I"),
                                       value[:2] if kind == 3 else value)[0]
    return (found[256], found[257]) if 256 in found and 257 in found else None


def _exr(stream: BinaryIO) -> tuple[int, int] | None:
    """The display window of the (first) header: attributes are name\\0 type\\0 size value."""
    data = stream.read(HEADER_LIMIT)
    at = 8
    while at < len(data):
        end = data.find(b"\x00", at)
        if end < 0 or end == at:
            return None
        name = data[at:end]
        kind_end = data.find(b"\x00", end + 1)
        if kind_end < 0:
            return None
        size = struct.unpack("<i", data[kind_end + 1:kind_end + 5])[0]
        value = data[kind_end + 5:kind_end + 5 + size]
        if name == b"displayWindow" and len(value) == 16:
            x_min, y_min, x_max, y_max = struct.unpack("<iiii", value)
            return x_max - x_min + 1, y_max - y_min + 1
        at = kind_end + 5 + size
    return None
