"""The first bytes inside a zstd-compressed .blend (Blender 3.0+ saves compressed files so).

Python 3.11 has no zstd and Blender's own Python ships no ``zstandard``, so this asks, in order:
the ``zstandard`` module when it is importable, else the ``zstd`` command line tool (``zstd -dc``
of the file's first bytes); when neither is there it says so in a sentence, and the file's
version stays unknown.
"""

from __future__ import annotations

import shutil
import subprocess
from types import ModuleType

ZSTD_TIMEOUT = 10.0
INNER_BYTES = 64  # a .blend header is 12 to 17 bytes


def _zstandard() -> ModuleType | None:
    try:
        import zstandard  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return zstandard  # type: ignore[no-any-return,unused-ignore]


def zstd_head(head: bytes, *, module: ModuleType | bool | None = True,
              tool: str | bool | None = True) -> tuple[bytes | None, str | None]:
    """(the first decompressed bytes of ``head``, None), or (None, why they cannot be read).

    ``module`` and ``tool`` are for tests: True finds them, None (or False) means "absent".
    ``head`` is the start of a zstd frame: decompressing stops where it ends, which is fine.
    """
    found = _zstandard() if module is True else (module or None)
    if found is not None:
        try:
            inner: bytes = found.ZstdDecompressor().decompressobj().decompress(head)
        except Exception as exc:  # zstandard.ZstdError, which tests cannot import
            return None, f"the zstd data cannot be read ({exc})"
        return inner[:INNER_BYTES], None
    command = shutil.which("zstd") if tool is True else (tool or None)
    if command is None:
        return None, ("the file is zstd-compressed and neither the Python module 'zstandard' "
                      "nor the 'zstd' program is installed to read it")
    try:
        result = subprocess.run([command, "-dc"], input=head, capture_output=True,
                                timeout=ZSTD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, f"zstd did not answer within {ZSTD_TIMEOUT:g} s"
    except OSError as exc:
        return None, f"cannot run zstd: {exc.strerror or exc}"
    if not result.stdout:  # a cut-off frame exits non-zero after writing what it decoded
        why = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return None, f"zstd could not read the compressed data: {why[0]}"
    return result.stdout[:INNER_BYTES], None
