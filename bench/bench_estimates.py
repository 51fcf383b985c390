"""Estimates from history: how close a job's estimate comes to its real rendering time, before
its first frame and after 10 % of its frames, with the real Blender.

First a varied set of jobs renders to build the history: three tiny scenes (Cycles, EEVEE,
Workbench), each at two or three sizes and sample counts, 3 or 4 frames. Then *different* jobs
of the same scenes (other sizes, samples and frame counts, never rendered before) each render
as a batch of their own: before it starts, the job's estimate (``estimate_recipe`` on the
store); once 10 % of its frames are written, the poll's ETA added to the time spent so far.
The error is |predicted - real| / real, the real time being the job's rendering time (its
Blender's start-up included, as in the estimate). Median and worst of each.

It measures the Render+ of the folder it is run from (its ``renderplus`` and ``tests``).
Targets: median <= 20 % before the first frame, <= 10 % after 10 % of the frames.

Usage: python bench/bench_estimates.py [--json F] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TITLE = "Estimates from history (bench/bench_estimates.py)"

# scene: engine, the file's size and samples; history: (size, samples, frames); predicted too
SCENES: dict[str, dict[str, Any]] = {
    "cycles": {"engine": "CYCLES", "size": (96, 72), "samples": 16,
               "history": [((96, 72), 16, 4), ((160, 120), 32, 3), ((64, 48), 64, 3)],
               "predict": [((128, 96), 24, 20), ((200, 150), 16, 20), ((96, 72), 48, 20)]},
    "eevee": {"engine": "BLENDER_EEVEE", "size": (96, 72), "samples": 16,
              "history": [((96, 72), 16, 3), ((160, 120), 32, 3)],
              "predict": [((128, 96), 24, 20), ((200, 150), 8, 20)]},
    "workbench": {"engine": "BLENDER_WORKBENCH", "size": (128, 96), "samples": 1,
                  "history": [((128, 96), None, 4), ((256, 192), None, 3)],
                  "predict": [((192, 144), None, 20)]},
}


def main() -> None:  # noqa: C901 (one sitting: the history, then the predictions)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--no-record", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    sys.path.insert(0, str(Path.cwd()))  # the Render+ under measurement
    from renderplus.batch.estimate import estimate_recipe
    from renderplus.batch.options import RunOptions
    from renderplus.batch.recipe import parse_recipe
    from renderplus.batch.service import BatchService
    from renderplus.batch.store import BatchStore
    from renderplus.batch.view import BatchStatus, JobStatus
    from tests.blendfiles import make_blend

    work = Path(tempfile.mkdtemp(prefix="renderplus-bench-estimates-"))
    store = BatchStore.open(work / "work")
    service = BatchService(RunOptions(kill_grace=2.0), work_dir=work / "work", store=store)
    blends = {name: make_blend(work, engine=scene["engine"], size=scene["size"],
                               samples=scene["samples"] or 1, frames=20, name=name)
              for name, scene in SCENES.items()}
    counter = iter(range(10_000))

    def recipe_of(name: str, size: tuple[int, int], samples: int | None, frames: int) -> Any:
        index = next(counter)
        job: dict[str, Any] = {"id": 0, "name": f"{name}-{index}", "blend_file": str(blends[name]),
                               "animated": True, "frame_start": 1, "frame_end": frames,
                               "size": list(size), "output": str(work / "out" / f"{index}_####")}
        if samples is not None and SCENES[name]["engine"] == "CYCLES":
            job["cycles"] = {"samples": samples}
        elif samples is not None:  # EEVEE's samples, through a plain override
            job["custom_overrides"] = [{"enabled": True, "path": "eevee.taa_render_samples",
                                        "value": samples}]
        return parse_recipe({"version": 2.2, "name": f"bench {index}", "jobs": [job]})

    def render(recipe: Any, watch: Any = None) -> Any:
        service.load_recipe(recipe)
        batch = service.start()
        while batch.status not in (BatchStatus.FINISHED, BatchStatus.CANCELLED):
            if watch is not None:
                watch(batch.view())
            time.sleep(0.02)
        view = batch.view()
        if view.jobs[0].status is not JobStatus.FINISHED:
            raise SystemExit(f"{recipe.jobs[0].name} did not finish: {view.jobs[0].messages}")
        return view

    for name, scene in SCENES.items():
        for size, samples, frames in scene["history"]:
            render(recipe_of(name, size, samples, frames))
    rows = []
    for name, scene in SCENES.items():
        for size, samples, frames in scene["predict"]:
            recipe = recipe_of(name, size, samples, frames)
            before = estimate_recipe(recipe, store)[0]
            seen: dict[str, float] = {}

            def watch(view: Any, frames: int = frames, seen: dict[str, float] = seen) -> None:
                job = view.jobs[0]
                if "after" in seen or job.status is not JobStatus.RUNNING or job.eta is None:
                    return
                if job.frames_done >= max(1, frames // 10) and job.times.started is not None:
                    seen["after"] = time.time() - job.times.started + job.eta
            view = render(recipe, watch)
            real = view.jobs[0].times.rendertime
            row = {"job": f"{name} {size[0]}x{size[1]}"
                          f"{'' if samples is None else f' {samples} spp'} {frames} fr",
                   "real": real, "before": before.seconds if before else None,
                   "runs": before.runs if before else None, "after": seen.get("after")}
            rows.append(row)
            print(json.dumps(row), flush=True)
    service.shutdown(timeout=20)

    lines = report(rows)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows}, indent=2))
    if not args.no_record:
        from bench.results import record
        record(TITLE, lines)


def report(rows: list[dict[str, Any]]) -> list[str]:
    """The table and the summary lines for RESULTS.md."""
    def error(row: dict[str, Any], key: str) -> float | None:
        if row[key] is None or not row["real"]:
            return None
        return abs(row[key] - row["real"]) / row["real"]

    lines = ["| job (never rendered before) | real s | before its first frame | error | "
             "after 10 % of its frames | error |", "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        before, after = error(row, "before"), error(row, "after")
        lines.append(f"| {row['job']} | {row['real']:.2f} | "
                     f"{_num(row['before'])} ({row['runs']} runs) | {_pct(before)} | "
                     f"{_num(row['after'])} | {_pct(after)} |")
    summary: dict[str, Any] = {}
    for key in ("before", "after"):
        errors = [e for e in (error(row, key) for row in rows) if e is not None]
        summary[key] = {"median": statistics.median(errors) if errors else None,
                        "worst": max(errors) if errors else None, "known": len(errors),
                        "jobs": len(rows)}
    lines += ["", f"History: {sum(len(s['history']) for s in SCENES.values())} runs "
                  "(3 scenes: Cycles, EEVEE, Workbench; 2-3 sizes and sample counts each, 3-4 "
                  "frames). Predicted: other sizes, samples and 20 frames each.",
              f"- before the first frame: median error **{_pct(summary['before']['median'])}**, "
              f"worst {_pct(summary['before']['worst'])} (target: median <= 20 %)",
              f"- after 10 % of the frames: median error **{_pct(summary['after']['median'])}**, "
              f"worst {_pct(summary['after']['worst'])} (target: median <= 10 %)"]
    return lines


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


if __name__ == "__main__":
    main()
