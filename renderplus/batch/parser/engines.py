"""Engine ids as a poll shows them, and the one EEVEE id each Blender version uses.

EEVEE's id is ``BLENDER_EEVEE`` up to 4.1, ``BLENDER_EEVEE_NEXT`` in 4.2-4.5 and
``BLENDER_EEVEE`` again from 5.0 (docs/blender.md, Engine ids). A recipe written for one
version, or a hint read from a line, is translated to the id of the Blender that renders once
its version is known.
"""

from __future__ import annotations

import re
from typing import Final

from .lines import NON_COMPATIBLE

COMPATIBLE_ENGINES: Final = frozenset(
    {"CYCLES", "BLENDER_EEVEE", "BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH"})
_EEVEE_IDS: Final = frozenset({"BLENDER_EEVEE", "BLENDER_EEVEE_NEXT"})
_VERSION = re.compile(r"(\d+)\.(\d+)")


def version_tuple(version: str | None) -> tuple[int, int] | None:
    """``"4.2.1"`` -> ``(4, 2)``; None when the text holds no version."""
    match = _VERSION.match(version or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def eevee_id(version: tuple[int, int]) -> str:
    """The engine id EEVEE has in this Blender version."""
    return "BLENDER_EEVEE_NEXT" if (4, 2) <= version < (5, 0) else "BLENDER_EEVEE"


def normalize_engine(engine: str | None, blender_version: str | None = None) -> str | None:
    """An engine id as a poll shows it: one of ``COMPATIBLE_ENGINES``, ``NON_COMPATIBLE``, or None.

    With ``blender_version`` (``"4.5.4"``), an EEVEE id becomes the one that version uses.
    """
    if not engine:
        return None
    name = engine.strip().upper()
    if not name:
        return None
    if name not in COMPATIBLE_ENGINES:
        return NON_COMPATIBLE
    if name in _EEVEE_IDS and blender_version is not None:
        version = version_tuple(blender_version)
        if version is not None:
            return eevee_id(version)
    return name
