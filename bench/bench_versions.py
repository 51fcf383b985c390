"""The batch's overhead on every Blender version the suite has: N tiny Cycles stills (one file,
N cameras) as a bare shell loop of Render+'s own command lines, through Render+ with a process
per job, and through Render+ with one Blender session for them; side by side, alternating, per
version. Ratios against that version's bare loop (Render+ per process: target <= 1.03).

The Blenders: Debian's 3.4 (``blender`` on PATH) and those of ``$RENDERPLUS_TEST_BLENDERS``, or
of ``scripts/blenders.sh`` when that is unset.

Usage: python bench/bench_versions.py [--jobs 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
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
from renderplus.batch.preflight.binary import blender_version  # noqa: E402
from renderplus.batch.recipe import Recipe, parse_recipe  # noqa: E402
from renderplus.batch.runner import Batch, RunOptions  # noqa: E402
from tests.blendfiles import BLENDER, make_blend  # noqa: E402


def blenders() -> list[tuple[str, str]]:
    """(version, path) of each Blender to measure, oldest first."""
    listed = os.environ.get("RENDERPLUS_TEST_BLENDERS")
    if listed is None:
        listed = subprocess.run([str(ROOT / "scripts" / "blenders.sh"), "--paths"], check=True,
                                capture_output=True, text=True).stdout.strip()
    found = []
    for path in [BLENDER, *filter(None, listed.split(os.pathsep))]:
        version, why = blender_version(path)
        if version is None:
            raise SystemExit(why)
        found.append((version, path))
    return sorted(found, key=lambda item: tuple(int(p) for p in item[0].split(".")))


def recipe_for(blend: Path, out: Path, jobs: int, binary: str, session: bool) -> Recipe:
    return parse_recipe({"version": 2.2, "name": "bench", "blender_bin": binary,
                         "settings": {"session_reuse": session}, "jobs": [
                             {"id": i, "blend_file": str(blend), "camera": f"Cam{i}",
                              "engine": "CYCLES", "output": str(out / f"job{i}_"), "format": "PNG"}
                             for i in range(jobs)]})


def shell_loop(recipe: Recipe, binary: str, work: Path) -> Path:
    lines = []
    for job in recipe.jobs:
        config = work / f"job{job.id}.json"
        write_override_config(recipe, job, str(config))
        lines.append(shlex.join(build_argv(recipe, job, blender_bin=binary, config_path=str(config)))
                     + " > /dev/null 2>&1")
    script = work / "loop.sh"
    script.write_text("\n".join(lines) + "\n")
    return script


def timed_batch(recipe: Recipe) -> float:
    start = time.perf_counter()
    batch = Batch(recipe, RunOptions())
    batch.run()
    took = time.perf_counter() - start
    jobs = batch.snapshot()["jobs"]
    assert all(j["status"] == "FINISHED" for j in jobs), [j["messages"] for j in jobs]
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="renderplus-bench-versions-"))
    blend = make_blend(work, engine="CYCLES", size=(64, 48), samples=4, frames=1,
                       extra_cameras=tuple(f"Cam{i}" for i in range(args.jobs)))
    lines = [f"{args.jobs} tiny Cycles stills (64x48, 4 spp) of one 3.4-made file, a camera each; "
             f"{args.rounds} rounds, alternating; medians in seconds:", "",
             "| Blender | bare `blender -b` loop | Render+, a process per job | / bare | "
             "Render+, one session | / bare |", "|---|---:|---:|---:|---:|---:|"]
    for version, binary in blenders():
        out = work / version
        per_process = recipe_for(blend, out, args.jobs, binary, session=False)
        in_session = recipe_for(blend, out, args.jobs, binary, session=True)
        script = shell_loop(per_process, binary, work)
        subprocess.run(["bash", str(script)], check=True)   # warm the page cache and the kernels
        bare, process, session = [], [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            subprocess.run(["bash", str(script)], check=True)
            bare.append(time.perf_counter() - start)
            process.append(timed_batch(per_process))
            session.append(timed_batch(in_session))
        b, p, s = (statistics.median(times) for times in (bare, process, session))
        lines.append(f"| {version} | {b:.2f} | {p:.2f} | **{p / b:.3f}** | {s:.2f} | **{s / b:.3f}** |")
        print(lines[-1], flush=True)
    lines += ["", "4.3 and 5.2 run through the bubblewrap launcher `scripts/blenders.sh` makes (its "
              "start is in every figure of theirs, the bare loop's too)."]
    print("\n".join(lines))
    record("Every Blender version: overhead and session reuse (bench/bench_versions.py)", lines)


if __name__ == "__main__":
    main()
