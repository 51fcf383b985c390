"""Screenshot of the Render+ N-panel with a running batch (GUI Blender 3.4 under Xvfb).

    python3 scripts/screenshot_panel.py [--out docs/panel.png] [--blender blender]
    python3 scripts/screenshot_panel.py --queue [--out docs/images/panel-queue.png]
    python3 scripts/screenshot_panel.py --estimates [--out docs/images/panel-estimates.png]
    python3 scripts/screenshot_panel.py --extension --blender PATH [--out docs/images/panel-X.Y.png]
    python3 scripts/screenshot_panel.py --resumed [--out docs/images/panel-resumed.png]

``--queue``: the batch is paused ("now") while two more batches wait in the queue behind it; the
sidebar is dragged wider first, so that the queue's labels are not cut.
``--estimates``: a first batch renders to the end (its runs are the history), then the same jobs
render again with two batches queued behind: the time left rests on similar runs, and the Queue
box says when each queued batch should start and end and when everything is done. Render+'s
state folder (its store, so the history) is the run's own, never the user's.
``--resumed``: Blender is killed (SIGKILL, as a crash) while the second job renders; a second
Blender opens the saved file, shows the interrupted batch with the frames it kept
(``panel-interrupted.png`` beside ``--out``), presses Resume and is shot while the interrupted
job renders only its missing frames.
``--extension`` (Blender 4.2+): the built zip is installed as an extension by that Blender's own
``--command extension install-file``, the jobs render with that same Blender, and the batch
renders to its end (the report says each job's status, frames and the thumbnails read).

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREEN = "1600x900x24"
MARK = "--renderplus-screenshot"
EXTENSION = "bl_ext.user_default.renderplus"  # the extension's module in the default user repository


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
    parser.add_argument("--resumed", action="store_true",
                        help="a crash, then Resume in a new Blender (default out: "
                             "docs/images/panel-resumed.png, and panel-interrupted.png beside it)")
    parser.add_argument("--blender", default=shutil.which("blender") or "blender")
    parser.add_argument("--extension", action="store_true",
                        help="Blender 4.2+: build the zip, install it as an extension with this "
                             "Blender's own command line, render with this Blender to the batch's "
                             "end (default out: docs/images/panel-<version>.png)")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.out is None and args.extension:
        args.out = ROOT / "docs" / "images" / f"panel-{_major_minor(args.blender)}.png"
    if args.out is None:
        args.out = ROOT / "docs" / ("images/panel-queue.png" if args.queue else
                                    "images/panel-resumed.png" if args.resumed else
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
               "BLENDER_USER_RESOURCES": str(Path(work, "resources")),
               "XDG_STATE_HOME": str(Path(work, "state"))}
        if args.extension:
            installed = _install_extension(args.blender, build.build(source, Path(work, "dist")), env)
            if installed:
                print(installed, file=sys.stderr)
                return 1
            # 4.x reads its own window back black under Xvfb: the shot is Xvfb's framebuffer
            # (an XWD file it keeps in fbdir), copied at the moment, converted to PNG below
            config.update(addon=EXTENSION, job_blender=args.blender, to_end=True,
                          framebuffer=str(Path(work, "fb", "Xvfb_screen0")))
            Path(work, "fb").mkdir()
        screen = f"-screen 0 {SCREEN}" + (f" -fbdir {Path(work, 'fb')}" if args.extension else "")

        def blender_command(config: dict[str, object], *blend: str) -> list[str]:
            return ["xvfb-run", "-a", "-s", screen, args.blender, "--factory-startup", *blend,
                    "--enable-event-simulate", "--python", str(Path(__file__).resolve()), "--", MARK,
                    json.dumps(config)]

        command = blender_command(config)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.out.exists():
            args.out.unlink()
        if args.resumed:   # the crash first; the command below reopens the file and resumes
            crashed = subprocess.run(blender_command({**config, "crash": True}), env=env,
                                     timeout=args.timeout, capture_output=True, text=True)
            print("\n".join(line for line in crashed.stdout.splitlines() if line.startswith("SHOT")))
            interrupted = args.out.with_name("panel-interrupted.png")
            command = blender_command({**config, "reopen": True, "out_interrupted": str(interrupted)},
                                      str(Path(work, "shots.blend")))
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
        shot = Path(str(args.out) + ".xwd")
        if shot.exists():
            converted = subprocess.run(["convert", f"xwd:{shot}", str(args.out)], capture_output=True,
                                       text=True)
            shot.unlink()
            if converted.returncode != 0:
                print(f"could not convert the framebuffer: {converted.stderr}", file=sys.stderr)
                return 1
        if proc.returncode != 0 or not args.out.exists():
            print(proc.stdout[-4000:], proc.stderr[-4000:], sep="\n", file=sys.stderr)
            return 1
    print(f"screenshot: {args.out}")
    return 0


def _major_minor(blender: str) -> str:
    found = subprocess.run([blender, "--factory-startup", "--version"], capture_output=True,
                           text=True, timeout=120).stdout.split()
    return ".".join(found[1].split(".")[:2]) if len(found) > 1 else "unknown"


def _install_extension(blender: str, zip_path: Path, env: dict[str, str]) -> str:
    """Install and enable the zip with ``blender --command extension install-file`` (into the
    run's own user folders); "" when done, else what went wrong."""
    proc = subprocess.run([blender, "--command", "extension", "install-file", "-r", "user_default",
                           "-e", str(zip_path)], env=env, capture_output=True, text=True, timeout=300)
    print(f"SHOT extension installed by {blender}: exit {proc.returncode}")
    if proc.returncode != 0:
        return f"installing {zip_path} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return ""


if __name__ == "__main__":
    if MARK in sys.argv:   # inside Blender: the steps are panel_shot's, beside this file
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import panel_shot

        panel_shot.inside(json.loads(sys.argv[sys.argv.index(MARK) + 1]))
    else:
        sys.exit(outside(sys.argv[1:]))
