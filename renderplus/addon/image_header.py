"""An image's size from the first bytes of its file, without decoding it, and whether Blender's
main thread may read it at once (no ``bpy``).

Why: the panel may read a thumbnail synchronously in Blender's main thread only when that is
cheap, and what it costs grows with the pixels (bench/bench_gui.py); the header says how many
there are before anything is read. PNG, JPEG and BMP cover the browser-viewable frames a job
writes; every other format gets a small JPEG preview from Render+'s frame reader
(``blender_scripts/previews.py``), whose size this reads too.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8"
# Start-of-frame markers carry the size: C0-CF except C4 (DHT), C8 (JPG) and CC (DAC).
JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # markers without a length
JPEG_MAX_SCAN = 1 << 20  # give up after this many bytes of segments (a huge EXIF block)
# What Blender's main thread may read at once: reading and scaling a 1920x1080 PNG takes about
# 30 ms on a slow 2-core machine, a 3840x2160 one about 140 ms (bench/bench_thumbnails.py).
SYNC_MAX_PIXELS = 1920 * 1088


def cheap_to_read(path: str) -> bool:
    """True when reading the image at ``path`` now will not stall Blender's main thread
    noticeably: a known format with at most ``SYNC_MAX_PIXELS``."""
    size = image_size(path)
    return size is not None and size[0] * size[1] <= SYNC_MAX_PIXELS


def image_size(path: str) -> tuple[int, int] | None:
    """``(width, height)`` of the PNG, JPEG or BMP at ``path``; None for other formats, a file
    that cannot be read, or a header that makes no sense."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(32)
            if head.startswith(PNG_SIGNATURE):
                return _png(head)
            if head.startswith(JPEG_SOI):
                stream.seek(2)
                return _jpeg(stream)
            if head.startswith(b"BM"):
                return _bmp(head)
    except (OSError, struct.error):
        return None
    return None


def _png(head: bytes) -> tuple[int, int] | None:
    if head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return _sane(width, height)


def _jpeg(stream: BinaryIO) -> tuple[int, int] | None:
    scanned = 0
    while scanned < JPEG_MAX_SCAN:
        byte = stream.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            scanned += 1
            continue
        marker = stream.read(1)
        while marker == b"\xff":  # fill bytes
            marker = stream.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in JPEG_STANDALONE:
            continue
        if code in (0xD9, 0xDA):  # end of image, or the scan starts: no frame header seen
            return None
        length = struct.unpack(">H", stream.read(2))[0]
        if code in JPEG_SOF:
            data = stream.read(5)
            height, width = struct.unpack(">xHH", data)
            return _sane(width, height)
        if length < 2:
            return None
        stream.seek(length - 2, 1)
        scanned += length + 2
    return None


def _bmp(head: bytes) -> tuple[int, int] | None:
    if len(head) < 26:
        return None
    header_size = struct.unpack("<I", head[14:18])[0]
    if header_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
        width, height = struct.unpack("<HH", head[18:22])
    else:
        width, height = struct.unpack("<ii", head[18:26])
    return _sane(width, abs(height))  # a negative height means top-down rows


def _sane(width: int, height: int) -> tuple[int, int] | None:
    return (width, height) if 0 < width < 1 << 20 and 0 < height < 1 << 20 else None
