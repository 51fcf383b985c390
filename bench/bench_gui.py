"""The UI during a batch in GUI Blender 3.4 under Xvfb: viewport redraws and main-thread stalls.

    python3 bench/bench_gui.py [--seconds 30] [--modes bare,now,bare+prefs,now+prefs] [--no-record]
                               [--json out.json]

Outside Blender it starts ``xvfb-run blender --factory-startup --python <this file>`` once per
mode; inside, the repository's add-on (legacy) renders a real batch (Cycles jobs by Blender 3.4,
in the background) while the sidebar shows the Render+ tab, and the script measures:

- **stall**: a timer asks to run every 10 ms and records when it does; the longest gap between
  two runs is the longest time Blender's main thread was busy elsewhere (drawing, the pump).
- **redraws**: draw handlers count the 3D viewport's main region (``WINDOW``) and its sidebar
  (``UI``) draws while the batch runs.

Modes, each a fresh Blender on the same scene and the same frames:

- ``bare``: no Render+ batch; the bench renders the frames with a plain ``blender -b`` in the
  background and redraws the sidebar once a second itself. The floor: what any live progress
  display in the sidebar costs in this Blender on this machine.
- ``before``: Render+ as it was before this measurement's fix: each new frame's thumbnail read
  by Blender's preview job (which redraws the whole window, viewport included, when it ends)
  and the sidebar redrawn on every change of the batch.
- ``now``: Render+ as it is: thumbnails read at once when cheap, progress redrawn at most once
  a second (only sidebars that show Render+), status changes at once.

A mode ending in ``+prefs`` (``bare+prefs``, ``now+prefs``) has a Preferences window open too,
as an artist who just started the add-on's server has: its redraws are counted, and the stall
is compared with the floor's in the same setting. The batch is four jobs of a few frames each,
so jobs start while the bench watches: the redraws and stalls in the 1.5 s after each job start
are counted apart (a job start changes the panel's height, and Blender slides the panels below).

The scene has a subdivided monkey so a viewport redraw costs what an artist's scene would.

With ``--checks`` it also presses Render on broken jobs and prints what the check says (the
GUI test in tests/addon/test_gui.py uses this).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCREEN = "1600x900x24"
MARK = "--renderplus-bench-gui"
RESULT = "BENCH_GUI "
TICK = 0.01
MODES = ("bare", "now", "bare+prefs", "now+prefs")   # recorded; "before" on demand
PREFS = "+prefs"
JOBS, FRAMES_PER_JOB = 4, 8
JOB_START_WINDOW = 1.5      # seconds after a job start whose stalls and redraws count as its own
BARE_REDRAW_INTERVAL = 1.0  # how often the bare mode redraws the sidebar (as Render+'s progress)


# --------------------------------------------------------------------------------------------
# Outside Blender


def run_mode(mode: str, seconds: float, blender: str, checks: bool = False,
             timeout: float = 400) -> dict[str, Any]:
    """One GUI Blender run; returns its measurements (raises with Blender's output on failure)."""
    sys.path.insert(0, str(ROOT))
    import build

    source = ROOT / "renderplus"
    build.fetch_wheels(build.wheel_paths(build.read_manifest(source), source))
    with tempfile.TemporaryDirectory(prefix="renderplus-bench-gui-") as work:
        config = {"mode": mode.removesuffix(PREFS), "preferences": mode.endswith(PREFS),
                  "seconds": seconds, "work": work, "root": str(ROOT), "checks": checks}
        env = {**os.environ, "BLENDER_USER_CONFIG": str(Path(work, "config")),
               "BLENDER_USER_SCRIPTS": str(Path(work, "scripts")),
               "XDG_STATE_HOME": str(Path(work, "state"))}  # the add-on's store: the run's own
        script = str(Path(__file__).resolve())
        command = ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN}", blender, "--factory-startup",
                   "--enable-event-simulate", "--python", script, "--", MARK, json.dumps(config)]
        proc = run_in_group(command, env, timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT)]
    if not lines:
        raise RuntimeError(f"Blender printed no result (exit {proc.returncode}):\n"
                           f"{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT):])
    if "error" in result:
        raise RuntimeError(f"{result['error']}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result["traceback_printed"] = "Traceback" in proc.stdout + proc.stderr
    return result


def run_in_group(command: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in its own process group, ended whole past ``timeout``: killing
    ``xvfb-run`` alone would leave its GUI Blender running."""
    import signal

    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            raise RuntimeError(f"GUI Blender ran past {timeout:.0f} s:\n{out[-4000:]}\n"
                               f"{err[-3000:]}") from None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the batch renders")
    parser.add_argument("--blender", default=shutil.which("blender") or "blender")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--checks", action="store_true", help="also run the pre-Render checks")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("xvfb-run") is None:
        print("xvfb-run is missing (apt-get install xvfb)", file=sys.stderr)
        return 1
    results = {mode: run_mode(mode, args.seconds, args.blender, checks=args.checks)
               for mode in args.modes.split(",")}
    for mode, result in results.items():
        print(f"{mode}: {json.dumps({k: v for k, v in result.items() if k != 'gaps'})}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if not args.no_record and {"bare", "now"} <= set(results):
        record(results, args.seconds, blender_version(args.blender))
    return 0


def blender_version(blender: str) -> str:
    """"3.4" for Debian's Blender 3.4.1: the bench's section is one per Blender version."""
    said = subprocess.run([blender, "--factory-startup", "--version"], capture_output=True, text=True,
                          timeout=120).stdout.split()
    return ".".join(said[1].split(".")[:2]) if len(said) > 1 else "unknown"


def record(results: dict[str, Any], seconds: float, version: str = "3.4") -> None:
    sys.path.insert(0, str(ROOT))
    from bench.results import record as write_section

    rows = ["| what renders, what redraws | batch | frames | viewport redraws | sidebar redraws (asked) | "
            "Preferences redraws | thumbnails shown | longest stall | 99th pct gap | stalls > 100 ms | "
            "job starts: stalls > 100 ms, redraws |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    labels = {"bare": "plain `blender -b`, the sidebar redrawn once a second (the floor)",
              "before": "Render+ before: thumbnails by Blender's preview job, a redraw per change",
              "now": "Render+ now"}
    for mode, r in results.items():
        label = labels[mode.removesuffix(PREFS)] + (", Preferences open" if mode.endswith(PREFS) else "")
        starts = r.get("job_starts", [])
        at_starts = ", ".join(f"{s['stalls']}, {s['sidebar_draws']}" for s in starts) or "-"
        rows.append(f"| {label} | {r['batch_seconds']:.1f} s | {r['frames_done']} | "
                    f"{r['viewport_draws']} | {r['sidebar_draws']} ({r['sidebar_tags']}) | "
                    f"{r['prefs_draws'] if r['preferences'] else '-'} | {r['thumbnails_shown']} | "
                    f"{r['max_gap'] * 1000:.0f} ms | {r['p99_gap'] * 1000:.0f} ms | "
                    f"{r['stalls_over_100ms']} | {at_starts} |")
    ratios = []
    for suffix, setting in (("", "sidebar open"), (PREFS, "sidebar and Preferences open")):
        now, bare = results.get("now" + suffix), results.get("bare" + suffix)
        if now and bare:
            ratios.append(f"Longest stall, Render+ now / the floor ({setting}): "
                          f"{now['max_gap'] / bare['max_gap']:.2f} (now's ended "
                          f"{max(now['longest_gaps'])[1]:.2f} s into the batch; first thumbnail drawn at "
                          f"{now['first_thumbnail_at']} s).")
    now = results.get("now", next(iter(results.values())))
    load = os.getloadavg()[0]
    option = "" if version == "3.4" else f" --blender <Blender {version}>"
    write_section(f"Add-on: the UI during a batch, GUI Blender {version} (bench/bench_gui.py)", [
        f"`python3 bench/bench_gui.py --seconds {seconds:g}{option}`: GUI Blender {version} under "
        "Xvfb (software OpenGL, 1600x900), the legacy add-on with its tab shown in the sidebar, a subdivided "
        f"monkey in the viewport, {JOBS} jobs of {FRAMES_PER_JOB} Cycles frames (320x180, 16 samples) "
        f"rendered in the background by Blender {version} on the same 2 cores (the floor renders "
        "the same frames with one plain `blender -b`). A 10 ms timer measures the main thread's gaps (the "
        "longest gap is the longest stall); draw handlers count redraws while the batch runs. "
        f"Load average when recorded: {load:.2f}.",
        "", *rows, "",
        f"One sidebar redraw with no batch (the idle phase): {now['idle_max_gap'] * 1000:.0f} ms. "
        + " ".join(ratios) + " Job starts: per job start, the stalls over 100 ms and the sidebar "
        f"redraws in the {JOB_START_WINDOW:g} s after it. Render+'s own Python per redraw (its main "
        f"panel's draw): at most {now['panel_draw_max'] * 1000:.1f} ms; pressing Render (the check, "
        f"saving the copy, reading a first tiny preview): {now['render_press'] * 1000:.0f} ms, not "
        "counted above (counting starts 1 s later).",
        "",
        "Reading: progress alone redraws the sidebar at most once a second, and only a sidebar that "
        "shows Render+; an open Preferences window is not redrawn for the batch at all (it shows "
        "the server, the Blenders, the farm), and a job start no longer slides the panels (the "
        "running job's rows, the Job panel's box and the up-next box keep their height). A fresh "
        "Blender sets up its image reading on its first preview (about 60 ms in 5.2): Render+ "
        "reads a tiny one at the Render press, so the first frame's thumbnail costs what the "
        "later ones do. Thumbnails are read at once "
        "when cheap (the job's 320-pixel JPEG preview, or a frame of at most 1920x1088), never by "
        "Blender's preview job, whose end redrew the whole window, viewport included, once per "
        "frame (the `before` mode, on demand). What remains is Blender's own cost of redrawing one "
        "region: under software OpenGL every redraw composites the whole 1600x900 window (the idle "
        "redraw above), so the floor row is as low as any live sidebar display can go on this "
        "machine, which has no GPU for the screen.",
    ])


# --------------------------------------------------------------------------------------------
# Inside Blender (GUI: timers fire, regions draw)


class Bench:
    def __init__(self, config: dict[str, Any]) -> None:
        import bpy

        self.bpy: Any = bpy  # attributes added by the add-on: untyped
        self.config = config
        self.work = Path(config["work"])
        self.out: dict[str, Any] = {"mode": config["mode"]}
        self.gaps: list[float] = []
        self.last_tick = 0.0
        self.counting = False
        self.viewport_draws = self.sidebar_draws = 0
        self.pump_writes = self.thumbnails_shown = 0
        self.draw_max = 0.0  # the longest draw of Render+'s main panel while counting (s)
        self.bare: subprocess.Popen[bytes] | None = None  # the plain blender -b of mode "bare"
        self.last_bare_redraw = 0.0
        self.slow_calls: list[tuple[str, float, float]] = []  # (what, when, seconds) over 5 ms
        self.gap_times: list[tuple[float, float]] = []  # (gap, when), when counting
        self.counting_since = 0.0
        self.idle_redraw = 0.0
        self.tag_times: list[float] = []  # when the add-on (or the bare mode) tagged the sidebar
        self.draw_times: list[float] = []  # when the sidebar was drawn
        self.first_thumbnail_at: float | None = None
        self.panel_draws = self.tab_clicks = 0
        self.prefs_draws = 0
        self.job_started_at: dict[int, float] = {}   # job index -> when it was seen RUNNING
        self.phase = "idle"
        self.phase_started = time.monotonic()
        self.deadline = time.monotonic() + float(config["seconds"]) * 3 + 120

    def setup(self) -> None:
        bpy = self.bpy
        import addon_utils

        bpy.context.preferences.view.show_splash = False
        sys.path.insert(0, self.config["root"])
        addon_utils.enable("renderplus", default_set=True)
        bridge: Any = sys.modules["renderplus.addon.bridge"]  # the add-on, loaded from the repository
        self.bridge = bridge
        self.batches: Any = sys.modules["renderplus.addon.batch_lifecycle"]
        if self.config["mode"] == "before":
            self._as_before()
        self._count_pump_writes()
        self._count_thumbnails()
        self._count_tags()

        scene = bpy.context.scene
        bpy.ops.mesh.primitive_monkey_add(location=(0, 0, 2))
        monkey = bpy.context.active_object
        modifier = monkey.modifiers.new("Subdivision", "SUBSURF")
        modifier.levels = 2
        scene.render.engine = "CYCLES"
        scene.cycles.samples = 16
        scene.cycles.use_denoising = False
        scene.render.resolution_x, scene.render.resolution_y = 320, 180
        bpy.ops.wm.save_as_mainfile(filepath=str(self.work / "bench.blend"))
        bpy.ops.renderplus.job_add()
        job = scene.renderplus.jobs[0]
        job.mode = "ANIMATION"
        job.frame_start, job.frame_end = 1, FRAMES_PER_JOB
        job.output = str(self.work / "renders" / "frame_")
        for index in range(1, JOBS):     # the same frames again: each job starts its own Blender
            bpy.ops.renderplus.job_add()
            again = scene.renderplus.jobs[index]
            again.mode = "ANIMATION"
            again.frame_start, again.frame_end = 1, FRAMES_PER_JOB
            again.output = str(self.work / "renders" / f"job{index}_")

        for window in bpy.context.window_manager.windows:
            for area in window.screen.areas:
                if area.type == "VIEW_3D":
                    area.spaces.active.show_region_ui = True
                    self.window, self.area = window, area
        panel = bpy.types.RENDERPLUS_PT_main
        draw = panel.draw

        def counting_draw(panel_self: Any, context: Any) -> None:
            self.panel_draws += 1
            started = time.perf_counter()
            draw(panel_self, context)
            if self.counting:
                self.draw_max = max(self.draw_max, time.perf_counter() - started)

        panel.draw = counting_draw  # tells when the Render+ tab is the one shown
        space = bpy.types.SpaceView3D
        space.draw_handler_add(self._viewport_drawn, (), "WINDOW", "POST_PIXEL")
        space.draw_handler_add(self._sidebar_drawn, (), "UI", "POST_PIXEL")
        if self.config.get("preferences"):   # as after starting the server from the preferences
            bpy.types.SpacePreferences.draw_handler_add(self._prefs_drawn, (), "WINDOW", "POST_PIXEL")
            bpy.ops.screen.userpref_show()

    def _as_before(self) -> None:
        """The add-on before the fix: Blender's preview job reads every thumbnail, and every
        change of the batch redraws the sidebar."""
        thumbnails: Any = sys.modules["renderplus.addon.thumbnails"]
        icon_id = thumbnails.icon_id
        thumbnails.cheap_to_read = lambda path: False  # as imported by the module
        thumbnails.icon_id = lambda path, may_defer=False: icon_id(path, may_defer=True)
        self.bridge.PROGRESS_REDRAW_INTERVAL = 0.0

    def _count_tags(self) -> None:
        display: Any = sys.modules["renderplus.addon.ui_refresh"]
        tag = display.tag_sidebars

        def counted(wm: Any, **how: Any) -> None:
            if self.counting:
                self.tag_times.append(round(time.monotonic() - self.counting_since, 2))
            tag(wm, **how)

        display.tag_sidebars = counted

    def _sidebar_drawn(self) -> None:
        self.sidebar_draws += int(self.counting)
        if self.counting:
            self.draw_times.append(round(time.monotonic() - self.counting_since, 2))

    def _count_thumbnails(self) -> None:
        thumbnails: Any = sys.modules["renderplus.addon.thumbnails"]
        icon_id = thumbnails.icon_id

        def counted(path: str, may_defer: bool = False) -> int:
            started = time.perf_counter()
            icon: int = icon_id(path, may_defer=may_defer)
            took = time.perf_counter() - started
            if self.counting and took > 0.005:
                self.slow_calls.append(("thumbnail", round(time.monotonic() - self.counting_since, 2),
                                        round(took, 3)))
            self.thumbnails_shown += int(bool(icon) and self.counting)
            if icon and self.counting and self.first_thumbnail_at is None:
                self.first_thumbnail_at = round(time.monotonic() - self.counting_since, 2)
            return icon

        thumbnails.icon_id = counted

    def _count_pump_writes(self) -> None:
        show = self.bridge._show

        def counted(batch: Any, run: Any) -> bool:
            wrote: bool = show(batch, run)
            self.pump_writes += int(wrote and self.counting)
            return wrote

        self.bridge._show = counted

    def _prefs_drawn(self) -> None:
        self.prefs_draws += int(self.counting)

    def _viewport_drawn(self) -> None:
        self.viewport_draws += int(self.counting)

    def tick(self) -> float | None:
        now = time.monotonic()
        if self.last_tick:
            self.gaps.append(now - self.last_tick)
            if self.counting:
                self.gap_times.append((round(now - self.last_tick, 3), round(now - self.counting_since, 2)))
        self.last_tick = now
        if now > self.deadline:
            self.finish({"error": "timed out"})
            return None
        try:
            return self.step(now)
        except Exception:
            import traceback

            self.finish({"error": traceback.format_exc()})
            return None

    def step(self, now: float) -> float | None:
        elapsed = now - self.phase_started
        if self.phase == "idle":
            return self._idle(now, elapsed)
        if self.phase == "settling" and elapsed > 1.0:  # the Render press's own redraws are done
            self.gaps.clear()
            self.counting = True
            self.counting_since = now
            self._next("rendering")
        elif self.phase == "rendering":
            self._rendering(now, elapsed)
        elif self.phase == "stopping":
            bare = self.bare
            if (bare.poll() is not None) if bare is not None else not self.batches.batch_running():
                self.finish(self.measurements())
                return None
        return TICK

    def _idle(self, now: float, elapsed: float) -> float:
        """Show the Render+ tab, redraw the sidebar a few times with no batch, press Render."""
        if not self.panel_draws:
            self._click_next_tab()
            self.gaps.clear()
            self.last_tick = 0.0
            self.phase_started = now
            return 0.3
        if 1.0 < elapsed <= 3.0 and elapsed - self.idle_redraw >= 0.5:
            self.idle_redraw = elapsed  # no batch: what one sidebar redraw costs on its own
            sys.modules["renderplus.addon.ui_refresh"].tag_sidebars(self.bpy.context.window_manager)
        if elapsed > 3.5:
            self.out["idle_max_gap"] = max(self.gaps[50:] or [0.0])
            if self.config.get("checks"):
                self.out["checks"] = run_checks(self.bpy, self.bridge, self.batches)
            pressed = time.monotonic()
            if self.config["mode"] == "bare":
                self._start_bare()
            else:
                self.bpy.ops.renderplus.batch_render()
            self.out["render_press"] = time.monotonic() - pressed  # the check and saving the copy
            self._next("settling")
        return TICK

    def _rendering(self, now: float, elapsed: float) -> None:
        if self.bare is not None:
            if now - self.last_bare_redraw >= BARE_REDRAW_INTERVAL:   # the sidebar only, as
                self.last_bare_redraw = now                             # Render+'s progress does
                sys.modules["renderplus.addon.ui_refresh"].tag_sidebars(self.bpy.context.window_manager,
                                                                        preferences=False)
            if elapsed > float(self.config["seconds"]) or self.bare.poll() is not None:
                self.counting = False
                self.out["batch_seconds"] = elapsed
                self.out["frames_done"] = len(list((self.work / "bare").glob("frame_*")))
                self.bare.terminate()
                self._next("stopping")
            return
        run = self.bpy.context.window_manager.renderplus_run
        for index, job in enumerate(run.jobs):
            if job.status == "RUNNING" and index not in self.job_started_at:
                self.job_started_at[index] = now - self.counting_since
        if elapsed > float(self.config["seconds"]) or run.status in ("FINISHED", "CANCELLED"):
            self.counting = False
            self.out["batch_seconds"] = elapsed
            self.out["frames_done"] = sum(job.frames_done for job in run.jobs)
            self.out["active_job_index"] = self.bpy.context.scene.renderplus.active_job_index
            if self.batches.batch_running():
                self.bpy.ops.renderplus.batch_cancel()
            self._next("stopping")

    def _start_bare(self) -> None:
        """The same frames by a plain ``blender -b`` (the floor: no Render+ batch at all)."""
        command = [self.bpy.app.binary_path, "-b", str(self.work / "bench.blend"), "-o",
                   str(self.work / "bare" / "frame_"), "-s", "1", "-e", str(JOBS * FRAMES_PER_JOB), "-a"]
        self.bare = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _click_next_tab(self) -> None:
        """Blender 3.4 has no API for the sidebar's tab: click down the strip until ours draws."""
        region = next(r for r in self.area.regions if r.type == "UI")
        x = region.x + region.width - 10
        y = region.y + region.height - 12 - 14 * self.tab_clicks
        if y < region.y:
            raise RuntimeError("the Render+ tab never showed")
        for kind, value in (("MOUSEMOVE", "NOTHING"), ("LEFTMOUSE", "PRESS"), ("LEFTMOUSE", "RELEASE")):
            self.window.event_simulate(type=kind, value=value, x=x, y=y)
        self.tab_clicks += 1

    def _next(self, phase: str) -> None:
        self.phase, self.phase_started = phase, time.monotonic()

    def measurements(self) -> dict[str, Any]:
        gaps = sorted(self.gaps)
        starts = [{"at": round(at, 2),
                   "stalls": sum(1 for gap, when in self.gap_times if at < when <= at + JOB_START_WINDOW
                                 and gap > 0.1),
                   "sidebar_draws": sum(1 for when in self.draw_times if at < when <= at + JOB_START_WINDOW)}
                  for at in sorted(self.job_started_at.values())]
        return {**self.out, "preferences": bool(self.config.get("preferences")),
                "prefs_draws": self.prefs_draws, "job_starts": starts,
                "viewport_draws": self.viewport_draws, "sidebar_draws": self.sidebar_draws,
                "pump_writes": self.pump_writes, "thumbnails_shown": self.thumbnails_shown,
                "first_thumbnail_at": self.first_thumbnail_at, "sidebar_tags": len(self.tag_times),
                "tag_times": self.tag_times, "draw_times": self.draw_times,
                "panel_draw_max": self.draw_max, "max_gap": gaps[-1] if gaps else 0.0,
                "p99_gap": gaps[int(len(gaps) * 0.99)] if gaps else 0.0,
                "stalls_over_100ms": sum(1 for g in gaps if g > 0.1), "ticks": len(gaps),
                "longest_gaps": sorted(self.gap_times)[-5:], "slow_calls": self.slow_calls[:20]}

    def finish(self, result: dict[str, Any]) -> None:
        print(RESULT + json.dumps(result, default=str), flush=True)
        import addon_utils

        addon_utils.disable("renderplus", default_set=True)
        self.bpy.ops.wm.quit_blender()


def run_checks(bpy: Any, bridge: Any, batches: Any) -> dict[str, Any]:
    """Press Render on broken jobs (GUI Blender 3.4); what the check refused, job by job."""
    settings = bpy.context.scene.renderplus
    job = settings.jobs[0]
    saved = (job.name, job.engine, job.camera, job.mode, job.frame_end, job.output)
    found: dict[str, Any] = {"binary": None}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the panel says "checking..." meanwhile
        info = bridge.binary_info(batches.rendering_binary())
        if info is not None:
            found["binary"] = [info.version, list(info.engines or ())]
            break
        time.sleep(0.1)
    cases: dict[str, dict[str, Any]] = {
        "engine": {"engine": "BLENDER_EEVEE_NEXT"},
        "camera": {"camera": "Deleted Camera"},
        "frames": {"frame_start": 20, "frame_end": 10},
        "folder": {"output": bpy.data.filepath + "/renders/frame_"},  # under a file: even root cannot
    }
    for case, changes in cases.items():
        job.name = f"Artist's {case} job"
        for key, value in changes.items():
            if key == "engine":   # a job saved with an engine this Blender lacks: not in its menu
                importlib.import_module(".engine_menu", batches.__package__).store_engine(job, value)
            else:
                setattr(job, key, value)
        found[case] = press_render(bpy, batches)
        job.name, job.engine, job.camera, job.mode, job.frame_end, job.output = saved
        job.frame_start = 1
    job.name = "Artist's override job"  # a typo in a custom override's path, and a wrong value
    for path, value in (("render.fpz", "12"), ("render.fps", '"abc"')):
        override = job.overrides.add()
        override.path, override.value = path, value
    found["override"] = press_render(bpy, batches)
    job.overrides.clear()
    job.name = saved[0]
    return found


def press_render(bpy: Any, batches: Any) -> str:
    """What pressing Render said: the check's refusal, or that the batch started (then cancelled)."""
    try:
        result = bpy.ops.renderplus.batch_render()
    except RuntimeError as exc:
        return str(exc)
    if batches.batch_running():
        bpy.ops.renderplus.batch_cancel()
    return f"started: {result}"


def inside(config: dict[str, Any]) -> None:
    import bpy

    bench = Bench(config)
    try:
        bench.setup()
    except Exception:
        import traceback

        bench.finish({"error": traceback.format_exc()})
        return
    bpy.app.timers.register(bench.tick, first_interval=1.0)


if __name__ == "__main__":
    if MARK in sys.argv:
        inside(json.loads(sys.argv[sys.argv.index(MARK) + 1]))
    else:
        sys.exit(main(sys.argv[1:]))
