"""Where things go on disk: Render+'s own folder, the copy a batch renders, and job paths.

Blender's ``//`` prefix means "beside the .blend". A saved file gives it a meaning; an unsaved one
does not, and writing the renders into Blender's config folder instead would hide them: Render
asks the artist for a folder then (``relative_outputs`` says when), and the check before Render
leaves such paths alone (``check_resolver``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import bpy

from . import ADDON_ID, blend_copies


def user_dir(*parts: str, create: bool = True) -> Path:
    """A folder for the add-on's own files in Blender's user folder (the saved copies batches
    render, renders of an unsaved file); the store, logs and uploads are in the state folder
    (``batch_lifecycle.state_folder``). ``create`` makes it."""
    if ADDON_ID.startswith("bl_ext.") and hasattr(bpy.utils, "extension_path_user"):
        root = bpy.utils.extension_path_user(ADDON_ID, create=create)
    else:  # legacy add-on (Blender 3.x)
        root = bpy.utils.user_resource("CONFIG", path="renderplus", create=create)
    path = Path(root, *parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def new_copy_path(blend_path: str) -> Path:
    """Where "Render Batch" saves the copy a new batch renders: one per batch, in Render+'s
    folder (``blend_copies``)."""
    return blend_copies.new_copy_path(user_dir("copies"), blend_path)


def blend_base_dir() -> str | None:
    """Where ``//`` points: the .blend's folder; None for an unsaved file."""
    return os.path.dirname(bpy.data.filepath) if bpy.data.filepath else None


def is_relative(path: str) -> bool:
    """A path that needs the .blend's folder (``//renders/x_``, ``renders/x_``)."""
    path = os.path.expanduser(path.strip())
    return bool(path) and (path.startswith("//") or not os.path.isabs(path))


def resolve_path(path: str, base: str | None = None) -> str:
    """An absolute path: ``//`` and plain relative paths against ``base`` (default: the .blend's
    folder; for an unsaved file, Render+'s own ``untitled`` folder)."""
    base = base or blend_base_dir() or str(user_dir("untitled"))
    resolved = bpy.path.abspath(os.path.expanduser(path), start=base)
    if not os.path.isabs(resolved):
        resolved = os.path.join(base, resolved)
    keep_slash = path.endswith(("/", "\\"))
    resolved = os.path.normpath(resolved)
    return resolved + os.sep if keep_slash else resolved


def check_resolver() -> Callable[[str], str]:
    """For the check before Render: ``resolve_path``, but "" for a relative path of an unsaved
    file (Render asks where those go)."""
    base = blend_base_dir()

    def resolve(path: str) -> str:
        if base is None and is_relative(path):
            return ""
        return resolve_path(path, base)

    return resolve


def relative_outputs(jobs: Iterable[Any]) -> list[str]:
    """Names of the enabled jobs whose output needs the .blend's folder."""
    return [job.name for job in jobs if job.enabled and is_relative(job.output)]
