"""The Blender add-on: every module here may import ``bpy`` (or adapts what it gives), and only
this package and ``blender_scripts/`` may. The pure packages beside it (``batch``, ``around``,
``server``, ``cli``) never import from here.

The add-on's id is the root package's name, not this package's: ``renderplus`` as a legacy
add-on, ``bl_ext.<repo>.renderplus`` as an extension. Preferences, the user folder and the
"open preferences" buttons all use ``ADDON_ID``.
"""

from __future__ import annotations

ADDON_ID = (__package__ or "renderplus.addon").rpartition(".")[0]


def register() -> None:
    """Register preferences, properties, operators and panels, then the bridge (server, pump),
    then apply the preferences (the default Blender; the server, if it starts with Blender)."""
    from . import (
        batch_lifecycle,
        batch_operators,
        bridge,
        engine_items,
        job_operators,
        movie_operators,
        preferences,
        props,
        queue_operators,
        quit_lifecycle,
        recipe_operators,
        server_operators,
        thumbnails,
        ui,
        ui_queue,
        ui_settings,
    )

    preferences.register()
    props.register()
    thumbnails.register()
    job_operators.register()
    movie_operators.register()
    batch_operators.register()
    queue_operators.register()
    server_operators.register()
    recipe_operators.register()
    ui_queue.register()
    ui.register()
    ui_settings.register()  # after ui: its panels sit below the job panels
    bridge.register()
    engine_items.ask_rendering_blender(batch_lifecycle.rendering_binary_info)  # the engine menu
    quit_lifecycle.register()  # a quit pauses the batch (or hands it over), never cancels it
    preferences.apply_preferences()


def unregister() -> None:
    """Stop the server and any batch first (threads must not outlive the classes), then unregister."""
    from . import (
        batch_operators,
        bridge,
        engine_items,
        job_operators,
        movie_operators,
        preferences,
        props,
        queue_operators,
        quit_lifecycle,
        recipe_operators,
        server_operators,
        thumbnails,
        ui,
        ui_queue,
        ui_settings,
    )

    if quit_lifecycle.quitting():   # Blender's exit, not the artist: pause, never cancel
        quit_lifecycle.on_quit()
    quit_lifecycle.unregister()
    engine_items.ask_rendering_blender(None)
    bridge.unregister()
    ui_settings.unregister()
    ui.unregister()
    ui_queue.unregister()
    recipe_operators.unregister()
    server_operators.unregister()
    queue_operators.unregister()
    batch_operators.unregister()
    movie_operators.unregister()
    job_operators.unregister()
    thumbnails.unregister()
    props.unregister()
    preferences.unregister()
