"""In the bpy wheel: run every panel's, menu's and list's draw code in every state a batch goes
through, checking what it draws against the running Blender.

Background Blender draws no UI and Python cannot create a ``UILayout``, so ``CheckingLayout``
stands in for it: each ``prop`` must name a real property of its data, each ``operator`` a
registered operator (and only that operator's properties may be set), each menu, list type and
icon must exist. What the panels say (labels, which buttons, what is greyed out) is recorded
for the test.

Arguments (JSON): zip, blend (3.4 fixture), out, port.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import harness


class DrawError(AssertionError):
    pass


class OperatorProps:
    """What ``layout.operator()`` returns: only the operator's own properties may be set."""

    _idname: str
    _names: set[str]

    def __init__(self, idname: str, names: set[str]) -> None:
        object.__setattr__(self, "_idname", idname)
        object.__setattr__(self, "_names", names)

    def __setattr__(self, key: str, value: Any) -> None:
        if key not in self._names:
            raise DrawError(f"operator {self._idname} has no property {key!r}")
        object.__setattr__(self, key, value)


class CheckingLayout:
    def __init__(self, log: dict[str, list[Any]], parent: CheckingLayout | None = None) -> None:
        self._log = log
        self._parent = parent
        self.use_property_split = self.use_property_decorate = False
        self.active = self.enabled = self.alert = True
        self.scale_x = self.scale_y = 1.0
        self.ui_units_x = self.ui_units_y = 0.0
        self.operator_context = "INVOKE_DEFAULT"

    # containers
    def _child(self, **_kwargs: Any) -> CheckingLayout:
        return CheckingLayout(self._log, self)

    def _disabled(self) -> bool:
        """Drawn greyed out: this layout or one it is in has ``enabled`` off."""
        layout: CheckingLayout | None = self
        while layout is not None:
            if not layout.enabled:
                return True
            layout = layout._parent
        return False

    row = column = box = split = column_flow = grid_flow = _child

    # items
    def _icon(self, icon: str | None) -> None:
        import bpy

        if icon and icon not in bpy.types.UILayout.bl_rna.functions["label"].parameters["icon"].enum_items:
            raise DrawError(f"unknown icon {icon!r}")

    def _prop_name(self, data: Any, name: str) -> None:
        if data is None or name not in data.bl_rna.properties:
            raise DrawError(f"{type(data).__name__} has no property {name!r}")

    def prop(self, data: Any, name: str, text: str | None = None, icon: str | None = None, **_: Any) -> None:
        self._prop_name(data, name)
        self._icon(icon)
        self._log["props"].append(f"{type(data).__name__}.{name}")
        if self._disabled():
            self._log["disabled"].append(f"{type(data).__name__}.{name}")

    def prop_search(self, data: Any, name: str, search_data: Any, search_name: str, icon: str | None = None,
                    **_: Any) -> None:
        self._prop_name(data, name)
        self._prop_name(search_data, search_name)
        self._icon(icon)
        self._log["props"].append(f"{type(data).__name__}.{name}")

    def label(self, text: str = "", icon: str | None = None, **_: Any) -> None:
        self._icon(icon)
        self._log["labels"].append(text)
        if self._disabled():
            self._log["disabled"].append(text)

    def operator(self, idname: str, text: str | None = None, icon: str | None = None,
                 **_: Any) -> OperatorProps:
        import bpy

        self._icon(icon)
        module, _dot, name = idname.partition(".")  # ``_`` holds the unused keywords
        rna = getattr(bpy.ops, module).__getattr__(name).get_rna_type()  # raises for unknown ones
        self._log["operators"].append(idname if text is None else f"{idname}:{text}")
        return OperatorProps(idname, {p.identifier for p in rna.properties} - {"rna_type"})

    def operator_enum(self, idname: str, prop: str, **_: Any) -> None:
        self.operator(idname)

    def menu(self, menu: str, icon: str | None = None, **_: Any) -> None:
        import bpy

        self._icon(icon)
        if not hasattr(bpy.types, menu):
            raise DrawError(f"unknown menu {menu!r}")
        self._log["menus"].append(menu)

    def template_list(self, list_type: str, list_id: str, data: Any, name: str, active_data: Any,
                      active_name: str, **_: Any) -> None:
        import bpy

        if not hasattr(bpy.types, list_type):
            raise DrawError(f"unknown list type {list_type!r}")
        self._prop_name(data, name)
        self._prop_name(active_data, active_name)
        self._log["lists"].append(list_type)

    def progress(self, factor: float = 0.0, type: str = "BAR", text: str = "", **_: Any) -> None:
        if not 0.0 <= factor <= 1.0:
            raise DrawError(f"progress factor {factor} outside 0..1")
        self._log["progress"].append(text)

    def template_icon(self, icon_value: int = 0, scale: float = 1.0) -> None:
        if icon_value < 0:  # 0 draws an empty slot of the same size (the frame's place, kept)
            raise DrawError(f"template_icon with icon id {icon_value}")
        self._log["icons"].append(icon_value)

    def separator(self, **_: Any) -> None:
        pass


