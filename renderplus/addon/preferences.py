# mypy: disable-error-code="valid-type, union-attr"
"""Add-on preferences: the batch server, where batches render (this machine or a farm), the
Blender that renders jobs, and the mail password.

These live in Blender's user preferences, not in the .blend: a password must never travel
inside a file someone shares, and a server port is a property of the machine, not of a scene.

This module hands its values to ``batch_lifecycle`` and ``server_lifecycle`` (never the other
way round): changing the Blender preference gives the service new options for the batches
started from then on.
"""

from __future__ import annotations

import sys
from typing import Any

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, IntProperty, StringProperty

from ..batch.options import AUTO
from ..server import DEFAULT_PORT
from . import ADDON_ID, batch_lifecycle, blender_list, farm_choice, quit_lifecycle, server_lifecycle
from .bridge import BridgeError
from .props import PATH_OPTIONS
from .ui_server import draw_server_status


def _blender_changed(prefs: Any, _context: Any) -> None:
    batch_lifecycle.set_default_blender(preferred_blender(prefs))


def _farm_changed(prefs: Any, _context: Any) -> None:
    farm_choice.hand_over(prefs)


def _quit_choice_changed(prefs: Any, _context: Any) -> None:
    hand_quit_choice(prefs)


def hand_quit_choice(prefs: Any) -> None:
    """What a quit does with a running batch, and the server it would hand it to (its port and
    token rule): read now, since a quit may find Blender's preferences gone."""
    quit_lifecycle.set_choice(keep_rendering=prefs is None or prefs.on_quit == quit_lifecycle.KEEP,
                              port=prefs.server_port if prefs is not None else None,
                              no_token=prefs is not None and prefs.no_token)


class RenderPlusPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    server_port: IntProperty(name="Server Port", description="Port of the batch server (127.0.0.1)",
                             default=DEFAULT_PORT, min=1025, max=65535, update=_quit_choice_changed)
    server_autostart: BoolProperty(name="Start Server with Blender",
                                   description="Start the batch server when the add-on loads")
    no_token: BoolProperty(name="No Token on This Machine",
                           description="Serve without an access token: every user and program on this "
                           "machine may then start and cancel batches (takes effect when the server "
                           "starts)", update=_quit_choice_changed)
    on_quit: EnumProperty(name="When Blender Quits During a Batch", items=quit_lifecycle.QUIT_CHOICES,
                          default=quit_lifecycle.KEEP, update=_quit_choice_changed,
                          description="What happens to a running or queued batch when Blender quits "
                          "(it is never cancelled)")
    blender_bin: StringProperty(name="Blender Binary", subtype="FILE_PATH", options=PATH_OPTIONS,
                                description="The Blender that renders the jobs (empty: this Blender; "
                                "auto: the one fitting each file's version, from the list below)",
                                update=_blender_changed)
    blenders: CollectionProperty(type=blender_list.RenderPlusBlenderPath)
    continue_queue: BoolProperty(name="Continue the Queue When Blender Starts",
                                 description="Batches still queued when Blender quit start by themselves "
                                 "when it starts again (off: the queue waits, held, until you continue it)")
    render_on: EnumProperty(name="Render On", items=farm_choice.RENDER_ON, default="local",
                            update=_farm_changed,
                            description="Where the batches of this Blender and of its server render")
    farm_partition: StringProperty(name="Slurm Partition", update=_farm_changed,
                                   description="The partition Slurm jobs go to (empty: the cluster's "
                                   "default)")
    farm_url: StringProperty(name="Manager URL", default="http://localhost:8080", update=_farm_changed,
                             description="The Flamenco Manager's address, e.g. http://manager:8080")
    farm_storage: StringProperty(name="Shared Storage", subtype="DIR_PATH", update=_farm_changed,
                                 description="The folder every farm node sees at the same path: what "
                                 "Render+ stages for the nodes goes into its renderplus-staging folder "
                                 "(outputs must be under it too)")
    farm_blender: StringProperty(name="Nodes' Blender", subtype="FILE_PATH", update=_farm_changed,
                                 description="The Blender the Slurm nodes run (empty: the same path "
                                 "as this machine's)")
    mail_password: StringProperty(name="Mail Password", subtype="PASSWORD",
                                  description="Password of the SMTP account for batch notifications "
                                  "(kept in the preferences, never in the .blend)")
    webhook_url: StringProperty(name="Webhook URL", subtype="PASSWORD",
                                description="The chat's or webhook's address (it holds the channel's "
                                "key: kept in the preferences, never in the .blend)")

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        box = layout.box()
        draw_server_status(box)
        row = box.row()
        row.prop(self, "server_port")
        row.prop(self, "server_autostart")
        box.prop(self, "no_token")
        box.prop(self, "continue_queue")
        box.prop(self, "on_quit")
        url = server_lifecycle.server_url()
        if url and server_lifecycle.server_port() != self.server_port:
            box.label(text="Restart the server to use the new port", icon="INFO")
        if url and self.no_token == (server_lifecycle.server_token() is not None):
            box.label(text="Restart the server to change its access token", icon="INFO")

        farm_choice.draw_preferences(layout, self)
        col = layout.column()
        col.prop(self, "blender_bin")
        if preferred_blender(self) == AUTO:
            col.label(text="Jobs render with: the Blender that fits each file (auto)")
        else:
            col.label(text=f"Jobs render with: {batch_lifecycle.rendering_binary()}")
        blender_list.draw_blender_list(col, self)
        col.prop(self, "mail_password")
        col.prop(self, "webhook_url")


def get_preferences() -> RenderPlusPreferences | None:
    """This add-on's preferences, or None while they are not available (during registration)."""
    preferences = bpy.context.preferences
    addon = preferences.addons.get(ADDON_ID) if preferences is not None else None
    prefs = addon.preferences if addon is not None else None
    return prefs if isinstance(prefs, RenderPlusPreferences) else None


def preferred_blender(prefs: RenderPlusPreferences | None) -> str | None:
    """The add-on's default Blender: the preference (made absolute), else the running Blender;
    None when there is neither (Blender running as a Python module). Which binary a job really
    uses is ``choose_blender``'s answer, with this as its default (a recipe may name its own)."""
    chosen = prefs.blender_bin.strip() if prefs is not None else ""
    if chosen == AUTO:
        return AUTO
    if chosen:
        return str(bpy.path.abspath(chosen))
    return bpy.app.binary_path or None


def apply_preferences() -> None:
    """Once the add-on is enabled: hand the Blender and queue preferences to the batches, look
    for a batch a quit or crash interrupted, remove the saved copies of ended batches, and start
    the server if the user asked for it."""
    prefs = get_preferences()
    batch_lifecycle.set_continue_queue(prefs is not None and prefs.continue_queue)
    hand_quit_choice(prefs)
    batch_lifecycle.set_default_blender(preferred_blender(prefs))
    blender_list.hand_over(prefs)
    farm_choice.hand_over(prefs)
    batch_lifecycle.refresh_interrupted()
    batch_lifecycle.show_last_batch()
    batch_lifecycle.clean_left_over_copies()
    if prefs is not None and prefs.server_autostart:
        try:
            server_lifecycle.start_server(prefs.server_port, no_token=prefs.no_token)
        except BridgeError as exc:
            print(f"Render+: {exc}", file=sys.stderr)


def register() -> None:
    blender_list.register()   # the list's item type first: the preferences hold a collection of it
    bpy.utils.register_class(RenderPlusPreferences)


def unregister() -> None:
    bpy.utils.unregister_class(RenderPlusPreferences)
    blender_list.unregister()
