"""Batch overhead with the session executor: N tiny jobs of one file through the runner in one
Blender session vs. the same N jobs as Blender commands in a shell loop.

The recipe names the Cycles engine, so the runner reuses one Blender session (docs/api.md,
settings ``session_reuse``); the shell loop runs each job's own ``blender -b`` command line, as
bench/bench_overhead.py does. Their ratio of medians is below 1 (the session starts Blender
once); what this watches is that it stays where it was. Also the dispatch gap: job i ended ->
job i+1 started, from the batch's own times.

It measures the Render+ of the folder it is run from (its ``renderplus`` and ``tests``), so
bench/side_by_side.py can run this one script in each commit's worktree, also in commits older
than the script. Figures go to ``--json`` (and bench/RESULTS.md only with ``--record``).

Usage: python bench/bench_session_overhead.py [--jobs 10] [--rounds 3] [--json F] [--record]
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TITLE = "Batch overhead with the session executor (bench/bench_session_overhead.py)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--record", action="store_true", help="write them into bench/RESULTS.md")
    args = parser.parse_args()
    sys.path.insert(0, str(Path.cwd()))  # the Render+ under measurement
    from renderplus.batch.command import build_argv, write_override_config
    from renderplus.batch.executors.session import SessionExecutor
    from renderplus.batch.recipe import parse_recipe
    from renderplus.batch.runner import Batch
    from tests.blendfiles import BLENDER, make_blend

    work = Path(tempfile.mkdtemp(prefix="renderplus-bench-session-"))
    blend = make_blend(work, engine="CYCLES", size=(64, 48), samples=4, frames=1)
    recipe = parse_recipe({"version": 2.2, "name": "bench", "blender_bin": BLENDER, "jobs": [
        {"id": i, "blend_file": str(blend), "output": str(work / f"out{i}"), "format": "PNG",
         "engine": "CYCLES"} for i in range(args.jobs)]})
    loop = []
    for job in recipe.jobs:
        config = work / f"job{job.id}.json"
        write_override_config(recipe, job, str(config))
        argv = build_argv(recipe, job, blender_bin=BLENDER, config_path=str(config))
        loop.append(shlex.join(argv) + " > /dev/null 2>&1")
    shell_script = work / "loop.sh"
    shell_script.write_text("\n".join(loop) + "\n")

    shell_times: list[float] = []
    session_times: list[float] = []
    gaps: list[float] = []
    subprocess.run(["bash", str(shell_script)], check=True)  # warm the page cache
    for _ in range(args.rounds):
        start = time.perf_counter()
        subprocess.run(["bash", str(shell_script)], check=True)
        shell_times.append(time.perf_counter() - start)
        batch = Batch(recipe)
        start = time.perf_counter()
        batch.run()
        session_times.append(time.perf_counter() - start)
        assert all(isinstance(e, SessionExecutor) for e in batch.executors.used)
        jobs = batch.snapshot()["jobs"]
        assert all(j["status"] == "FINISHED" for j in jobs), [j["messages"] for j in jobs]
        gaps += [jobs[i + 1]["process"]["started"] - jobs[i]["process"]["exited"]
                 for i in range(len(jobs) - 1)]
    ratio = statistics.median(session_times) / statistics.median(shell_times)
    figures = {"session runner / shell loop": ratio,
               "session runner, s": statistics.median(session_times),
               "session dispatch gap median, ms": statistics.median(gaps) * 1000,
               "session dispatch gap max, ms": max(gaps) * 1000}
    lines = [
        f"{args.jobs} tiny Cycles jobs of one file (64x48, 4 spp) in one Blender session, "
        f"{args.rounds} rounds, medians:",
        f"- shell loop (a process per job): {statistics.median(shell_times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in shell_times)})",
        f"- Render+ runner, session: {statistics.median(session_times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in session_times)})",
        f"- ratio session runner / shell: **{ratio:.3f}**",
        f"- dispatch gap (job i ended -> job i+1 started): median "
        f"{figures['session dispatch gap median, ms']:.1f} ms, "
        f"max {figures['session dispatch gap max, ms']:.1f} ms",
    ]
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(figures), encoding="utf-8")
    if args.record:
        from bench.results import record
        record(TITLE, lines)


if __name__ == "__main__":
    main()
