"""Is this a .blend file, and which Blender saved it: read from its first bytes only.

A .blend starts with ``BLENDER`` (plain), or is a gzip stream (Blender before 3.0) or a zstd
frame (3.0+) around one. Used by ``--check`` (``preflight``) and by the server's upload checks,
before any Blender is asked.
"""

from __future__ import annotations

import re
import zlib

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BLEND_MAGIC = b"BLENDER"
HEADER_BYTES = 64 * 1024  # enough of a gzip stream to inflate its first bytes


def blend_header_problem(head: bytes) -> str | None:
    """None when ``head`` (a file's first bytes) starts a .blend: plain, gzip or zstd."""
    if head.startswith(BLEND_MAGIC):
        return None
    if head.startswith(ZSTD_MAGIC):
        return None  # Blender 3.0+ compression; the standard library cannot look inside
    if head.startswith(GZIP_MAGIC):
        try:
            inner = zlib.decompressobj(wbits=31).decompress(head, len(BLEND_MAGIC))
        except zlib.error:
            return "a gzip file that is not a valid gzip stream"
        if inner.startswith(BLEND_MAGIC):
            return None
        return "a gzip file that does not hold a Blender file"
    if not head:
        return "an empty file"
    return "not a Blender file (no BLENDER signature)"


def blend_file_version(head: bytes) -> int | None:
    """The Blender version that saved an uncompressed .blend (304 for 3.4), else None."""
    old = re.match(rb"BLENDER[-_][vV](\d{3})", head)  # before 5.0: BLENDER-v304
    if old:
        return int(old.group(1))
    new = re.match(rb"BLENDER\d\d-\d\d[vV](\d{4})", head)  # 5.0+: BLENDER17-01v0500
    return int(new.group(1)) if new else None


def read_head(path: str, size: int = HEADER_BYTES) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)
