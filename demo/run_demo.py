"""The Render+ demo: builds a small scene with the real Blender, writes a recipe of six jobs
(Cycles still and animation, a second camera and world, a border section, Workbench, EEVEE,
a custom override, hooks) and renders it through the command line a user would run:
``python3 renderplus/server --recipe RECIPE --print-stats``.

Usage: python3 demo/run_demo.py [--output DIR] [--blender BIN]
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def recipe_for(blend: Path, output: Path, blender: str) -> dict:
    def job(index: int, name: str, **fields: object) -> dict:
        base = {"id": index, "name": name, "enabled": True, "blend_file": str(blend),
                "blendfile": blend.name, "scene": "Studio", "camera": "CamFront",
                "world": "Daylight", "format": "PNG", "engine": "CYCLES",
                "output": str(output / name.lower().replace(" ", "_")),
                "cycles": {"samples": 16, "device": "CPU"}}
        base.update(fields)
        return base

    quoted = shlex.quote(str(output))
    return {
        "name": str(blend), "version": 2.2, "blender_bin": blender,
        "settings": {"write_log": True, "rss": {"enabled": True, "path": str(output / "feed.rss")}},
        "hooks": {"PRE_BATCH": [{"cmd": "echo 'demo batch starting'"}],
                  "POST_BATCH": [{"cmd": f"echo \"$(ls {quoted} | wc -l) files in\" {quoted}"}]},
        "jobs": [
            job(0, "Front still"),
            job(1, "Turntable", animated=True, frame_start=1, frame_end=6, size=[240, 135],
                hooks={"POST_JOB": [{"cmd": "echo rendered: $RENDERPLUS_OUTPUTS"}]},
                encode={"format": "h264"}),   # and a movie of its frames: turntable.mp4
            job(2, "Side dusk", camera="CamSide", world="Dusk", frame_still=12),
            job(3, "Section", section={"enabled": True, "x": 0.25, "y": 0.2, "width": 0.5,
                                       "height": 0.6}, cycles={"samples": 32, "device": "CPU"}),
            job(4, "Workbench preview", engine="BLENDER_WORKBENCH", animated=True,
                frame_start=1, frame_end=4,
                custom_overrides=[{"path": "display.shading.color_type", "value": "RANDOM"}]),
            job(5, "Eevee still", engine="BLENDER_EEVEE", camera="CamSide"),
        ],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default=str(ROOT / "demo-output"), help="where renders go")
    parser.add_argument("--blender", default=shutil.which("blender") or "/usr/bin/blender")
    args = parser.parse_args()
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    blend = output / "studio.blend"
    print(f"Render+ demo: building the scene with {args.blender} ...", flush=True)
    subprocess.run([args.blender, "-b", "--factory-startup", "--python-exit-code", "1",
                    "--python", str(ROOT / "demo" / "make_scene.py"), "--", str(blend)],
                   check=True, stdout=subprocess.DEVNULL)
    recipe = output / "demo-recipe.json"
    data = recipe_for(blend, output, args.blender)
    recipe.write_text(json.dumps(data, indent=2))
    print(f"Recipe: {recipe} ({len(data['jobs'])} jobs); rendering ...", flush=True)
    command = [sys.executable, str(ROOT / "renderplus" / "server"), "--recipe", str(recipe),
               "--print-stats", "--log-dir", str(output / "log")]
    print("$ " + " ".join(command), flush=True)
    code = subprocess.call(command)
    print(f"\nRenders, the turntable's movie, log and RSS feed: {output}")
    return code


if __name__ == "__main__":
    sys.exit(main())
