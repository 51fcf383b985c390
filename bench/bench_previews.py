"""What a dashboard preview costs per frame: ``previews.write_preview`` in the real Blender (as
the frame reader, a helper Blender beside the rendering one, makes it: renderplus/batch/frame_reader.py).

For each format a browser cannot show (OpenEXR half float, multilayer EXR, 16-bit TIFF, TGA) at
each size, Blender renders one Workbench frame, then writes its 320-pixel JPEG preview
``--count`` times (the first call is timed apart: it loads Blender's image and colour code).
Prints a markdown table of the median, p90 and max milliseconds per preview, and the same
figures against the frame's own render-and-save time; ``--record`` writes it to RESULTS.md.

    .venv/bin/python -m bench.bench_previews [--count 10] [--sizes 1920x1080,3840x2160] [--record]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BLENDER = shutil.which("blender") or "/usr/bin/blender"
PREVIEWS = ROOT / "renderplus" / "blender_scripts" / "previews.py"
FORMATS = {  # name: (file_format, extra image settings)
    "EXR half": ("OPEN_EXR", {"color_depth": "16", "exr_codec": "ZIP"}),
    "EXR multilayer": ("OPEN_EXR_MULTILAYER", {"color_depth": "16", "exr_codec": "ZIP"}),
    "TIFF 16-bit": ("TIFF", {"color_depth": "16"}),
    "TGA": ("TARGA", {}),
}

_SCRIPT = r"""
import bpy, importlib.util, json, os, sys, time
opts = json.loads(sys.argv[sys.argv.index("--") + 1])
spec = importlib.util.spec_from_file_location("renderplus_previews", opts["module"])
previews = importlib.util.module_from_spec(spec)
spec.loader.exec_module(previews)
scene = bpy.context.scene
scene.render.engine = "BLENDER_WORKBENCH"
scene.render.resolution_percentage = 100
results = []
for width, height in opts["sizes"]:
    scene.render.resolution_x, scene.render.resolution_y = width, height
    for name, (file_format, extra) in opts["formats"].items():
        settings = scene.render.image_settings
        settings.file_format = file_format
        for key, value in extra.items():
            setattr(settings, key, value)
        path = os.path.join(opts["out"], f"{width}x{height}_{file_format}_0001{scene.render.file_extension}")
        scene.render.filepath = path
        started = time.perf_counter()
        bpy.ops.render.render(write_still=True)
        render = time.perf_counter() - started
        times = []
        for _ in range(opts["count"] + 1):
            started = time.perf_counter()
            written = previews.write_preview(path, previews.scene_look(scene))
            times.append(time.perf_counter() - started)
            assert written and os.path.getsize(written) > 0, written
        results.append({"format": name, "size": f"{width}x{height}", "render": render,
                        "first": times[0], "times": times[1:],
                        "preview_bytes": os.path.getsize(written), "frame_bytes": os.path.getsize(path)})
print("BENCH " + json.dumps(results), flush=True)
"""


def run(count: int, sizes: list[tuple[int, int]]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="rp-bench-previews-") as out:
        opts = {"module": str(PREVIEWS), "out": out, "count": count, "sizes": sizes, "formats": FORMATS}
        result = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-expr", _SCRIPT, "--",
                                 json.dumps(opts)], capture_output=True, text=True, timeout=1800)
        for line in result.stdout.splitlines():
            if line.startswith("BENCH "):
                data: list[dict[str, Any]] = json.loads(line[6:])
                return data
        raise SystemExit(f"Blender printed no result (exit {result.returncode}):\n{result.stdout[-3000:]}"
                         f"\n{result.stderr[-3000:]}")


def table(results: list[dict[str, Any]], count: int) -> list[str]:
    version = subprocess.run([BLENDER, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    lines = [f"{version}, Workbench frames, a 320-pixel JPEG preview written {count} times each "
             "(`renderplus/blender_scripts/previews.py`: load, scale, save_render, rename); "
             f"load average at the end: {load} (2 shared cores). A multilayer EXR is saved whole as "
             "a JPEG first (Blender gives its pixels to save_render only), then scaled:", "",
             "| format | size | frame render+save | first preview | median | p90 | max "
             "| preview / frame bytes |",
             "|---|---|---|---|---|---|---|---|"]
    for item in results:
        times = sorted(item["times"])
        p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
        lines.append(f"| {item['format']} | {item['size']} | {item['render'] * 1000:.0f} ms | "
                     f"{item['first'] * 1000:.0f} ms | {statistics.median(times) * 1000:.0f} ms | "
                     f"{p90 * 1000:.0f} ms | {times[-1] * 1000:.0f} ms | "
                     f"{item['preview_bytes'] / 1024:.0f} KB / {item['frame_bytes'] / 1024:.0f} KB |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--sizes", default="1920x1080,3840x2160")
    parser.add_argument("--record", action="store_true", help="write the table to bench/RESULTS.md")
    args = parser.parse_args(argv)
    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    lines = table(run(args.count, [list(s) for s in sizes]), args.count)  # type: ignore[misc]
    print("\n".join(lines))
    if args.record:
        sys.path.insert(0, str(ROOT))
        from bench.results import record
        record("Dashboard previews: JPEG per frame (bench/bench_previews.py)", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
