"""What reading a thumbnail at once costs Blender's main thread, by format and size.

The N-panel reads a thumbnail synchronously (``renderplus/addon/thumbnails.py``: ``preview.image_size``
makes Blender read it now, in the calling thread) only when the source has at most
``SYNC_MAX_PIXELS``; larger frames wait for their job to finish. This measures that read inside
the real Blender 3.4 (background, same code path: ``bpy.utils.previews`` and Blender's thumbnail
cache), for frames written by Blender itself, each read ``--count`` times from a fresh copy (a
new path, so Blender's thumbnail cache never answers), after one untimed read of another image.
``--record`` writes RESULTS.md.

    .venv/bin/python -m bench.bench_thumbnails [--count 5] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BLENDER = shutil.which("blender") or "/usr/bin/blender"
CASES = [  # (label, file_format, width, height)
    ("JPEG (the size of the job's previews)", "JPEG", 320, 180),
    ("PNG", "PNG", 320, 180),
    ("PNG", "PNG", 1920, 1080),
    ("PNG", "PNG", 3840, 2160),
    ("JPEG", "JPEG", 1920, 1080),
    ("JPEG", "JPEG", 3840, 2160),
]

_SCRIPT = r"""
import bpy, bpy.utils.previews, json, os, random, shutil, sys, time
opts = json.loads(sys.argv[sys.argv.index("--") + 1])
collection = bpy.utils.previews.new()
warm = bpy.data.images.new("warm", 64, 64)  # the first read in a session loads Blender's image code
warm.filepath_raw, warm.file_format = os.path.join(opts["work"], "warm.png"), "PNG"
warm.save()
tuple(collection.load("warm", warm.filepath_raw, "IMAGE").image_size)
out = []
for label, file_format, width, height in opts["cases"]:
    image = bpy.data.images.new("frame", width, height)
    block = [random.random() for _ in range(4 * 97)]  # noise: what a render compresses like
    image.pixels.foreach_set((block * (width * height * 4 // len(block) + 1))[:width * height * 4])
    ext = ".png" if file_format == "PNG" else ".jpg"
    source = os.path.join(opts["work"], f"{file_format}-{width}{ext}")
    image.filepath_raw, image.file_format = source, file_format
    image.save()
    bpy.data.images.remove(image)
    times = []
    for n in range(opts["count"]):
        fresh = os.path.join(opts["work"], f"{file_format}-{width}-{n}{ext}")
        shutil.copy(source, fresh)
        started = time.perf_counter()
        preview = collection.load(fresh, fresh, "IMAGE")
        size = tuple(preview.image_size)
        times.append(time.perf_counter() - started)
    out.append({"label": label, "size": [width, height], "bytes": os.path.getsize(source),
                "times": times, "thumbnail": list(size)})
print("BENCH_THUMBNAILS " + json.dumps(out), flush=True)
"""


def measure(count: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="renderplus-bench-thumbs-") as work:
        script = Path(work, "bench.py")
        script.write_text(_SCRIPT)
        env = {**os.environ, "XDG_CACHE_HOME": str(Path(work, "cache"))}  # a cold thumbnail cache
        opts = {"cases": CASES, "count": count, "work": work}
        proc = subprocess.run([BLENDER, "-b", "--factory-startup", "--python", str(script), "--",
                               json.dumps(opts)], capture_output=True, text=True, env=env, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_THUMBNAILS "):
            result: list[dict[str, Any]] = json.loads(line.split(" ", 1)[1])
            return result
    raise RuntimeError(f"Blender printed no result (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
                       f"\n{proc.stderr[-2000:]}")


def table(results: list[dict[str, Any]]) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from renderplus.addon.image_header import SYNC_MAX_PIXELS

    rows = ["| source | size | file | median | max | read at once by the panel |",
            "|---|---|---:|---:|---:|---|"]
    for r in results:
        width, height = r["size"]
        at_once = "yes" if width * height <= SYNC_MAX_PIXELS else "no: after its job"
        times = r["times"]
        rows.append(f"| {r['label']} | {width}x{height} | {r['bytes'] // 1024} KB | "
                    f"{statistics.median(times) * 1000:.1f} ms | {max(times) * 1000:.1f} ms | {at_once} |")
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args(argv)
    rows = table(measure(args.count))
    print("\n".join(rows))
    if args.record:
        from bench.results import record

        record("Add-on: reading a thumbnail at once (bench/bench_thumbnails.py)", [
            f"`python3 -m bench.bench_thumbnails --count {args.count}`: Blender 3.4 (background), "
            "`bpy.utils.previews` load + `image_size` (Blender reads the file and scales it to its "
            "256-pixel preview, writing its thumbnail cache), each from a fresh copy of a frame "
            "Blender saved (noise pixels), a cold cache.", "", *rows, "",
            "The panel reads a thumbnail at once up to 1920x1088 pixels (`SYNC_MAX_PIXELS`); a "
            "larger frame shows its thumbnail when its job has finished, through Blender's preview "
            "job (one whole-window redraw, once).",
        ])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
