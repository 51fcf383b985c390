"""What a batch's progress redraws in GUI Blender (under Xvfb, ``--enable-event-simulate``).

The sidebar shows another tab (Item) and a Preferences window is open while a batch renders:
draw handlers count every redraw of the sidebar region and of the Preferences window, and the
script notes how often the batch's progress changed meanwhile. Then it clicks down the tab
strip until Render+ draws, lets the click's own redraws pass (a second), and counts the
sidebar's redraws again. It prints one JSON line.

Arguments (JSON): root, work, frames, seconds (how long each phase watches the progress).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # Blender does not add it
import harness

TICK = 0.05


class Watch:
    def __init__(self, args: dict[str, Any]) -> None:
        import bpy

        self.bpy: Any = bpy
        self.args = args
        self.work = Path(args["work"])
        self.phase = "setup"
        self.since = time.monotonic()
        self.out: dict[str, Any] = {}
        self.sidebar_draws = self.prefs_draws = self.panel_draws = self.urgent_tags = 0
        self.progress_seen: set[tuple[int, int]] = set()
        self.clicks = 0
        self.deadline = time.monotonic() + 300

    def setup(self) -> None:
        bpy = self.bpy
        import addon_utils

        bpy.context.preferences.view.show_splash = False
        sys.path.insert(0, self.args["root"])
        addon_utils.enable("renderplus", default_set=True)
        scene = bpy.context.scene
        scene.render.engine = "CYCLES"
        scene.cycles.samples = 400
        scene.cycles.use_denoising = False
        scene.render.resolution_x, scene.render.resolution_y = 160, 120
        bpy.ops.wm.save_as_mainfile(filepath=str(self.work / "scene.blend"))
        bpy.ops.renderplus.job_add()
        job = scene.renderplus.jobs[0]
        job.mode = "ANIMATION"
        job.frame_start, job.frame_end = 1, int(self.args["frames"])
        job.output = str(self.work / "renders" / "f_")
        bpy.ops.wm.save_mainfile()
        for window in bpy.context.window_manager.windows:
            for area in window.screen.areas:
                if area.type == "VIEW_3D":
                    area.spaces.active.show_region_ui = True   # on its default tab, not Render+
                    self.window, self.area = window, area
        bpy.types.SpaceView3D.draw_handler_add(self._sidebar_drawn, (), "UI", "POST_PIXEL")
        bpy.types.SpacePreferences.draw_handler_add(self._prefs_drawn, (), "WINDOW", "POST_PIXEL")
        panel = bpy.types.RENDERPLUS_PT_main
        draw = panel.draw

        def counting_draw(panel_self: Any, context: Any) -> None:
            self.panel_draws += 1
            draw(panel_self, context)

        panel.draw = counting_draw
        refresh = sys.modules["renderplus.addon.ui_refresh"]
        tag = refresh.tag_sidebars

        def counting_tag(wm: Any, *, preferences: bool = True) -> None:
            if preferences:
                self.urgent_tags += 1
            tag(wm, preferences=preferences)

        refresh.tag_sidebars = counting_tag
        bpy.ops.screen.userpref_show()

    def _sidebar_drawn(self) -> None:
        self.sidebar_draws += 1

    def _prefs_drawn(self) -> None:
        self.prefs_draws += 1

    def tick(self) -> float | None:
        try:
            return self.step()
        except BaseException:
            import traceback

            self.finish({"error": traceback.format_exc()})
            return None

    def step(self) -> float | None:
        now = time.monotonic()
        if now > self.deadline:
            self.finish({"error": f"timed out in phase {self.phase}", **self.out})
            return None
        lifecycle = sys.modules.get("renderplus.addon.batch_lifecycle")
        if self.phase == "setup":
            self.setup()
            self._next("render")
            return TICK
        assert lifecycle is not None
        bridge = sys.modules["renderplus.addon.bridge"]
        run = self.bpy.context.window_manager.renderplus_run
        if self.phase == "render":
            if bridge.binary_info(lifecycle.rendering_binary()) is None or now - self.since < 2.0:
                return TICK     # the new window's own redraws are over after two seconds
            self.out["render"] = sorted(self.bpy.ops.renderplus.batch_render())
            self._next("warm")
            return TICK
        frames = run.jobs[0].frames_done if len(run.jobs) else 0
        if self.phase == "warm":   # Render's own redraws (the panel's job list) settle
            if frames >= 1 and now - self.since >= 1.0:
                self._count_from_now("other_tab")
            return TICK
        self.progress_seen.add((frames, int(run.progress)))
        if self.phase == "other_tab" and now - self.since >= float(self.args["seconds"]):
            self._note("other_tab")
            self._next("clicking")
        elif self.phase == "clicking":
            if self.panel_draws:
                self._next("settling")
            elif now - self.since >= 0.3 * (self.clicks + 1):
                self._click_next_tab()
        elif self.phase == "settling" and now - self.since >= 1.0:  # the click's own redraws
            self._count_from_now("render_tab")
        elif self.phase == "render_tab" and now - self.since >= float(self.args["seconds"]):
            self._note("render_tab")
            if lifecycle.batch_running():
                self.bpy.ops.renderplus.batch_cancel()
            self.finish(self.out)
            return None
        return TICK

    def _count_from_now(self, phase: str) -> None:
        self.sidebar_draws = self.prefs_draws = self.urgent_tags = 0
        self.progress_seen = set()
        self.milestones = sys.modules["renderplus.addon.bridge"].state().mirror.milestones
        self._next(phase)

    def _note(self, phase: str) -> None:
        bridge = sys.modules["renderplus.addon.bridge"]
        self.out[phase] = {"sidebar_draws": self.sidebar_draws, "prefs_draws": self.prefs_draws,
                           "urgent_tags": self.urgent_tags,
                           "progress_changes": len(self.progress_seen),
                           "milestones": bridge.state().mirror.milestones - self.milestones,
                           "seconds": round(time.monotonic() - self.since, 2)}

    def _click_next_tab(self) -> None:
        """Blender 3.4 has no API for the sidebar's tab: click down the strip until ours draws."""
        region = next(r for r in self.area.regions if r.type == "UI")
        x = region.x + region.width - 10
        y = region.y + region.height - 12 - 14 * self.clicks
        if y < region.y:
            raise RuntimeError("the Render+ tab never showed")
        for kind, value in (("MOUSEMOVE", "NOTHING"), ("LEFTMOUSE", "PRESS"), ("LEFTMOUSE", "RELEASE")):
            self.window.event_simulate(type=kind, value=value, x=x, y=y)
        self.clicks += 1

    def _next(self, phase: str) -> None:
        self.phase, self.since = phase, time.monotonic()

    def finish(self, result: dict[str, Any]) -> None:
        print(harness.RESULT_PREFIX + json.dumps(result, default=str), flush=True)
        self.bpy.ops.wm.quit_blender()


if __name__ == "__main__":
    import bpy

    watch = Watch(harness.arguments())
    bpy.app.timers.register(watch.tick, first_interval=0.5)
