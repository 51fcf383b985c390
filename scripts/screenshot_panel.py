"""Screenshot of the Render+ N-panel with a running batch (GUI Blender 3.4 under Xvfb).

    python3 scripts/screenshot_panel.py [--out docs/panel.png] [--blender blender]
    python3 scripts/screenshot_panel.py --queue [--out docs/images/panel-queue.png]
    python3 scripts/screenshot_panel.py --estimates [--out docs/images/panel-estimates.png]

``--queue``: the batch is paused ("now") while two more batches wait in the queue behind it; the
sidebar is dragged wider first, so that the queue's labels are not cut.
``--estimates``: a first batch renders to the end (its runs are the history), then the same jobs
render again with two batches queued behind: the time left rests on similar runs, and the Queue
box says when each queued batch should start and end and when everything is done. Render+'s
state folder (its store, so the history) is the run's own, never the user's.

Outside Blender this script fetches the bundled Bottle wheel (as build.py does), then starts
``xvfb-run blender --factory-startup --enable-event-simulate --python <this file>``. Inside
Blender it loads the repository's ``renderplus/`` folder as a legacy add-on, builds a small
scene with three cameras and two markers, fills the job list with the quick-batch operators,
opens the sidebar on the Render+ tab (Blender 3.4 has no API for the active tab: it clicks
down the tab strip until the Render+ panel draws), renders the batch from a saved copy and saves
a screenshot while the second job renders. Timers drive it all: they only fire in GUI Blender.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCREEN = "1600x900x24"
MARK = "--renderplus-screenshot"
WIDEN_STEPS, WIDEN_STEP = 7, 30  # --queue: the sidebar's edge is dragged 6 x 30 px to the left
EDGE_OFFSETS = (0, 4, 8, 12, 16, -2)  # where its grip may be, from the region's left edge
SCROLL_NOTCHES = 8  # --estimates: how far the sidebar is scrolled down to show the Queue box


# --------------------------------------------------------------------------------------------
# Outside Blender


def outside(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--queue", action="store_true",
                        help="a paused batch and a queue (default out: docs/images/panel-queue.png)")
    parser.add_argument("--estimates", action="store_true",
                        help="estimates from a first batch's history, a queue's end "
                             "(default out: docs/images/panel-estimates.png)")
    parser.add_argument("--blender", default=shutil.which("blender") or "blender")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = ROOT / "docs" / ("images/panel-queue.png" if args.queue else
                                    "images/panel-estimates.png" if args.estimates else "panel.png")
    if shutil.which("xvfb-run") is None:
        print("xvfb-run is missing (apt-get install xvfb)", file=sys.stderr)
        return 1
    sys.path.insert(0, str(ROOT))
    import build

    source = ROOT / "renderplus"
    build.fetch_wheels(build.wheel_paths(build.read_manifest(source), source))
    with tempfile.TemporaryDirectory(prefix="renderplus-shot-") as work:
        config = {"out": str(args.out.resolve()), "work": work, "root": str(ROOT),
                  "queue": args.queue or args.estimates, "estimates": args.estimates}
        env = {**os.environ, "BLENDER_USER_CONFIG": str(Path(work, "config")),
               "BLENDER_USER_SCRIPTS": str(Path(work, "scripts")),
               "XDG_STATE_HOME": str(Path(work, "state"))}
        command = ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}", args.blender, "--factory-startup",
                   "--enable-event-simulate", "--python", str(Path(__file__).resolve()), "--", MARK,
                   json.dumps(config)]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.out.exists():
            args.out.unlink()
        try:
            proc = subprocess.run(command, env=env, timeout=args.timeout, capture_output=True, text=True)
        except subprocess.TimeoutExpired as exc:
            said = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            print("\n".join(line for line in said.splitlines() if line.startswith("SHOT")))
            print(f"Blender did not finish within {args.timeout:.0f} s", file=sys.stderr)
            return 1
        report = [line for line in proc.stdout.splitlines() if line.startswith("SHOT")]
        print("\n".join(report))
        if "Traceback" in proc.stdout + proc.stderr:  # e.g. a panel's draw() failed in 3.4
            print("Blender printed a Python error:", proc.stdout[-4000:], proc.stderr[-4000:], sep="\n",
                  file=sys.stderr)
            return 1
        if proc.returncode != 0 or not args.out.exists():
            print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n", file=sys.stderr)
            return 1
    print(f"screenshot: {args.out}")
    return 0


# --------------------------------------------------------------------------------------------
# Inside Blender (GUI, timers fire)


class Shot:
    """The steps, one per timer tick, so Blender redraws between them."""

    def __init__(self, config: dict[str, Any]) -> None:
        import bpy

        self.bpy = bpy
        self.config = config
        self.work = Path(config["work"])
        self.step: Callable[[], float | None] = self.open_tab
        self.tab_presses = 0
        self.drag_steps, self.drag_from, self.width_before, self.drag_tries = 0, 0, 0, 0
        self.drawn = 0
        self.scrolled = 0
        self.history_made = not config.get("estimates")  # --estimates: a first batch makes it
        self.deadline = time.monotonic() + 240

    def log(self, message: str) -> None:
        print(f"SHOT {message}", flush=True)

    # setup, before the first tick
    def setup(self) -> None:
        bpy = self.bpy
        import addon_utils

        bpy.context.preferences.view.show_splash = False  # the splash would take the events
        sys.path.insert(0, self.config["root"])
        addon_utils.enable("renderplus", default_set=True)
        panel = bpy.types.RENDERPLUS_PT_main
        draw = panel.draw

        def counting_draw(panel_self: Any, context: Any) -> None:
            self.drawn += 1
            draw(panel_self, context)

        panel.draw = counting_draw  # tells when the Render+ tab is the one shown

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
        if not self.config["queue"]:  # the first job fails while rendering (an override the
            # check cannot know is wrong): the panel shows why, in full
            override = settings.jobs[0].overrides.add()
            override.path, override.value = "render.no_such_setting", "1"
        settings.active_job_index = 1

        for window in bpy.context.window_manager.windows:
            for area in window.screen.areas:
                if area.type == "VIEW_3D":
                    area.spaces.active.show_region_ui = True
                    self.window, self.area = window, area
        self.log("scene ready, sidebar open")

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
            self.step = self.widen_sidebar if self.config["queue"] else self.start_batch
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
        service = sys.modules["renderplus.addon.bridge"].state().service
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
        queue = sys.modules["renderplus.addon.bridge"].state().queue
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
            # the artist selects the job that failed, to read why
            self.bpy.context.scene.renderplus.active_job_index = 0
            self.step = self.screenshot
            return 0.5  # redraws with the latest state and the thumbnail loaded
        if run.status in ("FINISHED", "CANCELLED"):
            raise RuntimeError(f"the batch ended before the screenshot: {[s.status for s in states]}")
        return 0.1

    def screenshot(self) -> float:
        out = self.config["out"]
        with self.bpy.context.temp_override(window=self.window, area=self.area):
            self.bpy.ops.screen.screenshot(filepath=out)
        run = self.bpy.context.window_manager.renderplus_run
        self.log(f"saved {out}; jobs: {[(s.name, s.status, round(s.progress_value)) for s in run.jobs]}")
        self.log(f"copy rendered: {run.copy_path}")
        if self.config["queue"]:
            queue = sys.modules["renderplus.addon.bridge"].state().queue
            self.log(f"status {run.status}; queue: {[(e.id, e.name, e.jobs) for e in queue.entries]}; "
                     f"ends {queue.estimated_end}")
            self.bpy.ops.renderplus.queue_hold()  # the queued batches must not start now
        self.bpy.ops.renderplus.batch_cancel()
        self.step = self.quit
        return 1.0

    def quit(self) -> float | None:
        if self.bpy.context.window_manager.renderplus_run.status in ("RUNNING", "PAUSED"):
            return 0.5
        import addon_utils

        addon_utils.disable("renderplus", default_set=True)
        self.bpy.ops.wm.quit_blender()
        return None


def inside(config: dict[str, Any]) -> None:
    import bpy

    shot = Shot(config)
    shot.setup()
    bpy.app.timers.register(shot.tick, first_interval=1.0)


if __name__ == "__main__":
    if MARK in sys.argv:
        inside(json.loads(sys.argv[sys.argv.index(MARK) + 1]))
    else:
        sys.exit(outside(sys.argv[1:]))
