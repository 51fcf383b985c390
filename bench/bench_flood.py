"""Render+'s memory under a Blender that floods its output (target: under 100 MiB above idle).

    .venv/bin/python bench/bench_flood.py [--lines 5000000] [--frames 5] [--random-mb 0] [--log]

A stand-in for Blender prints ``--lines`` Cycles status lines spread over ``--frames`` frames
(each frame ends with its file, ``Saved:`` and the frame marker), as fast as Python writes; with
``--random-mb N`` it prints N MB of random bytes instead. The engine runs the batch in a child
process (the real runner, a store, the log with ``--log``) and reports its resident memory
when idle (everything imported and the batch built, just before it starts) and its peak
(``VmHWM``) at the end; the figure is the peak above idle. Nothing is written to RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FAKE_BLENDER = r'''#!{python}
import json, os, sys
argv = sys.argv[1:]
pattern = argv[argv.index("-o") + 1]
os.makedirs(os.path.dirname(pattern), exist_ok=True)
lines, frames, random_mb = {lines}, {frames}, {random_mb}
out = sys.stdout.buffer
if random_mb:
    left = random_mb * 1000 * 1000
    while left > 0:
        chunk = os.urandom(min(left, 1 << 20))
        out.write(chunk)
        left -= len(chunk)
    out.write(b"\n")
per_frame = lines // frames
for frame in range(1, frames + 1):
    for sample in range(0 if random_mb else per_frame):
        out.write(b"Fra:%d Mem:12.55M (Peak 12.55M) | Time:00:00.01 | Remaining:00:00.10 | "
                  b"Mem:3.39M, Peak:3.39M | Scene, ViewLayer | Sample %d/%d\n"
                  % (frame, sample, per_frame))
    path = pattern.replace("####", "%04d" % frame) + ".png"
    with open(path, "wb") as frame_file:
        frame_file.write(b"frame")
    out.write(b"Saved: '%s'\n" % path.encode())
    marker = json.dumps({{"event": "frame", "frame": frame, "path": path}})
    out.write(b"RENDERPLUS> " + marker.encode() + b"\n")
out.flush()
'''


def memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(folder: Path, frames: int, log: bool) -> None:
    sys.path.insert(0, str(ROOT))
    from renderplus.batch.recipe import parse_recipe
    from renderplus.batch.runner import Batch, RunOptions
    from renderplus.batch.store import BatchStore

    blend = folder / "scene.blend"
    blend.write_bytes(b"stand-in")
    recipe = parse_recipe({"version": 2.2, "name": "flood", "blender_bin": str(folder / "blender"),
                           "jobs": [{"id": 0, "name": "flood", "blend_file": str(blend),
                                     "animated": True, "frame_start": 1, "frame_end": frames,
                                     "output": str(folder / "out" / "f_####")}]})
    store = BatchStore.open(folder / "work")
    batch = Batch(recipe, RunOptions(write_log=log, log_dir=str(folder / "log")), store=store)
    idle = memory_kib("VmRSS")
    started = time.monotonic()
    status = batch.run()
    view = batch.view()
    loop = batch.lifecycle.loop
    high_water = getattr(getattr(loop, "_events", None), "high_water", None)
    print(json.dumps({"idle_kib": idle, "peak_kib": memory_kib("VmHWM"), "status": str(status),
                      "job": str(view.jobs[0].status), "frames_done": view.jobs[0].frames_done,
                      "seconds": round(time.monotonic() - started, 1), "high_water": high_water,
                      "log_bytes": batch.log.path.stat().st_size if batch.log.path else None}))
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--random-mb", type=int, default=0)
    parser.add_argument("--log", action="store_true", help="write the batch log (--write-log)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child), args.frames, args.log)
        return
    with tempfile.TemporaryDirectory(prefix="bench-flood-") as name:
        folder = Path(name)
        fake = folder / "blender"
        fake.write_text(FAKE_BLENDER.format(python=sys.executable, lines=args.lines,
                                            frames=args.frames, random_mb=args.random_mb))
        fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
        command = [sys.executable, __file__, "--child", str(folder), "--frames", str(args.frames)]
        done = subprocess.run([*command, *(["--log"] if args.log else [])], capture_output=True,
                              text=True, check=False, env={**os.environ, "TMPDIR": str(folder)})
        if done.returncode != 0:
            sys.exit(f"the engine process failed:\n{done.stderr}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
    what = f"{args.random_mb} MB of random bytes" if args.random_mb else f"{args.lines:,} status lines"
    above = (result["peak_kib"] - result["idle_kib"]) / 1024
    print(f"{what}, {args.frames} frames, log {'on' if args.log else 'off'}: "
          f"idle {result['idle_kib'] / 1024:.1f} MiB, peak {result['peak_kib'] / 1024:.1f} MiB, "
          f"peak above idle {above:.1f} MiB; job {result['job']}, {result['frames_done']} frames, "
          f"{result['seconds']} s, queue high-water {result['high_water']}, "
          f"log {result['log_bytes']} bytes")


if __name__ == "__main__":
    main()
