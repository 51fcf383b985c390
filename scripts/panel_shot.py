"""Inside GUI Blender: the steps of ``scripts/screenshot_panel.py`` (which starts Blender with
this module's ``inside``), one per timer tick so Blender redraws between them: open the sidebar
on the Render+ tab, widen it, render, queue, pause, scroll, save the screenshot, end.

``--resumed`` takes two Blenders: the first (``config["crash"]``) renders and is killed
(SIGKILL, as a crash) while the second job renders; the second (``config["reopen"]``, started on
the saved file) shows the interrupted batch with the frames it kept (a first screenshot), presses
Resume and takes the screenshot while the interrupted job renders its missing frames.

The add-on is the repository's ``renderplus/`` loaded as a legacy add-on, or, with
``config["addon"]`` set, the extension the launcher installed with Blender's own command line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WIDEN_STEPS, WIDEN_STEP = 7, 30  # --queue: the sidebar's edge is dragged 6 x 30 px to the left
EDGE_OFFSETS = (0, 4, 8, 12, 16, -2)  # where its grip may be, from the region's left edge
SCROLL_NOTCHES = 8  # --estimates: how far the sidebar is scrolled down to show the Queue box
LEGACY = "renderplus"


class Shot:
    """The steps, one per timer tick, so Blender redraws between them."""

    def __init__(self, config: dict[str, Any]) -> None:
        import bpy

        self.bpy = bpy
        self.config = config
        self.addon = config.get("addon") or LEGACY
        self.work = Path(config["work"])
        self.step: Callable[[], float | None] = self.open_tab
        self.tab_presses = 0
        self.drag_steps, self.drag_from, self.width_before, self.drag_tries = 0, 0, 0, 0
        self.drawn = 0
        self.scrolled = 0
        self.history_made = not config.get("estimates")  # --estimates: a first batch makes it
        self.deadline = time.monotonic() + 240

    def module(self, name: str) -> Any:
        """One of the add-on's modules, as the package it was loaded as."""
        return sys.modules[f"{self.addon}.addon.{name}"]

    def log(self, message: str) -> None:
        print(f"SHOT {message}", flush=True)

    # setup, before the first tick
    def setup(self) -> None:
        bpy = self.bpy
        import addon_utils

        bpy.context.preferences.view.show_splash = False  # the splash would take the events
        if self.addon == LEGACY:
            sys.path.insert(0, self.config["root"])
        addon_utils.enable(self.addon, default_set=True)
        if self.config.get("job_blender"):   # the jobs render with the Blender that runs the panel
            prefs = bpy.context.preferences.addons[self.addon].preferences
            prefs.blender_bin = self.config["job_blender"]
        panel = bpy.types.RENDERPLUS_PT_main
        draw = panel.draw

        def counting_draw(panel_self: Any, context: Any) -> None:
            self.drawn += 1
            draw(panel_self, context)

        panel.draw = counting_draw  # tells when the Render+ tab is the one shown
        if not self.config.get("reopen"):
            self._make_scene()
        for window in bpy.context.window_manager.windows:
            for area in window.screen.areas:
                if area.type == "VIEW_3D":
                    area.spaces.active.show_region_ui = True
                    self.window, self.area = window, area
        self.log("scene ready, sidebar open")

    def _make_scene(self) -> None:
        bpy = self.bpy
        scene = bpy.context.scene
        scene.render.engine = "CYCLES"
        scene.cycles.samples = 24
        scene.cycles.use_denoising = False  # Debian's Blender has no OpenImageDenoise
        for layer in scene.view_layers:
            layer.cycles.use_denoising = False
        scene.render.resolution_x, scene.render.resolution_y = 480, 270
        scene.frame_start, scene.frame_end = 1, 3
        for name, location in (("Cam Left", (-6.0, -6.0, 4.0)), ("Cam Top", (0.0, 0.0, 10.0))):
            camera = bpy.data.objects.new(name, bpy.data.cameras.new(name))
            camera.location = location
            constraint = camera.constraints.new("TRACK_TO")
            constraint.target = bpy.data.objects["Cube"]
            scene.collection.objects.link(camera)
        scene.timeline_markers.new("Intro", frame=1)
        scene.timeline_markers.new("Reveal", frame=3)
        bpy.ops.wm.save_as_mainfile(filepath=str(self.work / "shots.blend"))

        bpy.ops.renderplus.jobs_from(source="CAMERAS", replace=True)
        bpy.ops.renderplus.jobs_from(source="MARKERS")
        settings = scene.renderplus
        settings.jobs[1].mode = "ANIMATION"  # frames 1-6: the job shows frame progress
        settings.jobs[1].frame_end = 6
        settings.jobs[3].enabled = False
        for job in settings.jobs:
            job.output = str(self.work / "renders" / f"{job.name.replace(' ', '_')}_")
        if not self.config["queue"]:  # the first job fails while rendering (an option's name
            # the check does not judge: the formats are the rendering Blender's): the panel shows
            # why, in full
            override = settings.jobs[0].overrides.add()
            override.path, override.value = "render.image_settings.file_format", "NO_SUCH_FORMAT"
        settings.active_job_index = 1
        bpy.ops.wm.save_mainfile()   # --resumed: the second Blender opens it

    def region(self) -> Any:
        return next(r for r in self.area.regions if r.type == "UI")

    def tick(self) -> float | None:
        if time.monotonic() > self.deadline:
            self.log("timed out")
            self.bpy.ops.wm.quit_blender()
            return None
        try:
            return self.step()
        except Exception:
            import traceback

            for line in ("failed:\n" + traceback.format_exc()).splitlines():
                self.log(line)
            self.bpy.ops.wm.quit_blender()
            return None

    def open_tab(self) -> float:
        """Click down the sidebar's tab strip, one spot per tick, until the Render+ panel draws."""
        if self.drawn:
            self.log(f"Render+ tab shown after {self.tab_presses} clicks; sidebar {self.region().width} px")
            self.step = self.widen_sidebar if self.config["queue"] else \
                self.wait_for_interrupted if self.config.get("reopen") else self.start_batch
            return 0.5
        region = self.region()
        x = region.x + region.width - 10  # the tabs run down the sidebar's right edge
        y = region.y + region.height - 12 - 14 * self.tab_presses
        if y < region.y:
            raise RuntimeError("the Render+ tab never showed")
        self.window.event_simulate(type="MOUSEMOVE", value="NOTHING", x=x, y=y)
        self.window.event_simulate(type="LEFTMOUSE", value="PRESS", x=x, y=y)
        self.window.event_simulate(type="LEFTMOUSE", value="RELEASE", x=x, y=y)
        self.tab_presses += 1
        return 0.3

    def widen_sidebar(self) -> float:
        """Drag the sidebar's left edge leftwards (Blender 3.4 has no API for a region's width),
        so that the queue's labels are not cut: hover the edge, press, move in steps, release;
        where the edge's grip lies depends on the theme's overlap inset, so a few spots are
        tried until the width changes."""
        region, window, step = self.region(), self.window, self.drag_steps
        y = region.y + region.height // 2
        if step == 0:
            if self.width_before and region.width != self.width_before:
                self.log(f"sidebar widened from {self.width_before} to {region.width} px")
                self.step = self.start_batch
                return 0.5
            if self.drag_tries >= len(EDGE_OFFSETS):
                self.log(f"the sidebar stays {region.width} px: its edge could not be dragged")
                self.step = self.start_batch
                return 0.5
            self.width_before = self.width_before or region.width
            self.drag_from = region.x + EDGE_OFFSETS[self.drag_tries]
            self.drag_tries += 1
        x = self.drag_from - WIDEN_STEP * max(step - 1, 0)
        if step == 0:
            window.event_simulate(type="MOUSEMOVE", value="NOTHING", x=x, y=y)
        elif step == 1:
            window.event_simulate(type="LEFTMOUSE", value="PRESS", x=x, y=y)
        elif step <= WIDEN_STEPS:
            window.event_simulate(type="MOUSEMOVE", value="NOTHING", x=x, y=y)
        else:
            window.event_simulate(type="LEFTMOUSE", value="RELEASE", x=x, y=y)
            self.drag_steps = 0
            return 0.3
        self.drag_steps += 1
        return 0.1

    def start_batch(self) -> float:
        result = self.bpy.ops.renderplus.batch_render()
        self.log(f"batch started: {result}")
        if not self.history_made:
            self.step = self.wait_for_history
        else:
            self.step = self.queue_two if self.config["queue"] else self.wait_for_second_job
        return 0.5

    def wait_for_history(self) -> float:
        """--estimates: the first batch renders to its end; then the same jobs start again."""
        run = self.bpy.context.window_manager.renderplus_run
        service = self.module("bridge").state().service
        if run.status == "FINISHED" and not service.running:
            self.log(f"history made: {[(s.name, s.status, s.rendertime) for s in run.jobs]}")
            self.history_made = True
            self.step = self.start_batch
            return 1.0
        if run.status == "CANCELLED":
            raise RuntimeError("the first batch was cancelled")
        return 0.2

    def queue_two(self) -> float:
        """Render twice more while the batch runs: two batches wait in the queue."""
        bpy = self.bpy
        settings = bpy.context.scene.renderplus
        bpy.context.scene.render.resolution_percentage = 50  # an edit: the queued copy has it
        self.log(f"queued: {bpy.ops.renderplus.batch_render()}")
        settings.jobs[0].enabled = False
        self.log(f"queued: {bpy.ops.renderplus.batch_render()}")
        self.step = self.wait_for_estimates if self.config["estimates"] else self.pause_in_second_job
        return 0.5

    def wait_for_estimates(self) -> float:
        """--estimates: the second job renders and the queue's end is known."""
        run = self.bpy.context.window_manager.renderplus_run
        queue = self.module("bridge").state().queue
        current = run.jobs[run.current_job] if run.current_job == 1 else None
        if current is not None and current.output_count >= 1 and queue is not None \
                and queue.estimated_end is not None:
            self.bpy.context.scene.renderplus.active_job_index = 2   # a queued job's estimate
            self.step = self.scroll_to_queue
            return 1.0
        if run.status in ("FINISHED", "CANCELLED"):
            raise RuntimeError(f"the batch ended before the screenshot: {[s.status for s in run.jobs]}")
        return 0.1

    def pause_in_second_job(self) -> float:
        run = self.bpy.context.window_manager.renderplus_run
        current = run.jobs[run.current_job] if run.current_job == 1 else None
        if current is not None and current.output_count >= 2:
            self.log(f"pause: {self.bpy.ops.renderplus.batch_pause(when='now')}")
            self.step = self.wait_for_pause
            return 0.2
        if run.status in ("FINISHED", "CANCELLED"):
            raise RuntimeError(f"the batch ended before the pause: {[s.status for s in run.jobs]}")
        return 0.1

    def wait_for_pause(self) -> float:
        run = self.bpy.context.window_manager.renderplus_run
        if run.status == "PAUSED":
            self.step = self.screenshot
            return 1.0  # the pump's next ticks read the queue and redraw
        return 0.1

    def scroll_to_queue(self) -> float:
        """--estimates: scroll the sidebar down (the mouse wheel, one notch per tick) so that the
        Queue box and the selected job's estimate are in view."""
        region = self.region()
        x, y = region.x + region.width // 2, region.y + region.height // 2
        self.window.event_simulate(type="MOUSEMOVE", value="NOTHING", x=x, y=y)
        self.window.event_simulate(type="WHEELDOWNMOUSE", value="PRESS", x=x, y=y)
        self.scrolled += 1
        if self.scrolled >= SCROLL_NOTCHES:
            self.step = self.screenshot
            return 1.0
        return 0.1

    def wait_for_second_job(self) -> float:
        run = self.bpy.context.window_manager.renderplus_run
        states = list(run.jobs)
        current = states[run.current_job] if run.current_job == 1 else None
        if current is not None and current.progress_value >= 45 and current.output_count >= 2:
            if self.config.get("crash"):   # --resumed: Blender dies here, its batch interrupted
                import os
                import signal

                self.log(f"killed with frames {[(s.name, s.status, s.output_count) for s in states]}")
                os.kill(os.getpid(), signal.SIGKILL)
            # the artist selects the job that failed, to read why
            self.bpy.context.scene.renderplus.active_job_index = 0
            self.step = self.screenshot
            return 0.5  # redraws with the latest state and the thumbnail loaded
        if run.status in ("FINISHED", "CANCELLED"):
            raise RuntimeError(f"the batch ended before the screenshot: {[s.status for s in states]}")
        return 0.1

    def wait_for_interrupted(self) -> float:
        """--resumed, reopened: the panel offers Resume with the frames kept; shot it first."""
        lifecycle = self.module("batch_lifecycle")
        view = lifecycle.interrupted_batch()
        if view is None:
            if time.monotonic() > self.deadline - 180:
                raise RuntimeError("the reopened Blender found no interrupted batch")
            return 0.2
        self.log(f"interrupted: {[(j.name, j.status.value, j.frames_done) for j in view.jobs]}")
        self.step = self.shoot_interrupted
        return 1.0

    def shoot_interrupted(self) -> float:
        self._save_screen(self.config["out_interrupted"])
        self.log(f"saved {self.config['out_interrupted']}; resume: {self.bpy.ops.renderplus.batch_resume()}")
        self.step = self.wait_for_resumed_frames
        return 0.5

    def wait_for_resumed_frames(self) -> float:
        """--resumed: the interrupted job renders its missing frames; the artist selects it."""
        run = self.bpy.context.window_manager.renderplus_run
        current = run.jobs[run.current_job] if run.current_job == 1 else None
        if current is not None and current.frames_done >= 4 and current.output_count >= 4:
            self.bpy.context.scene.renderplus.active_job_index = 1
            self.step = self.screenshot
            return 0.5
        if run.status in ("FINISHED", "CANCELLED"):
            raise RuntimeError(f"the batch ended before the screenshot: {[s.status for s in run.jobs]}")
        return 0.1

    def _save_screen(self, out: str) -> None:
        if self.config.get("framebuffer"):   # the launcher converts this copy of the screen
            import shutil

            shutil.copyfile(self.config["framebuffer"], out + ".xwd")
        else:
            with self.bpy.context.temp_override(window=self.window, area=self.area):
                self.bpy.ops.screen.screenshot(filepath=out)

    def screenshot(self) -> float:
        out = self.config["out"]
        self._save_screen(out)
        run = self.bpy.context.window_manager.renderplus_run
        self.log(f"saved {out}; jobs: {[(s.name, s.status, round(s.progress_value)) for s in run.jobs]}")
        self.log(f"copy rendered: {run.copy_path}")
        if self.config["queue"]:
            queue = self.module("bridge").state().queue
            self.log(f"status {run.status}; queue: {[(e.id, e.name, e.jobs) for e in queue.entries]}; "
                     f"ends {queue.estimated_end}")
            self.bpy.ops.renderplus.queue_hold()  # the queued batches must not start now
        if not self.config.get("to_end"):   # else the batch renders to its end first
            self.bpy.ops.renderplus.batch_cancel()
        self.step = self.quit
        return 1.0

    def quit(self) -> float | None:
        run = self.bpy.context.window_manager.renderplus_run
        if run.status in ("RUNNING", "PAUSED"):
            return 0.5
        if self.config.get("to_end"):
            self.log(f"end {run.status}: {[(s.name, s.status, s.output_count) for s in run.jobs]}; "
                     f"thumbnails {len(self.module('thumbnails')._order)}")
        import addon_utils

        addon_utils.disable(self.addon, default_set=True)
        self.bpy.ops.wm.quit_blender()
        return None


def inside(config: dict[str, Any]) -> None:
    import bpy

    shot = Shot(config)
    shot.setup()
    bpy.app.timers.register(shot.tick, first_interval=1.0)
