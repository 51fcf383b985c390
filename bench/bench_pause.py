"""Pause "now": time from ``Batch.pause("now")`` until no Blender of the batch runs (target
< 1 s), with the real Blender, for a process per job, a Blender session and two parallel slots.

Each round starts a batch of two 6-frame jobs of a tiny Cycles scene, waits until a frame is
written (so Blender is in the middle of rendering), asks the pause and polls /proc every 5 ms
until no process of the batch is left: none with the round's own .blend on its command line
and none in the process groups the batch recorded. Also the time until the batch says PAUSED
(its idle sessions ended, the store written, ``BatchPaused`` sent). Then the paused batch is
cancelled. Median and worst per executor.

It measures the Render+ of the folder it is run from (its ``renderplus`` and ``tests``).
Figures go to stdout and to ``--json``.

Usage: python bench/bench_pause.py [--rounds 5] [--json F]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TITLE = "Pause now until no Blender runs (bench/bench_pause.py)"
EXECUTORS: dict[str, dict[str, Any]] = {
    "process per job": {"session_reuse": False},
    "session": {"session_reuse": True},
    "two slots": {"parallel": 2},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(Path.cwd()))  # the Render+ under measurement
    from renderplus.batch.recipe import parse_recipe
    from renderplus.batch.runner import Batch
    from tests.blendfiles import make_blend
    from tests.procs import pids_in_group, processes_with

    work = Path(tempfile.mkdtemp(prefix="renderplus-bench-pause-"))
    source = make_blend(work, size=(96, 72), samples=100, frames=6)

    def one_round(settings: dict[str, Any], index: int) -> tuple[float, float]:
        folder = work / f"round{index}"
        folder.mkdir()
        blend = Path(shutil.copy(source, folder / "scene.blend"))
        recipe = parse_recipe({"version": 2.2, "name": "bench", "settings": settings, "jobs": [
            {"id": i, "blend_file": str(blend), "output": str(folder / f"j{i}_"), "animated": True,
             "frame_start": 1, "frame_end": 6} for i in range(2)]})
        batch = Batch(recipe)
        batch.start()
        slots = settings.get("parallel", 1)
        while not (len(batch.view().running_jobs) == slots
                   and all(batch.view().job(j).frames_done for j in batch.view().running_jobs)):
            if batch.wait(0.01):
                raise SystemExit("the batch ended before it could be paused")
        groups = [h.pgid for j in range(2) if (h := batch.handle(j)) is not None and h.pgid]

        def blenders() -> bool:
            return bool(processes_with(str(blend))
                        or any(pids_in_group(pgid) for pgid in groups))
        asked = time.perf_counter()
        assert batch.pause("now")
        gone = paused = None
        while gone is None or paused is None:
            now = time.perf_counter()
            if gone is None and not blenders():
                gone = now - asked
            if paused is None and batch.view().paused:
                paused = now - asked
            time.sleep(0.005)
        batch.cancel()
        batch.wait(30)
        return gone, paused

    results: dict[str, Any] = {"title": TITLE, "rounds": args.rounds, "executors": {}}
    print(TITLE)
    for name, settings in EXECUTORS.items():
        runs = [one_round(settings, len(list(work.glob("round*")))) for _ in range(args.rounds)]
        gone = [run[0] for run in runs]
        paused = [run[1] for run in runs]
        results["executors"][name] = {
            "no_blender_median_s": round(statistics.median(gone), 3),
            "no_blender_worst_s": round(max(gone), 3),
            "paused_median_s": round(statistics.median(paused), 3),
            "paused_worst_s": round(max(paused), 3),
        }
        print(f"  {name:16} no Blender after {statistics.median(gone):.3f} s median "
              f"({max(gone):.3f} s worst); PAUSED after {statistics.median(paused):.3f} s median "
              f"({max(paused):.3f} s worst), {args.rounds} rounds")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
