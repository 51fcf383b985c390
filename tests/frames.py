"""Small whole image files for the tests' stand-in renderers: every frame Render+ records passes
its structural check (a PNG's chunks, CRCs and inflated data), so a stand-in writes a real one."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int = 2, height: int = 2, grey: int = 128) -> bytes:
    """An 8-bit RGB PNG of one grey, whole."""
    row = b"\x00" + bytes([grey]) * (3 * width)
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(row * height)) + _chunk(b"IEND", b""))


PNG = png_bytes()
