"""Inside GUI Blender under Xvfb (tests/versions/test_matrix_row_width.py starts it): the job list at the
sidebar's default width, with a batch's states in its rows, then a copy of the screen.

The repository's ``renderplus/`` is loaded as a legacy add-on. The theme draws the job list's
text in pure magenta, so the test can find the drawn names in the screen's pixels. Blender's own
``blf`` says how wide each name is in the UI's font, size and scale; the result line carries
those widths, the sidebar region's place and width, and the rows the test should find.

Timers drive every step (they fire only in GUI Blender), one per tick so Blender redraws between.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

RESULT_PREFIX = "RENDERPLUS_TEST_RESULT "
TINT = (1.0, 0.0, 1.0)  # the list's text: found in the screen's pixels by the test
NAMES = ("Camera.001 closeup", "Cam Left wide", "Marker Reveal", "Top view")
# Why a job failed, as Blender says it: quotes and capitals, wider than an average character
MESSAGE = ('Blender failed: Override "RENDER.RESOLUTION_PERCENTAGE" on "SCENE" is "WRONG VALUE": '
           'MUST BE "AN INTEGER" BETWEEN 1 AND 32767, NOT "ABC" (READ "DOCS/ADDON.MD" FOR "OVERRIDES")')


class Steps:
    def __init__(self, config: dict[str, Any]) -> None:
        import bpy

        self.bpy = bpy
        self.config = config
        self.step: Callable[[], float | None] = self.open_tab
        self.drawn = 0
        self.tab_presses = 0
        self.settled = 0
        self.deadline = time.monotonic() + 120
        self.result: dict[str, Any] = {}
        self.start = time.time() - 60  # the same times in every shot

    def setup(self) -> None:
        bpy = self.bpy
        import addon_utils

        prefs = bpy.context.preferences
        prefs.view.show_splash = False
        sys.path.insert(0, self.config["root"])
        addon_utils.enable("renderplus", default_set=True)
        theme = prefs.themes[0].user_interface
        for wcol in (theme.wcol_list_item, theme.wcol_regular, theme.wcol_text):
            wcol.text = TINT
            wcol.text_sel = TINT
        panel = bpy.types.RENDERPLUS_PT_main
        draw = panel.draw

        def counting_draw(panel_self: Any, context: Any) -> None:
            self.drawn += 1
            draw(panel_self, context)

        panel.draw = counting_draw  # tells when the Render+ tab is the one shown
        scene = bpy.context.scene
        settings = scene.renderplus
        for name in NAMES:
            bpy.ops.renderplus.job_add()
            settings.jobs[-1].name = name
        settings.active_job_index = len(NAMES) - 1  # no selected row among those measured
        self.inject_batch(scene)
        for window in bpy.context.window_manager.windows:
            for area in window.screen.areas:
                if area.type == "VIEW_3D":
                    area.spaces.active.show_region_ui = True
                    self.window, self.area = window, area

    def inject_batch(self, scene: Any, messages: tuple[str, ...] = ()) -> None:
        """Rows as a batch leaves them: finished with a time, failed, rendering at 12.7 %."""
        from renderplus.addon import bridge
        from renderplus.batch.recipe import parse_recipe
        from renderplus.batch.view import BatchStatus, BatchView, JobStatus, JobView, Times

        jobs = scene.renderplus.jobs
        recipe = parse_recipe({"version": 2.2, "name": "rows", "jobs": [
            {"id": i, "name": job.name, "blend_file": "/tmp/a.blend", "frame_still": 1}
            for i, job in enumerate(jobs)]})
        start = self.start
        views = (JobView(id=0, status=JobStatus.FINISHED, name=jobs[0].name, times=Times(start, start + 12.4),
                         progress=100.0),
                 JobView(id=1, status=JobStatus.FAILED, name=jobs[1].name, messages=messages,
                         times=Times(start + 13, start + 14)),
                 JobView(id=2, status=JobStatus.RUNNING, name=jobs[2].name, times=Times(start + 15),
                         progress=12.7),
                 JobView(id=3, status=JobStatus.QUEUED, name=jobs[3].name))
        run = self.bpy.context.window_manager.renderplus_run
        mirror = bridge.state().mirror
        mirror.reset(run, recipe, scene=scene.name, uids=[job.uid for job in jobs])
        mirror.write(run, BatchView(status=BatchStatus.RUNNING, jobs=views, name="rows", progress=40.0,
                                    times=Times(start), revision=1))

    def region(self) -> Any:
        return next(r for r in self.area.regions if r.type == "UI")

    def tick(self) -> float | None:
        if time.monotonic() > self.deadline:
            self.finish({"error": "timed out"})
            return None
        try:
            return self.step()
        except Exception:
            self.finish({"error": traceback.format_exc()})
            return None

    def open_tab(self) -> float:
        """Click down the sidebar's tab strip, one spot per tick, until the Render+ panel draws
        (Blender 3.4 has no API for the sidebar's active tab)."""
        if self.drawn:
            self.step = self.settle
            return 0.5
        region = self.region()
        x = region.x + region.width - 10
        y = region.y + region.height - 12 - 14 * self.tab_presses
        if y < region.y:
            raise RuntimeError("the Render+ tab never showed")
        for kind, value in (("MOUSEMOVE", "NOTHING"), ("LEFTMOUSE", "PRESS"), ("LEFTMOUSE", "RELEASE")):
            self.window.event_simulate(type=kind, value=value, x=x, y=y)
        self.tab_presses += 1
        return 0.3

    def settle(self) -> float | None:
        """Move the mouse off the sidebar (no hover highlight), let it redraw, copy the screen."""
        self.settled += 1
        if self.settled == 1:
            self.window.event_simulate(type="MOUSEMOVE", value="NOTHING", x=200, y=200)
            self.region().tag_redraw()
            return 1.0
        shutil.copyfile(self.config["framebuffer"], self.config["out"])
        self.result = self.measure()
        theme = self.bpy.context.preferences.themes[0]
        space = theme.view_3d.space  # now the sidebar's labels too: 3.4 button_text, 5.2 text
        for key in ("button_text", "text"):
            if hasattr(space, key):
                setattr(space, key, TINT)
        theme.user_interface.wcol_box.text = TINT  # ... and labels in a box
        scene = self.bpy.context.scene
        scene.renderplus.active_job_index = 1  # the failed job: the Job panel says why
        self.inject_batch(scene, (MESSAGE,))
        self.region().tag_redraw()
        self.step = self.message_shot
        return 1.0

    def message_shot(self) -> float:
        """The screen with the failed job's message wrapped in the Job panel, then without it
        (the test finds the message's lines where the two differ)."""
        shutil.copyfile(self.config["framebuffer"], self.config["out"] + ".message")
        from renderplus.addon import ui_run

        with self.bpy.context.temp_override(window=self.window, area=self.area, region=self.region()):
            # as the Job panel does (before lines were measured: a count of characters, indent 4)
            width = ui_run.wrap_width(self.bpy.context, getattr(ui_run, "BOX_INDENT", 4))
            self.result["message_lines"] = ui_run.wrap_lines(MESSAGE, width)
            self.result["line_room"] = getattr(width, "pixels", width)
        self.inject_batch(self.bpy.context.scene)
        self.region().tag_redraw()
        self.step = self.plain_shot
        return 1.0

    def plain_shot(self) -> None:
        shutil.copyfile(self.config["framebuffer"], self.config["out"] + ".plain")
        self.finish(self.result)

    def measure(self) -> dict[str, Any]:
        import blf

        bpy = self.bpy
        prefs = bpy.context.preferences
        scale = prefs.system.ui_scale
        points = prefs.ui_styles[0].widget.points  # the style of buttons and list rows
        if bpy.app.version < (4, 0, 0):
            blf.size(0, points, int(72 * scale))  # type: ignore[call-arg]  # 3.x also takes a DPI
        else:
            blf.size(0, points * scale)
        region = self.region()
        return {"version": list(bpy.app.version), "ui_scale": scale, "points": points,
                "window": [self.window.width, self.window.height],
                "region": [region.x, region.y, region.width, region.height],
                "needed": {name: blf.dimensions(0, name)[0] for name in NAMES},
                "rows": [job.name for job in bpy.context.scene.renderplus.jobs]}

    def finish(self, result: dict[str, Any]) -> None:
        print(RESULT_PREFIX + json.dumps(result), flush=True)
        self.bpy.ops.wm.quit_blender()


def main() -> None:
    import bpy

    config = json.loads(sys.argv[-1])
    steps = Steps(config)
    try:
        steps.setup()
    except Exception:
        print(RESULT_PREFIX + json.dumps({"error": traceback.format_exc()}), flush=True)
        bpy.ops.wm.quit_blender()
        return
    bpy.app.timers.register(steps.tick, first_interval=1.0)


main()
