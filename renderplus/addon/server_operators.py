"""Operators of the in-process batch server: start it, stop it, copy the dashboard's address.

They run in Blender's main thread and reach the server only through ``server_lifecycle``.
"""

from __future__ import annotations

import bpy

from . import bridge, server_lifecycle
from .operator_common import Result
from .preferences import DEFAULT_PORT, get_preferences


class RENDERPLUS_OT_server_start(bpy.types.Operator):
    """Start the batch server in this Blender (127.0.0.1, the port set in the preferences)"""

    bl_idname = "renderplus.server_start"
    bl_label = "Start Server"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return server_lifecycle.server_url() is None

    def execute(self, context: bpy.types.Context) -> Result:
        prefs = get_preferences()
        port = prefs.server_port if prefs is not None else DEFAULT_PORT
        try:
            url = server_lifecycle.start_server(port, no_token=prefs is not None and prefs.no_token)
        except bridge.BridgeError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Batch server running at {url}")
        return {"FINISHED"}


class RENDERPLUS_OT_server_stop(bpy.types.Operator):
    """Stop the batch server (a batch started from the add-on keeps running)"""

    bl_idname = "renderplus.server_stop"
    bl_label = "Stop Server"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return server_lifecycle.server_url() is not None

    def execute(self, context: bpy.types.Context) -> Result:
        server_lifecycle.stop_server()  # returns at once: requests in flight end in the server's threads
        self.report({"INFO"}, "Batch server stopping")
        return {"FINISHED"}


class RENDERPLUS_OT_dashboard_copy(bpy.types.Operator):
    """Copy the dashboard's address, with the access token, to the clipboard (open it in a browser
    on this machine; whoever has it may drive the batch)"""

    bl_idname = "renderplus.dashboard_copy"
    bl_label = "Copy Dashboard Address"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return server_lifecycle.dashboard_url() is not None

    def execute(self, context: bpy.types.Context) -> Result:
        url = server_lifecycle.dashboard_url()
        wm = context.window_manager
        if url is None or wm is None:
            return {"CANCELLED"}
        wm.clipboard = url
        self.report({"INFO"}, "Dashboard address copied")
        return {"FINISHED"}


CLASSES = (
    RENDERPLUS_OT_server_start,
    RENDERPLUS_OT_server_stop,
    RENDERPLUS_OT_dashboard_copy,
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
