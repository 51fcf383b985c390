"""What a test reads back from a frame: a PNG's size, an OpenEXR file's channel names."""

from __future__ import annotations

import struct
from pathlib import Path

EXR_MAGIC = 20000630


def png_size(path: str | Path) -> tuple[int, int]:
    head = Path(path).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def exr_channels(path: str | Path) -> list[str]:
    """The channel names of an OpenEXR file's (first part's) header."""
    data = Path(path).read_bytes()
    assert struct.unpack("<i", data[:4])[0] == EXR_MAGIC, f"{path} is not an OpenEXR file"
    at = 8
    while data[at] != 0:
        name_end = data.index(b"\0", at)
        kind_end = data.index(b"\0", name_end + 1)
        name, kind = data[at:name_end].decode(), data[name_end + 1:kind_end].decode()
        size = struct.unpack("<i", data[kind_end + 1:kind_end + 5])[0]
        value = data[kind_end + 5:kind_end + 5 + size]
        if name == "channels" and kind == "chlist":
            names, cursor = [], 0
            while value[cursor] != 0:
                end = value.index(b"\0", cursor)
                names.append(value[cursor:end].decode())
                cursor = end + 1 + 16   # pixel type, linear, reserved, x and y sampling
            return names
        at = kind_end + 5 + size
    return []
