"""Runs inside Blender: the files the compositor's File Output nodes wrote for a frame.

A frame's result is its main output *and* every File Output node file (passes, multilayer
EXR): a resume must verify them all. The node API changed in 5.0 (``file_output_items``
instead of ``file_slots``/``layer_slots``, the compositor in ``scene.compositing_node_group``
instead of ``scene.node_tree``), so both are read. Standard library and bpy only (2.80 to 5.x).
"""

from __future__ import annotations

import os
import re
from typing import Any

import bpy

EXTENSIONS = {
    "PNG": ".png", "JPEG": ".jpg", "JPEG2000": ".jp2", "OPEN_EXR": ".exr",
    "OPEN_EXR_MULTILAYER": ".exr", "TIFF": ".tif", "BMP": ".bmp", "TARGA": ".tga",
    "TARGA_RAW": ".tga", "HDR": ".hdr", "WEBP": ".webp", "CINEON": ".cin", "DPX": ".dpx",
    "IRIS": ".rgb",
}
_HASHES = re.compile(r"#+")


def frame_name(path: str, frame: int) -> str:
    """Blender's frame numbering: the last run of ``#`` becomes the zero-padded frame (sign
    first), or four digits are appended when the path has none."""
    runs = list(_HASHES.finditer(path))
    if not runs:
        return path + _padded(frame, 4)
    last = runs[-1]
    return path[:last.start()] + _padded(frame, last.end() - last.start()) + path[last.end():]


def _padded(frame: int, width: int) -> str:
    return ("-" if frame < 0 else "") + str(abs(frame)).zfill(width)


def _compositor(scene: Any) -> Any:
    tree = getattr(scene, "compositing_node_group", None)  # 5.0+
    if tree is not None:
        return tree
    if getattr(scene, "use_nodes", False):
        return getattr(scene, "node_tree", None)
    return None


def file_output_paths(scene: Any, frame: int) -> list[str]:
    """Absolute paths the scene's enabled File Output nodes write for ``frame`` (existing
    files only: a node muted or not reached by the compositor writes nothing)."""
    tree = _compositor(scene)
    if tree is None:
        return []
    found: list[str] = []
    for node in tree.nodes:
        if node.bl_idname != "CompositorNodeOutputFile" or getattr(node, "mute", False):
            continue
        found += _node_paths(node, frame)
    return [path for path in found if os.path.isfile(path)]


def _node_paths(node: Any, frame: int) -> list[str]:
    base = bpy.path.abspath(getattr(node, "base_path", "") or getattr(node, "directory", ""))
    node_format = getattr(node, "format", None)
    fmt = getattr(node_format, "file_format", "PNG")
    if fmt == "OPEN_EXR_MULTILAYER":  # one file for every input
        name = getattr(node, "file_name", "")  # 5.0+: directory + file_name
        return [frame_name(os.path.join(base, name) if name else base, frame) + ".exr"]
    items = getattr(node, "file_output_items", None)  # 5.0+
    if items is None:
        items = getattr(node, "file_slots", [])
    paths = []
    for item in items:
        sub = str(getattr(item, "path", None) or getattr(item, "name", "") or "")
        own = None if getattr(item, "use_node_format", True) else getattr(item, "format", None)
        ext = EXTENSIONS.get(getattr(own or node_format, "file_format", fmt), "")
        name = str(getattr(node, "file_name", "") or "")
        target = os.path.join(base, name + sub) if name else os.path.join(base, sub)
        paths.append(frame_name(target, frame) + ext)
    return paths
