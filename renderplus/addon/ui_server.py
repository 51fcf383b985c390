# mypy: disable-error-code="union-attr"
"""The batch server's state as the user sees it: one status row with its start/stop button, and
the dashboard's address. The add-on preferences and the sidebar's *Batch Server* panel both draw
these, so the two never disagree on what a state is called or which button it offers.

Draw only; buttons name operators by ``bl_idname``.
"""

from __future__ import annotations

from typing import Any

import bpy

from . import batch_lifecycle, server_lifecycle


def draw_server_status(layout: bpy.types.UILayout, *, compact: bool = False) -> None:
    """"Batch server running at URL" with *Stop Server* (and the dashboard's address below),
    "... stopping..." with no button (the old server still holds the port), or "... stopped"
    with *Start Server*; "Attached to the Render+ server at URL (pid N)" while another server of
    this user serves this Blender (``remote_service``). ``compact``, for the sidebar, whose
    panel title already says "Batch Server": the state alone ("Running at URL") and icon-only buttons."""
    url = server_lifecycle.server_url()
    row = layout.row()

    def say(state: str, icon: Any) -> None:  # Any: the stubs want a Literal
        row.label(text=state[0].upper() + state[1:] if compact else f"Batch server {state}", icon=icon)

    def button(operator: str, text: str, icon: Any) -> None:
        row.operator(operator, text="" if compact else text, icon=icon)

    attached = batch_lifecycle.attached_to()
    if attached and not url:   # another Render+ server serves this Blender
        row.label(text=attached, icon="LINKED")
        return
    if url:
        say(f"running at {url}", "LINKED")
        button("renderplus.server_stop", "Stop Server", "CANCEL")
    elif server_lifecycle.server_stopping():
        say("stopping...", "TIME")
    else:
        say("stopped", "UNLINKED")
        button("renderplus.server_start", "Start Server", "PLAY")
    if url:
        draw_dashboard(layout)


def draw_dashboard(layout: bpy.types.UILayout) -> None:
    """The running server's dashboard address (with its token) and a button that copies it."""
    dashboard = server_lifecycle.dashboard_url()
    if dashboard is None:
        return
    row = layout.row(align=True)
    row.label(text=dashboard, icon="URL")
    row.operator("renderplus.dashboard_copy", text="", icon="COPYDOWN")
    if server_lifecycle.server_token() is None:
        layout.label(text="No access token: anyone on this machine may drive the batch", icon="ERROR")
