"""Small JPEG previews of frames a browser cannot show (EXR, TIFF, ...), made by Blender.

``write_preview`` runs in the frame reader, a helper Blender outside the one that renders
(``read_frames.py``; docs/blender.md, Reading frames outside the rendering Blender): making a
preview creates and removes a scene and images, which inside a ``render_write`` handler crashed
Blender 3.4 under parallel slots. The job's Blender only names the frame and its scene's colour
management (``scene_look``) in its frame marker; the engine then asks the reader for the preview.
Standard library and bpy only (Blender 2.80 to 5.x).

The preview goes to ``<frame folder>/.renderplus-previews/<frame name>.jpg`` (``preview_path``,
which the server and the panel import), written under a temporary name and renamed, so a reader
never sees half a file. Scene-linear formats (EXR, Radiance HDR) get the scene's own view
transform, so the preview looks like the render; display-referred ones (TIFF, TGA, DPX...) are
shown as they are ("Standard"). Cost: bench/bench_previews.py.

A preview that cannot be made never fails anything: ``write_preview`` prints one line to
stderr and returns None.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

PREVIEW_DIR = ".renderplus-previews"
PREVIEW_SUFFIX = ".jpg"
PREVIEW_SIZE = 320                     # the longest side, in pixels
PREVIEW_QUALITY = 80
HELPER_SCENE = "Render+ preview"       # holds the JPEG settings; removed after each preview
BROWSER_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"})
MOVIE_SUFFIXES = frozenset({".mp4", ".mkv", ".avi", ".mov", ".ogv", ".ogg", ".webm", ".flv", ".mpg",
                            ".mpeg", ".dv", ".m2v", ".m4v"})
SCENE_LINEAR_SUFFIXES = frozenset({".exr", ".hdr"})


def preview_path(frame_path: str) -> str:
    """Where the preview of ``frame_path`` goes: a hidden folder beside the frame."""
    folder, name = os.path.split(frame_path)
    return os.path.join(folder, PREVIEW_DIR, name + PREVIEW_SUFFIX)


def needs_preview(frame_path: str) -> bool:
    """True for still images a browser cannot show; movies get none (not a frame file)."""
    suffix = os.path.splitext(frame_path)[1].lower()
    return bool(suffix) and suffix not in BROWSER_SUFFIXES and suffix not in MOVIE_SUFFIXES


def preview_size(width: int, height: int, longest: int = PREVIEW_SIZE) -> tuple[int, int]:
    """The preview's size: the longest side ``longest`` (never enlarged), the aspect kept."""
    scale = min(1.0, longest / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def scene_look(scene: Any) -> dict[str, Any]:
    """The scene's colour management, as data: what a preview of its scene-linear frames needs.

    Only reads a few properties, so the job's ``render_write`` handler may call it while Blender
    renders (it goes into the frame marker; the preview itself is made by the frame reader)."""
    view = scene.view_settings
    return {"display_device": scene.display_settings.display_device,
            "view_transform": view.view_transform, "look": view.look,
            "exposure": float(view.exposure), "gamma": float(view.gamma)}


def write_preview(frame_path: str, look: dict[str, Any] | None, *,
                  longest: int = PREVIEW_SIZE) -> str | None:
    """Write the JPEG preview of ``frame_path`` when it needs one; return its path, or None
    (no preview needed, or it failed: one line on stderr). ``look``: ``scene_look`` of the
    scene that rendered it (None: this Blender's default). Never from a render handler."""
    try:
        return make_preview(frame_path, look, longest=longest)
    except Exception as exc:  # a preview is a nicety: never fail anything over it
        print(f"Render+: no preview of {frame_path}: {exc}", file=sys.stderr, flush=True)
        return None


def make_preview(frame_path: str, look: dict[str, Any] | None, *,
                 longest: int = PREVIEW_SIZE) -> str | None:
    """``write_preview`` that raises what went wrong (the frame reader answers it)."""
    if not needs_preview(frame_path):
        return None
    return _write(frame_path, look or {}, longest)


def _write(frame_path: str, look: dict[str, Any], longest: int) -> str:
    import bpy

    if not os.path.isfile(frame_path):
        raise FileNotFoundError("no such file")
    target = preview_path(frame_path)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = target + ".part"
    images: list[Any] = [bpy.data.images.load(frame_path, check_existing=False)]
    helper = bpy.data.scenes.new(HELPER_SCENE)
    try:
        settings = helper.render.image_settings
        settings.file_format = "JPEG"
        settings.color_mode = "RGB"
        settings.quality = PREVIEW_QUALITY
        _set_color_management(look, helper, os.path.splitext(frame_path)[1].lower())
        width, height = images[0].size
        if not width or not height:
            # A multilayer EXR gives its pixels to save_render only: save it whole as a JPEG
            # first (with the scene's look), then scale that one (now display-referred).
            images[0].save_render(partial, scene=helper)
            images.append(bpy.data.images.load(partial, check_existing=False))
            _set_color_management(look, helper, PREVIEW_SUFFIX)
            width, height = images[-1].size
            if not width or not height:
                raise ValueError("Blender read no pixels from it")
        images[-1].scale(*preview_size(width, height, longest))
        images[-1].save_render(partial, scene=helper)
        os.replace(partial, target)
    finally:
        for image in images:
            bpy.data.images.remove(image)
        bpy.data.scenes.remove(helper)
        if os.path.exists(partial):
            os.remove(partial)
    return target


def _set_color_management(look: dict[str, Any], helper: Any, suffix: str) -> None:
    """The scene's look for scene-linear files; display-referred files stay as written."""
    if look.get("display_device"):
        helper.display_settings.display_device = look["display_device"]
    view = helper.view_settings
    if suffix in SCENE_LINEAR_SUFFIXES:
        if look.get("view_transform"):
            view.view_transform = look["view_transform"]
        if look.get("look"):
            view.look = look["look"]
        view.exposure = float(look.get("exposure", 0.0))
        view.gamma = float(look.get("gamma", 1.0))
    else:
        view.view_transform = "Standard"
        with contextlib.suppress(TypeError):  # a colour configuration without a "None" look
            view.look = "None"
