"""Thumbnails of the frames a job wrote, through Blender's own preview API (``bpy.utils.previews``).

Blender reads the image and scales it down itself, for every format it can open, and caches the
result; the panel only asks for an icon id. A frame is keyed by its path and modification time,
so a frame written again gets a new thumbnail; only the latest ``KEEP`` are kept, so an
animation of thousands of frames holds a handful of previews.

How a preview is read matters more than it seems. Left to itself, Blender reads it in a
background job whose progress and end notify the *whole window*: every region redraws,
the 3D viewport included, once per new thumbnail, which froze GUI Blender for 0.7 s per frame
in bench/bench_gui.py (software OpenGL). So a thumbnail is read at once, in the main thread,
when that is cheap: Render+'s small JPEG preview (made for EXR, TIFF...), or a frame of
at most ``SYNC_MAX_PIXELS``. A larger frame is left to Blender's job only where that happens
once (a finished job's last frame), never for the frame a running job just wrote.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

import bpy
import bpy.utils.previews

from ..blender_scripts.previews import preview_path
from .image_header import cheap_to_read

KEEP = 16
# a 1x1 grey PNG: what ``warm_up`` reads
_TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753"
    "de0000000c4944415478da63686868000003040181752e01bc0000000049454e44ae426082")
_warm = False

_collection: Any = None
_order: list[str] = []
_refused = ""  # the last frame ``icon_id`` would not read now (too large while its job runs)
_refused_key = ""  # ... and its key (path, mtime): asked again, it is refused without a read


def thumbnail_source(path: str) -> str:
    """The file to make the thumbnail from: the frame's small JPEG preview once it exists."""
    small = preview_path(path)
    return small if os.path.isfile(small) else path


def too_large_now(path: str) -> bool:
    """True when ``icon_id(path)`` just gave 0 because the frame is too large to read while its
    job runs (its thumbnail waits for the job to finish). No file access: draw() asks right
    after ``icon_id``."""
    return bool(path) and path == _refused


def icon_id(path: str, *, may_defer: bool = False) -> int:
    """The preview icon of the image at ``path``; 0 when there is none now.

    A cheap source is read at once. Otherwise, with ``may_defer`` (a finished job: its last
    frame no longer changes) Blender's preview job reads it, once; without, 0.
    """
    global _refused, _refused_key
    _refused = ""
    if _collection is None or not path:
        return 0
    source = thumbnail_source(path)
    try:
        stamp = os.stat(source).st_mtime_ns
    except OSError:
        return 0
    key = hashlib.sha1(f"{source}|{stamp}".encode("utf-8", "surrogateescape")).hexdigest()[:20]
    preview = _collection.get(key)
    if preview is None:
        if key == _refused_key and not may_defer:
            _refused = path
            return 0
        cheap = cheap_to_read(source)
        if not cheap and not may_defer:
            _refused, _refused_key = path, key
            return 0
        preview = _collection.load(key, source, "IMAGE")
        if cheap:
            _read_now(preview)
        _keep(key)
    return int(preview.icon_id)


def warm_up() -> None:
    """Read one tiny image as a preview, once per session, when a batch starts: a fresh Blender
    sets up its image reading on the first preview (about 60 ms in 5.2), and paid here, at the
    Render press, it is not a stall when the first frame's thumbnail appears."""
    global _warm
    if _warm or _collection is None:
        return
    _warm = True
    with tempfile.TemporaryDirectory(prefix="renderplus-") as folder:
        tiny = os.path.join(folder, "warm-up.png")
        with open(tiny, "wb") as out:
            out.write(_TINY_PNG)
        _read_now(_collection.load("renderplus-warm-up", tiny, "IMAGE"))
        del _collection["renderplus-warm-up"]


def _read_now(preview: Any) -> tuple[int, int]:
    """Asking a preview's size makes Blender read it now, in this thread: no background job,
    so no whole-window redraw."""
    width, height = preview.image_size
    return int(width), int(height)


def _keep(key: str) -> None:
    _order.append(key)
    while len(_order) > KEEP:
        old = _order.pop(0)
        if old in _collection:
            del _collection[old]


def register() -> None:
    global _collection
    _collection = bpy.utils.previews.new()


def unregister() -> None:
    global _collection
    global _warm
    if _collection is not None:
        bpy.utils.previews.remove(_collection)
    _collection = None
    _order.clear()
    _warm = False
