"""In the bpy wheel (issue 26): the check before Render resolves each custom override against the
open file, names the job, the override and the bad part, and says every problem at once; the
Custom Overrides panel labels its fields and marks a bad override's row.

Arguments (JSON): zip, blend (3.4 fixture), out, fake_script (tests/addon/scripts/fake_blender.py).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import harness
from ui_scenario import CheckingLayout


class LabelledLayout(CheckingLayout):
    """Records each property's label and whether it is drawn in red."""

    def __init__(self, log: dict[str, list[Any]], parent: CheckingLayout | None = None) -> None:
        super().__init__(log, parent)
        self.alert = False  # as Blender's: red only when asked

    def prop(self, data: Any, name: str, text: str | None = None, icon: str | None = None, **_: Any) -> None:
        super().prop(data, name, text=text, icon=icon)
        red = any(layout.alert for layout in self._chain())
        self._log["labelled"].append([name, text, red])

    def _chain(self) -> list[Any]:
        chain, layout = [], self
        while layout is not None:
            chain.append(layout)
            layout = layout._parent
        return chain

    def _child(self, **_kwargs: Any) -> LabelledLayout:
        return LabelledLayout(self._log, self)

    row = column = box = split = column_flow = grid_flow = _child


def fake_blender(path: str, version: str, script: str) -> str:
    """A stand-in ``blender`` that says it is ``version`` (fake_blender.py)."""
    with open(path, "w") as stream:
        stream.write(f'#!/bin/sh\nFAKE_BLENDER_VERSION={version} exec "{sys.executable}" "{script}" "$@"\n')
    os.chmod(path, 0o755)
    return path


def render_error(ops: Any) -> str:
    try:
        ops.batch_render()
    except RuntimeError as exc:
        return str(exc)
    return "started"


def draw_overrides(addon: str, context: Any) -> list[list[Any]]:
    from types import SimpleNamespace

    ui = harness.submodule(addon, "ui")
    log: dict[str, list[Any]] = {kind: [] for kind in ("props", "labels", "operators", "menus", "lists",
                                                       "progress", "icons", "disabled", "labelled")}
    ui.RENDERPLUS_PT_job_overrides.draw(SimpleNamespace(layout=LabelledLayout(log)), context)
    return log["labelled"]


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy

    addon = harness.install_extension(args["zip"])
    bridge = harness.submodule(addon, "bridge")
    batches = harness.submodule(addon, "batch_lifecycle")
    prefs = bpy.context.preferences.addons[addon].preferences
    version = ".".join(str(part) for part in bpy.app.version[:3])
    same = fake_blender(os.path.abspath("blender-same"), version, args["fake_script"])
    other = fake_blender(os.path.abspath("blender-5.2"), "5.2.0", args["fake_script"])
    for binary in (same, other):
        bridge.wait_binary_info(binary, 30)
    ops = bpy.ops.renderplus
    out: dict[str, Any] = {"version": version}

    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    settings = bpy.context.scene.renderplus
    for name in ("Closeup", "Wide"):
        ops.job_add()
        job = settings.jobs[-1]
        job.name, job.output = name, os.path.join(args["out"], f"{name}_")
    closeup, wide = settings.jobs[0], settings.jobs[1]
    for job, overrides in ((closeup, [("render.fpz", "12"), ("render.fps", '"abc"'), ("render.fps", "24")]),
                           (wide, [('data.objects["Cbe"].hide_render', "true"),
                                   ('data.objects["Cube"].hide_render', "true")])):
        for path, value in overrides:
            settings.active_job_index = list(settings.jobs).index(job)
            ops.override_add()
            job.overrides[-1].path, job.overrides[-1].value = path, value
    settings.active_job_index = 0
    out["labelled"] = draw_overrides(addon, bpy.context)

    prefs.blender_bin = same
    out["refused"] = render_error(ops)
    prefs.blender_bin = other  # another version: setting names are its own, the file's data is judged
    out["refused_other_version"] = render_error(ops)
    for bad in (closeup.overrides[0], closeup.overrides[1], wide.overrides[0]):
        bad.enabled = False  # render.fpz, render.fps = "abc", objects["Cbe"]
    prefs.blender_bin = same
    out["after_fixing"] = render_error(ops)
    out["labelled_after"] = draw_overrides(addon, bpy.context)
    if out["after_fixing"] == "started":
        run = bpy.context.window_manager.renderplus_run
        harness.pump_until(bridge.pump, lambda: run.status in ("FINISHED", "FAILED"), timeout=120)
        out["status"] = run.status
    out["batch_started"] = batches.get_service().batch is not None
    return out


if __name__ == "__main__":
    harness.run(main)
