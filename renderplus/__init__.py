"""Render+: a batch-render queue for Blender.

This package is three things at once: the Blender add-on (the modules beside this file), the
pure batch engine (``batch/``) and the batch server (``server/``). Only the add-on modules
import ``bpy``, and only inside ``register()``: importing ``renderplus.batch`` from a plain
Python must not need Blender, so nothing here imports ``bpy`` at module level.

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
    """Register preferences, properties, operators and panels, then the bridge (server, pump),
    then apply the preferences (the default Blender; the server, if it starts with Blender)."""
    from . import bridge, job_operators, operators, preferences, props, thumbnails, ui, ui_settings

    preferences.register()
    props.register()
    thumbnails.register()
    job_operators.register()
    operators.register()
    ui.register()
    ui_settings.register()  # after ui: its panels sit below the job panels
    bridge.register()
    preferences.apply_preferences()


def unregister() -> None:
    """Stop the server and any batch first (threads must not outlive the classes), then unregister."""
    from . import bridge, job_operators, operators, preferences, props, thumbnails, ui, ui_settings

    bridge.unregister()
    ui_settings.unregister()
    ui.unregister()
    operators.unregister()
    job_operators.unregister()
    thumbnails.unregister()
    props.unregister()
    preferences.unregister()
