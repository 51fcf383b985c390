"""Render+: a batch-render queue for Blender.

This folder is the add-on Blender installs and the home of the pure packages beside it:
``addon/`` (the Blender add-on), ``batch/`` (the batch engine), ``around/`` (notices, feed,
mail, power), ``server/`` (the REST API and ``python3 server``), ``cli/`` (the command line)
and ``blender_scripts/`` (what Blender runs). Only ``addon/`` and ``blender_scripts/`` import
``bpy``.
Importing ``renderplus.batch`` from a plain Python must not need Blender, so nothing here
imports ``bpy``; ``register()`` forwards to the add-on.

Blender 4.2+ loads the folder as an extension (``bl_ext.<repo>.renderplus``, metadata in
``blender_manifest.toml``); Blender 3.x loads it as a legacy add-on through ``bl_info``.
Keep ``bl_info["version"]`` equal to the manifest's ``version`` (a test checks it).
"""

from __future__ import annotations

bl_info = {
    "name": "Render+",
    "author": "Render+ developers",
    "version": (1, 0, 0),
    "blender": (3, 4, 0),
    "location": "3D Viewport > Sidebar > Render+",
    "description": "Batch render queue: scenes, cameras, markers and files in one go",
    "category": "Render",
}


def register() -> None:
    """Blender calls this on enable: the add-on package registers everything."""
    from . import addon

    addon.register()


def unregister() -> None:
    """Blender calls this on disable: threads stop before classes go."""
    from . import addon

    addon.unregister()
