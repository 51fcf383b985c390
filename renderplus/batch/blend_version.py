"""Which Blender saved a .blend, read from its header: plain, gzip (before 3.0) or zstd (3.0+).

"auto" picks the Blender for each file by this version (``blender_choice.py``). A file whose
header cannot be read is a problem (nothing should render it); a compressed file whose version
cannot be read (no zstd reader) is only unknown.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from .blendfile import (
    GZIP_MAGIC,
    ZSTD_MAGIC,
    blend_file_version,
    blend_header_problem,
    read_head,
)
from .zstd_head import zstd_head

ZSTD_HEAD_BYTES = 1024 * 1024  # Blender's first zstd block may be longer than HEADER_BYTES


@dataclass(frozen=True)
class SavedVersion:
    """``version``: 304 for 3.4, or None; then ``problem`` (not a readable .blend) or
    ``unknown`` (a .blend whose version cannot be read here) says why."""

    version: int | None
    problem: str | None = None
    unknown: str | None = None

    @property
    def text(self) -> str | None:
        """``"3.4"``, or None."""
        return version_text(self.version)


def version_text(version: int | None) -> str | None:
    return f"{version // 100}.{version % 100}" if version else None


def saved_version(path: str) -> SavedVersion:
    """The version of Blender that saved ``path``, from its first bytes."""
    try:
        head = read_head(path)
        if head.startswith(ZSTD_MAGIC):
            head = read_head(path, ZSTD_HEAD_BYTES)
    except OSError as exc:
        return SavedVersion(None, problem=f"cannot read {path}: {exc.strerror or exc}")
    problem = blend_header_problem(head)
    if problem:
        return SavedVersion(None, problem=f"{path} is {problem}")
    inner: bytes | None = head
    if head.startswith(GZIP_MAGIC):
        inner = zlib.decompressobj(wbits=31).decompress(head, 64)
    elif head.startswith(ZSTD_MAGIC):
        inner, why = zstd_head(head)
        if inner is None:
            return SavedVersion(None, unknown=f"the Blender version that saved {path} is unknown: {why}")
    version = blend_file_version(inner or b"")
    if version is None:
        return SavedVersion(None, problem=f"{path} has a .blend header this Render+ cannot read")
    return SavedVersion(version)

