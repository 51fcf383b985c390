"""The job checks as rules over facts: the same rules for ``--check`` and the add-on.

Each rule takes facts (``binary.BinaryFacts``, ``blend.FileFacts``, names a job asks for) and
says what is wrong; it never asks Blender. ``--check`` feeds them facts a Blender probe reported
(``check.py``), the add-on facts read from ``bpy.data`` of the open file (``addon/job_checks.py``).
Findings about names are data (``Missing``): each front end words them for its reader (the CLI
names the file, the add-on suggests a rename); the engine and folder rules return sentences.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from .binary import version_number
from .blend import FileFacts, SceneFacts

# One engine under two ids: the id a Blender lacks -> the id it may have instead.
ENGINE_RENAMES = {"BLENDER_EEVEE_NEXT": "BLENDER_EEVEE", "BLENDER_EEVEE": "BLENDER_EEVEE_NEXT"}


@dataclass(frozen=True)
class JobNames:
    """The names a job asks for; "" means "the file's own" (scene: the active one)."""

    scene: str = ""
    camera: str = ""
    world: str = ""
    layer: str = ""


@dataclass(frozen=True)
class Missing:
    """A name the job asks for that the file does not hold.

    ``kind``: "scene", "camera", "world", "view layer", or "active camera" (the job names no
    camera and the scene has none); ``scene``: the scene it was looked for in; ``existing``: the
    names there are instead."""

    kind: str
    name: str
    scene: str
    existing: tuple[str, ...]


def missing_names(job: JobNames, facts: FileFacts) -> tuple[str, SceneFacts | None, list[Missing]]:
    """(the job's scene name, its facts or None when it is missing, what is missing)."""
    scene_name = job.scene or facts.active_scene
    scene = facts.scenes.get(scene_name)
    if scene is None:
        return scene_name, None, [Missing("scene", scene_name, "", tuple(facts.scenes))]
    missing: list[Missing] = []
    if job.camera:
        if job.camera not in scene.cameras:
            missing.append(Missing("camera", job.camera, scene_name, tuple(scene.cameras)))
    elif not scene.camera:
        missing.append(Missing("active camera", "", scene_name, ()))
    if job.world and job.world not in facts.worlds:
        missing.append(Missing("world", job.world, "", tuple(facts.worlds)))
    if job.layer and job.layer not in scene.layers:
        missing.append(Missing("view layer", job.layer, scene_name, tuple(scene.layers)))
    return scene_name, scene, missing


def engine_problem(engine: str, engines: tuple[str, ...] | list[str],
                   blender_version: str | None = None) -> str | None:
    """None when ``engine`` is one of ``engines``; else a sentence naming the ones there are,
    and the id to use instead when the same engine goes by another name in this version."""
    if not engine or engine in engines:
        return None
    where = f"Blender {blender_version}" if blender_version else "this Blender"
    message = f"render engine {engine!r} is not available in {where} (engines: {listing(engines)})"
    other = ENGINE_RENAMES.get(engine)
    if other in engines:
        message += f"; use {other!r}, the same engine's id in {where}"
    return message


def newer_file(file_version: int | None, binary_version: str | None) -> str | None:
    """``"4.2"`` when a file saved by that version is newer than the binary's; else None."""
    binary = version_number(binary_version)
    if not file_version or binary is None or file_version <= binary:
        return None
    return f"{file_version // 100}.{file_version % 100}"


def folder_problem(folder: str, what: str = "output folder") -> str | None:
    """None when Blender could write into ``folder`` (creating it if needed); it looks at the
    file system, the one fact no probe reports. ``what`` names the folder in the sentence."""
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    if not os.path.isdir(existing):
        return f"{what} {folder} cannot be created: {existing} is a file"
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == os.path.abspath(folder):
            return f"{what} {folder} is not writable"
        return f"{what} {folder} cannot be created: {existing} is not writable"
    return None


def listing(names: Iterable[str], limit: int = 20) -> str:
    """``'A', 'B'`` for a message (at most ``limit`` names), or ``none``."""
    return ", ".join(repr(name) for name in list(names)[:limit]) or "none"