def draw_everything(addon: str) -> dict[str, Any]:
    """Draw every panel (polls respected), menu, list row and the preferences once."""
    import bpy

    ui, ui_settings = harness.submodule(addon, "ui"), harness.submodule(addon, "ui_settings")
    ui_queue = harness.submodule(addon, "ui_queue")
    prefs_module = harness.submodule(addon, "preferences")
    context = bpy.context
    kinds = ("props", "labels", "operators", "menus", "lists", "progress", "icons", "disabled")
    log: dict[str, list[Any]] = {kind: [] for kind in kinds}
    drawn = []
    for cls in ui.CLASSES + ui_settings.CLASSES + ui_queue.CLASSES:
        layout = CheckingLayout(log)
        holder = SimpleNamespace(layout=layout)
        if issubclass(cls, bpy.types.Panel):
            if hasattr(cls, "poll") and not cls.poll(context):
                continue
            cls.draw(holder, context)
        elif issubclass(cls, bpy.types.Menu):
            cls.draw(holder, context)
        elif issubclass(cls, bpy.types.UIList):
            settings = context.scene.renderplus
            for index, job in enumerate(settings.jobs):
                cls.draw_item(holder, context, layout, settings, job, 0, settings, "active_job_index",
                              index, 0)
        drawn.append(cls.__name__)
    prefs = context.preferences.addons[addon].preferences
    values = {p.identifier: getattr(prefs, p.identifier) for p in prefs.bl_rna.properties
              if p.identifier != "rna_type"}
    holder = SimpleNamespace(layout=CheckingLayout(log), bl_rna=prefs.bl_rna, **values)
    prefs_module.RenderPlusPreferences.draw(holder, context)
    return {"drawn": drawn, **log}


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    server = harness.submodule(addon, "server_lifecycle")
    prefs = bpy.context.preferences.addons[addon].preferences
    prefs.blender_bin, prefs.server_port = "/usr/bin/blender", args["port"]
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {}

    out["empty"] = draw_everything(addon)  # no jobs yet, no batch

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    ops.jobs_from(source="CAMERAS")
    ops.job_add()
    job = settings.jobs[0]  # every optional part of a job switched on
    job.engine, job.engine_other = "OTHER", "LUXCORE"
    job.mode, job.use_size, job.use_section, job.external = "ANIMATION", True, True, True
    job.filepath = args["blend"]
    settings.active_job_index = 0
    ops.override_add()
    ops.hook_add(phase="PRE_JOB")
    ops.hook_add(phase="PRE_BATCH")
    for key in ("use_global_percentage", "use_global_size", "rss_enabled", "notify_desktop",
                "sound_enabled", "mail_enabled", "poweroff_enabled", "webhook_enabled"):
        setattr(settings, key, True)
    out["detailed"] = draw_everything(addon)
    settings.webhook_enabled = False

    # A running batch (long: 200 frames) with the server, then cancelled, then a finished one.
    settings.use_global_size = settings.rss_enabled = settings.sound_enabled = False
    settings.mail_enabled = settings.poweroff_enabled = settings.notify_desktop = False
    settings.jobs[0].engine, settings.jobs[0].use_section = "FILE", False
    settings.jobs[0].use_size = False
    settings.jobs[0].overrides.clear()
    settings.jobs[0].pre_job_hooks.clear()
    settings.pre_batch_hooks.clear()
    settings.jobs[0].frame_start, settings.jobs[0].frame_end = 1, 200
    for index, each in enumerate(settings.jobs):
        each.external, each.filepath = True, args["blend"]
        each.output = os.path.join(args["out"], f"job{index}_")
    ops.server_start()
    ops.batch_render()
    run = bpy.context.window_manager.renderplus_run
    out["reached_running"] = harness.pump_until(
        bridge.pump, lambda: run.status == "RUNNING" and run.jobs[0].progress_value > 0, timeout=90)
    out["running"] = draw_everything(addon)
    ops.batch_cancel()
    out["reached_cancelled"] = harness.pump_until(bridge.pump, lambda: run.status == "CANCELLED", timeout=60)
    out["cancelled"] = draw_everything(addon)

    settings.jobs[0].frame_end = 1
    ops.batch_render()
    out["reached_finished"] = harness.pump_until(bridge.pump, lambda: run.status == "FINISHED", timeout=180)
    out["finished"] = draw_everything(addon)
    # A stop is done in milliseconds; a client that never finishes its request head makes the
    # server wait for it (its stop grace), so the panels can be seen saying "stopping" meanwhile.
    slow, out["slow_client_held"] = harness.hold_request_thread(args["port"])
    ops.server_stop()  # returns at once; the panels say "stopping" until the pump sees it done
    out["stopping"] = draw_everything(addon)
    out["stop_noticed"] = harness.pump_until(bridge.pump, lambda: not server.server_stopping(), timeout=20)
    slow.close()
    out["stopped"] = draw_everything(addon)
    return out


if __name__ == "__main__":
    harness.run(main)
