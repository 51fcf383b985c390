"""What checking frames whole (settings key ``validate``) costs a batch, with the real Blender 3.4.

One job of ``--frames`` frames of a small Cycles scene, rendered as PNG and as multilayer EXR, in
three ways, ``--runs`` times each, interleaved (so that the load of a shared machine falls on
all of them alike):

- unchecked: the frame checker answers "whole" without reading anything (Render+ before
  ``validate``: only the trailer check at the job's end);
- default: a recipe without ``validate`` (the structural check of every frame, pure Python);
- validate: ``{"decode": true, "black": true}`` (the structural check, then every frame decoded
  by the frame reader, a helper Blender, and judged for black and NaN).

Prints the median batch time of each and its ratio to unchecked (target: a few percent), and the
cost of one check of a 1080p frame of each format (the structural check in Render+'s Python,
the reader's decode with black and NaN judged), medians of ``--count``.

Usage: python bench/bench_validate.py [--frames 24] [--size 960x540] [--samples 8] [--runs 3]
       [--count 10] [--record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from renderplus.batch import jobloop  # noqa: E402
from renderplus.batch.frame_checker import FrameChecks  # noqa: E402
from renderplus.batch.frame_reader import FrameReader  # noqa: E402
from renderplus.batch.preflight.binary import blender_version  # noqa: E402
from renderplus.batch.recipe import parse_recipe  # noqa: E402
from renderplus.batch.runner import Batch  # noqa: E402
from renderplus.blender_scripts.frame_checks import check_settled  # noqa: E402
from tests.blendfiles import BLENDER, make_blend  # noqa: E402

FORMATS = (("PNG", "PNG"), ("OPEN_EXR_MULTILAYER", "multilayer EXR"))
MODES = ("unchecked", "default", "validate")


class Unchecked(FrameChecks):
    """Every frame answered whole at once, nothing read (the batch as before ``validate``)."""

    def __init__(self, sink: Any, env: Any = None, **_: Any) -> None:
        super().__init__(sink, env, check=lambda path: None)


def batch_seconds(blend: Path, out: Path, fmt: str, mode: str) -> tuple[float, float]:
    """(the batch's seconds, the job's tail: its Blender's exit to FINISHED)."""
    job = {"id": 0, "name": "bench", "blend_file": str(blend), "output": str(out / "f_####"),
           "format": fmt, "animated": True}
    settings: dict[str, Any] = {}
    if mode == "validate":
        settings["validate"] = {"decode": True, "black": True}
    recipe = parse_recipe({"version": 2.2, "name": "bench", "jobs": [job], "settings": settings})
    jobloop.FrameChecks = Unchecked if mode == "unchecked" else FrameChecks  # type: ignore[misc]
    try:
        started = time.perf_counter()
        batch = Batch(recipe)
        status = batch.run()
        seconds = time.perf_counter() - started
    finally:
        jobloop.FrameChecks = FrameChecks  # type: ignore[misc]
    view = batch.view().job(0)
    if status != "FINISHED" or view.status != "FINISHED":
        raise SystemExit(f"{mode} {fmt}: {status} {view.messages}")
    assert view.process.exited is not None and view.times.finished is not None
    return seconds, view.times.finished - view.process.exited


def check_costs(folder: Path, count: int) -> list[tuple[str, float, float, int]]:
    """(format, structural ms, reader ms, bytes) for one 1080p frame of each format."""
    blend = make_blend(folder, size=(1920, 1080), samples=1, frames=1, name="full_hd.blend")
    rows = []
    reader = FrameReader(BLENDER)
    try:
        for fmt, label in FORMATS:
            out = folder / f"hd_{fmt}"
            recipe = parse_recipe({"version": 2.2, "name": "hd", "jobs": [
                {"id": 0, "blend_file": str(blend), "output": str(out / "f_####"), "format": fmt}]})
            Batch(recipe).run()
            frame = next(p for p in out.iterdir() if p.is_file())
            pure, read = [], []
            reader.request("check", frame=str(frame), black=True, nan=True)   # warm-up
            for _ in range(count):
                started = time.perf_counter()
                assert check_settled(str(frame)) is None
                pure.append(time.perf_counter() - started)
                started = time.perf_counter()
                answer = reader.request("check", frame=str(frame), black=True, nan=True)
                read.append(time.perf_counter() - started)
                assert answer.get("problem") is None, answer
            rows.append((label, statistics.median(pure) * 1000, statistics.median(read) * 1000,
                         frame.stat().st_size))
    finally:
        reader.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", default="960x540")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="rp-bench-validate-") as tmp:
        folder = Path(tmp)
        blend = make_blend(folder, size=(width, height), samples=args.samples, frames=args.frames,
                           name="bench.blend")
        times: dict[tuple[str, str], list[float]] = {}
        tails: dict[tuple[str, str], list[float]] = {}
        for run in range(args.runs):
            for fmt, _ in FORMATS:
                for mode in MODES:
                    out = folder / f"{fmt}-{mode}-{run}"
                    seconds, tail = batch_seconds(blend, out, fmt, mode)
                    times.setdefault((fmt, mode), []).append(seconds)
                    tails.setdefault((fmt, mode), []).append(tail)
                    print(f"run {run + 1} {fmt} {mode}: {seconds:.2f} s, tail {tail * 1000:.0f} ms",
                          flush=True)
        costs = check_costs(folder, args.count)
    lines = [f"One job of {args.frames} frames, {width}x{height}, Cycles {args.samples} spp, "
             f"Blender {blender_version(BLENDER)[0]}; {args.runs} runs of each, interleaved; "
             "seconds per batch, median (runs):", "",
             "| frames | unchecked | default (structural) | ratio | validate decode+black | ratio |",
             "|---|---:|---:|---:|---:|---:|"]
    for fmt, label in FORMATS:
        base = statistics.median(times[(fmt, "unchecked")])
        cells = [f"{base:.2f} ({', '.join(f'{t:.2f}' for t in times[(fmt, 'unchecked')])})"]
        for mode in ("default", "validate"):
            median = statistics.median(times[(fmt, mode)])
            cells += [f"{median:.2f} ({', '.join(f'{t:.2f}' for t in times[(fmt, mode)])})",
                      f"**{median / base:.3f}**"]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "The job's tail, its Blender's exit to FINISHED (the last frame's check waited for), "
                  "median ms:", "", "| frames | unchecked | default | validate |", "|---|---:|---:|---:|"]
    for fmt, label in FORMATS:
        lines.append(f"| {label} | " + " | ".join(
            f"{statistics.median(tails[(fmt, mode)]) * 1000:.0f}" for mode in MODES) + " |")
    lines += ["", f"One check of a 1920x1080 frame, median of {args.count} (ms):", "",
              "| frame | bytes | structural check (Render+'s Python) | reader decode, black + NaN |",
              "|---|---:|---:|---:|"]
    lines += [f"| {label} | {size:,} | {pure:.1f} | {read:.1f} |" for label, pure, read, size in costs]
    lines += ["", "The checks run on their own thread while Blender renders the next frame; only the "
                  "last frame's check is waited for before the job is FINISHED. Target: a few percent."]
    print("\n".join(lines))
    if args.record:
        record("Frames checked whole: batch overhead (bench/bench_validate.py)", lines)


if __name__ == "__main__":
    main()
