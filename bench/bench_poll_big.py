"""The poll of a huge recipe: 10,000 jobs whose frames span Blender's whole range (issue 9:
frames are ranges, never lists; target well under 50 ms). Measures the parse, the first poll
(every job's view built, the JSON encoded), a poll while one job changes, and a cached poll.

Usage: python bench/bench_poll_big.py [--jobs 10000] [--record]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from renderplus.batch.recipe import parse_recipe  # noqa: E402
from renderplus.batch.service import BatchService  # noqa: E402


def timed(action: object, rounds: int = 7) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    text = json.dumps({"version": 2.2, "name": "huge", "jobs": [
        {"id": i, "name": f"shot{i}", "blend_file": "/nowhere/x.blend", "animated": True,
         "frame_start": 0, "frame_end": 1_048_574} for i in range(args.jobs)]})
    parse_ms, _ = timed(lambda: parse_recipe(text), rounds=3)
    recipe = parse_recipe(text)

    def first_poll() -> bytes:
        service = BatchService()
        service.load_recipe(recipe)
        view = service.view()
        assert view is not None
        return view.json_bytes

    first_ms, first_best = timed(first_poll, rounds=5)
    service = BatchService()
    service.load_recipe(recipe)
    batch = service.shown
    assert batch is not None
    body = batch.view().json_bytes

    state: Any = getattr(batch, "state", batch)  # the composed engine keeps its state apart

    def changed_poll() -> bytes:
        (state.jobs if hasattr(state, "jobs") else state._jobs)[3].revision += 1  # one job changed
        (state.changed if hasattr(state, "changed") else state._changed)()
        return batch.view().json_bytes

    changed_ms, changed_best = timed(changed_poll, rounds=21)
    cached_ms, _ = timed(lambda: batch.view().json_bytes, rounds=101)
    lines = [
        f"{args.jobs:,} jobs, each frames 0-1,048,574 ({args.jobs * 1_048_575:,} frames), poll body "
        f"{len(body) / 1e6:.1f} MB; medians:",
        f"- parse the recipe: {parse_ms:.0f} ms",
        f"- first poll (every job's view built and encoded): {first_ms:.1f} ms (best {first_best:.1f})",
        f"- poll after one job changed (one job's view rebuilt, the JSON joined again): "
        f"{changed_ms:.1f} ms (best {changed_best:.1f})",
        f"- poll with nothing changed (cached bytes): {cached_ms:.3f} ms",
        "Before (1.0: frames expanded to lists per poll): 13.6 s for 100 such jobs.",
    ]
    print("\n".join(lines))
    if args.record:
        record("Poll of a 10,000-job whole-range recipe (bench/bench_poll_big.py)", lines)


if __name__ == "__main__":
    main()
