"""Thumbnails of the frames a job wrote, through Blender's own preview API (``bpy.utils.previews``).

Blender reads the image and scales it down itself, for every format it can open (EXR, TIFF and
the rest), and caches the result; the panel only asks for an icon id. A frame is keyed by its
path and modification time, so a frame written again gets a new thumbnail; only the latest
``KEEP`` are kept, so an animation of thousands of frames holds a handful of previews.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import bpy
import bpy.utils.previews

KEEP = 16

_collection: Any = None
_order: list[str] = []


def icon_id(path: str) -> int:
    """The preview icon of the image at ``path``; 0 when there is none (no file, not loaded)."""
    if _collection is None or not path:
        return 0
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return 0
    key = hashlib.sha1(f"{path}|{stamp}".encode("utf-8", "surrogateescape")).hexdigest()[:20]
    preview = _collection.get(key)
    if preview is None:
        preview = _collection.load(key, path, "IMAGE")
        _order.append(key)
        while len(_order) > KEEP:
            old = _order.pop(0)
            if old in _collection:
                del _collection[old]
    return int(preview.icon_id)


def register() -> None:
    global _collection
    _collection = bpy.utils.previews.new()


def unregister() -> None:
    global _collection
    if _collection is not None:
        bpy.utils.previews.remove(_collection)
    _collection = None
    _order.clear()
