"""Runs inside Blender for ``--check`` (batch/preflight/blend.py): reports what a .blend holds.

Prints one marker line: its scenes (cameras, active camera, view layers, output, engine), its
worlds, and which of the engines named after ``--`` (a JSON list) this Blender has.
Standard library and bpy only (Blender 2.80 to 5.x).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import bpy

PREFIX = "RENDERPLUS> "  # markers.MARKER_PREFIX (a test keeps them equal)
BUILT_IN_ENGINES = {"CYCLES", "BLENDER_EEVEE", "BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH"}


def available_engines(scene: Any, wanted: list[str]) -> list[str]:
    """The engines this Blender accepts, tried on the scene and put back as they were."""
    candidates = set(wanted) | BUILT_IN_ENGINES
    candidates |= {getattr(c, "bl_idname", "") for c in bpy.types.RenderEngine.__subclasses__()}
    original = scene.render.engine
    engines = []
    for engine in sorted(e for e in candidates if e):
        try:
            scene.render.engine = engine
            engines.append(engine)
        except TypeError:
            pass
    scene.render.engine = original
    return engines


def main() -> None:
    wanted = json.loads(sys.argv[sys.argv.index("--") + 1])
    scenes = {}
    for scene in bpy.data.scenes:
        scenes[scene.name] = {
            "cameras": sorted(o.name for o in scene.objects if o.type == "CAMERA"),
            "camera": scene.camera.name if scene.camera else None,
            "layers": [layer.name for layer in scene.view_layers],
            "output": bpy.path.abspath(scene.render.filepath),
            "engine": scene.render.engine,
        }
    active = bpy.context.scene
    print(PREFIX + json.dumps({
        "event": "probe", "blender": bpy.app.version_string,
        "active_scene": active.name if active else "", "scenes": scenes,
        "worlds": [w.name for w in bpy.data.worlds],
        "engines": available_engines(active, wanted) if active else sorted(wanted)}))
    sys.stdout.flush()


main()
