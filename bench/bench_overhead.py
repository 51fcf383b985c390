"""Batch overhead: N tiny jobs through the runner vs. the same N Blender commands in a shell loop.

Both sides run exactly the same argv (the runner's own command lines, override script included),
alternately, several rounds; the ratio of medians is the cost of Render+ itself (target <= 1.03).
Also reports the dispatch gap: job i finished -> job i+1 started, from the batch's own times,
and the same runner with the durable store on (every state change and frame written to SQLite).

Usage: python bench/bench_overhead.py [--jobs 10] [--rounds 3]
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
from renderplus.batch.store import BatchStore  # noqa: E402
from tests.blendfiles import BLENDER, make_blend  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="renderplus-bench-"))
    blend = make_blend(work, engine="CYCLES", size=(64, 48), samples=4, frames=1)
    recipe = parse_recipe({"version": 2.2, "name": "bench", "blender_bin": BLENDER, "jobs": [
        {"id": i, "blend_file": str(blend), "output": str(work / f"out{i}"), "format": "PNG"}
        for i in range(args.jobs)]})
    loop = []
    for job in recipe.jobs:
        config = work / f"job{job.id}.json"
        write_override_config(recipe, job, str(config))
        argv = build_argv(recipe, job, blender_bin=BLENDER, config_path=str(config))
        loop.append(shlex.join(argv) + " > /dev/null 2>&1")
    shell_script = work / "loop.sh"
    shell_script.write_text("\n".join(loop) + "\n")

    shell_times: list[float] = []
    runner_times: list[float] = []
    stored_times: list[float] = []
    gaps: list[float] = []
    stored_gaps: list[float] = []
    store = BatchStore.open(work / "store")
    subprocess.run(["bash", str(shell_script)], check=True)  # warm the page cache
    for _ in range(args.rounds):
        start = time.perf_counter()
        subprocess.run(["bash", str(shell_script)], check=True)
        shell_times.append(time.perf_counter() - start)
        for times, gap_list, batch in ((runner_times, gaps, Batch(recipe)),
                                       (stored_times, stored_gaps, Batch(recipe, store=store))):
            start = time.perf_counter()
            batch.run()
            times.append(time.perf_counter() - start)
            jobs = batch.snapshot()["jobs"]
            assert all(j["status"] == "FINISHED" for j in jobs), [j["messages"] for j in jobs]
            gap_list += [jobs[i + 1]["process"]["started"] - jobs[i]["process"]["exited"]
                         for i in range(len(jobs) - 1)]
    ratio = statistics.median(runner_times) / statistics.median(shell_times)
    stored_ratio = statistics.median(stored_times) / statistics.median(shell_times)
    lines = [
        f"{args.jobs} tiny Cycles jobs (64x48, 4 spp), {args.rounds} rounds, medians:",
        f"- shell loop: {statistics.median(shell_times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in shell_times)})",
        f"- Render+ runner: {statistics.median(runner_times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in runner_times)})",
        f"- ratio runner / shell: **{ratio:.3f}** (target <= 1.03)",
        f"- dispatch gap (job i's Blender exited -> job i+1's Blender started): median "
        f"{statistics.median(gaps) * 1000:.1f} ms, max {max(gaps) * 1000:.1f} ms (target < 50 ms)",
        f"- Render+ runner with the durable store on: {statistics.median(stored_times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in stored_times)}); ratio / shell: "
        f"**{stored_ratio:.3f}**; dispatch gap median {statistics.median(stored_gaps) * 1000:.1f} ms, "
        f"max {max(stored_gaps) * 1000:.1f} ms",
        "(one slot, a process per job: the recipe names no engine, so no session reuse)",
    ]
    print("\n".join(lines))
    record("Batch overhead (bench/bench_overhead.py)", lines)


if __name__ == "__main__":
    main()
