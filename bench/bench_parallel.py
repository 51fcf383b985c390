"""Parallel slots: 6 tiny jobs in 2 slots on this machine vs the bare ``blender -b`` shell loop
of the same command lines (issue 11, target <= 0.65), medians of several rounds side by side.

Usage: python bench/bench_parallel.py [--jobs 6] [--rounds 3] [--record]
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from renderplus.batch.command import build_argv, write_override_config  # noqa: E402
from renderplus.batch.recipe import parse_recipe  # noqa: E402
from renderplus.batch.runner import Batch  # noqa: E402
from renderplus.batch.slots import cpu_count  # noqa: E402
from tests.blendfiles import BLENDER, make_blend  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="renderplus-bench-parallel-"))
    blend = make_blend(work, engine="CYCLES", size=(64, 48), samples=4, frames=1)
    jobs = [{"id": i, "blend_file": str(blend), "output": str(work / f"out{i}_"), "format": "PNG"}
            for i in range(args.jobs)]
    serial = parse_recipe({"version": 2.2, "name": "bare", "blender_bin": BLENDER, "jobs": jobs})
    parallel = parse_recipe({"version": 2.2, "name": "slots", "blender_bin": BLENDER,
                             "settings": {"parallel": 2}, "jobs": jobs})
    loop = []
    for job in serial.jobs:
        config = work / f"job{job.id}.json"
        write_override_config(serial, job, str(config))
        loop.append(shlex.join(build_argv(serial, job, blender_bin=BLENDER, config_path=str(config)))
                    + " > /dev/null 2>&1")
    script = work / "loop.sh"
    script.write_text("\n".join(loop) + "\n")
    subprocess.run(["bash", str(script)], check=True)  # warm the page cache
    bare, slots = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        subprocess.run(["bash", str(script)], check=True)
        bare.append(time.perf_counter() - start)
        batch = Batch(parallel)
        start = time.perf_counter()
        batch.run()
        slots.append(time.perf_counter() - start)
        assert all(job.status == "FINISHED" for job in batch.view().jobs)
    ratio = statistics.median(slots) / statistics.median(bare)
    lines = [
        f"{args.jobs} tiny Cycles stills (64x48, 4 spp), {cpu_count()} cores, {args.rounds} rounds, medians:",
        f"- bare shell loop: {statistics.median(bare):.2f} s (runs: {', '.join(f'{t:.2f}' for t in bare)})",
        f"- Render+ with 2 slots (-t {max(1, cpu_count() // 2)} each): {statistics.median(slots):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in slots)})",
        f"- ratio 2 slots / bare loop: **{ratio:.3f}** (target <= 0.65)",
    ]
    print("\n".join(lines))
    if args.record:
        record("Parallel slots (bench/bench_parallel.py)", lines)


if __name__ == "__main__":
    main()
