# mypy: disable-error-code="union-attr"
# ruff: noqa: RUF012  (Blender reads bl_options as a plain class attribute)
"""The sidebar's batch panels: settings, when to render, batch hooks, notifications, power,
and the server.

Draw only, like ``ui`` (whose job panels register first, so these come below them).
"""

from __future__ import annotations

import bpy

from . import ADDON_ID
from .preferences import get_preferences
from .props import settings_of
from .props_batch import RenderPlusBatchOptions
from .ui import SidebarPanel, draw_hooks
from .ui_schedule import draw_schedule
from .ui_server import draw_server_status


class RENDERPLUS_PT_settings(SidebarPanel):
    bl_label = "Batch Settings"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        settings = settings_of(context)
        if settings is None:
            return
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        col = layout.column()
        col.prop(settings, "use_global_percentage")
        if settings.use_global_percentage:
            col.prop(settings, "global_percentage")
        col.prop(settings, "use_global_size")
        if settings.use_global_size:
            col.prop(settings, "global_size")
        col.prop(settings, "ignore_border")
        col.prop(settings, "write_log")
        col.prop(settings, "rss_enabled")
        if settings.rss_enabled:
            col.prop(settings, "rss_path")
        draw_batch_options(layout.column(), settings.batch_options)


def draw_batch_options(col: bpy.types.UILayout, options: RenderPlusBatchOptions) -> None:
    """How the engine runs the jobs: frames kept, retries, jobs at once, Blender sessions."""
    col.separator()
    col.prop(options, "skip_existing")
    col.prop(options, "retries")
    count = col.column()
    count.enabled = not options.parallel_auto  # "auto": the engine counts the slots
    count.prop(options, "parallel")
    col.prop(options, "parallel_auto", text="Automatic")
    col.prop(options, "session_reuse")


class RENDERPLUS_PT_schedule(SidebarPanel):
    bl_label = "When to Render"
    bl_parent_id = "RENDERPLUS_PT_settings"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        settings = settings_of(context)
        if settings is not None and self.layout is not None:
            draw_schedule(self.layout, settings)


class RENDERPLUS_PT_batch_hooks(SidebarPanel):
    bl_label = "Batch Hooks"
    bl_parent_id = "RENDERPLUS_PT_settings"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        settings = settings_of(context)
        if settings is None:
            return
        draw_hooks(self.layout, settings.pre_batch_hooks, "PRE_BATCH", "Before the batch")
        draw_hooks(self.layout, settings.post_batch_hooks, "POST_BATCH", "After the batch")


class RENDERPLUS_PT_notifications(SidebarPanel):
    bl_label = "Notifications"
    bl_parent_id = "RENDERPLUS_PT_settings"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        settings = settings_of(context)
        if settings is None:
            return
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        col = layout.column()
        col.prop(settings, "notify_desktop")
        if settings.notify_desktop:
            col.prop(settings, "notify_desktop_job_failures")
        col.prop(settings, "sound_enabled")
        if settings.sound_enabled:
            col.prop(settings, "sound_file")
            col.prop(settings, "sound_volume")
        col.prop(settings, "mail_enabled")
        if settings.mail_enabled:
            for key in ("mail_server", "mail_ssl", "mail_user", "mail_to"):
                col.prop(settings, key)
            row = col.row()
            row.label(text="Password: in the add-on preferences")
            row.operator("preferences.addon_show", text="", icon="PREFERENCES").module = ADDON_ID
        col.prop(settings, "webhook_enabled")
        if settings.webhook_enabled:
            col.prop(settings, "webhook_preset")
            prefs = get_preferences()
            if prefs is not None:
                col.prop(prefs, "webhook_url")   # masked; kept in the preferences
            events = col.column(heading="Events", align=True)
            for key in ("webhook_batch_end", "webhook_job_failed", "webhook_paused", "webhook_queue_end"):
                events.prop(settings, key)


class RENDERPLUS_PT_power(SidebarPanel):
    bl_label = "Power"
    bl_parent_id = "RENDERPLUS_PT_settings"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        settings = settings_of(context)
        if settings is None:
            return
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        layout.prop(settings, "poweroff_enabled")
        sub = layout.column()
        sub.active = settings.poweroff_enabled
        sub.prop(settings, "poweroff_action")


class RENDERPLUS_PT_server(SidebarPanel):
    bl_label = "Batch Server"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        if layout is None:
            return
        draw_server_status(layout, compact=True)
        layout.operator("preferences.addon_show", text="Server Preferences",
                        icon="PREFERENCES").module = ADDON_ID


CLASSES = (
    RENDERPLUS_PT_settings,
    RENDERPLUS_PT_schedule,
    RENDERPLUS_PT_batch_hooks,
    RENDERPLUS_PT_notifications,
    RENDERPLUS_PT_power,
    RENDERPLUS_PT_server,
)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
