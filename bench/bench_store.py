"""The cost of one durable state change in the batch store, with synchronous NORMAL vs FULL.

    .venv/bin/python bench/bench_store.py [--count 3000] [--dir FOLDER]

Times, per call on a real SQLite file in WAL mode: ``update_job`` (a status, a message list
and the attempts: what the runner writes on each job event), ``add_frame`` (one verified
frame) and both in one ``transaction()`` (a frame and the job's fields together, as the runner
records a written frame). Prints a markdown table of median, p99 and max in milliseconds; the
target is well under the runner's 50 ms dispatch gap. ``--dir`` picks the disk (default: the
temp folder); the store must be on a local filesystem, like the real one.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from renderplus.batch.store import BatchStore, NewJob, Owner, filesystem_type  # noqa: E402
from renderplus.batch.view import JobStatus  # noqa: E402

JOBS = 100


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(count: int, action: Callable[[int], None]) -> list[float]:
    """Milliseconds of each of ``count`` calls of ``action(i)``."""
    times = []
    for i in range(count):
        start = time.perf_counter()
        action(i)
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(folder: Path, synchronous: str, count: int) -> dict[str, list[float]]:
    store = BatchStore.open(folder, synchronous=synchronous)
    try:
        batch_id = store.create_batch("bench", "{}", str(folder), Owner.current(),
                                      [NewJob(j, f"job{j}", "/shots/a.blend") for j in range(JOBS)])
        statuses = (JobStatus.RUNNING, JobStatus.FINISHED)

        def update(i: int) -> None:
            store.update_job(batch_id, i % JOBS, status=statuses[i % 2], attempts=i,
                             messages=[f"message {n} of change {i}" for n in range(5)])

        def frame(i: int) -> None:
            store.add_frame(batch_id, i % JOBS, i, f"/renders/shot/frame_{i:06d}.png",
                            1_500_000 + i, time.time_ns(), 1000 + i)

        def both(i: int) -> None:
            with store.transaction():
                frame(count + i)
                store.update_job(batch_id, i % JOBS, attempts=i, rendertime=float(i))

        return {"update_job": timed(count, update), "add_frame": timed(count, frame),
                "add_frame + update_job (one transaction)": timed(count, both)}
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="calls of each kind (default 3000)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()),
                        help="folder whose disk to measure (default: the temp folder)")
    args = parser.parse_args()
    print(f"{args.count} calls each; store on {args.dir} ({filesystem_type(args.dir) or 'unknown'}); "
          f"WAL mode\n")
    print("| synchronous | call | median ms | p99 ms | max ms | mean ms |")
    print("|---|---|---:|---:|---:|---:|")
    for synchronous in ("NORMAL", "FULL"):
        folder = Path(tempfile.mkdtemp(prefix="renderplus-bench-store-", dir=args.dir))
        try:
            results = measure(folder, synchronous, args.count)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        for call, times in results.items():
            print(f"| {synchronous} | {call} | {statistics.median(times):.3f} | "
                  f"{percentile(times, 0.99):.3f} | {max(times):.3f} | "
                  f"{statistics.fmean(times):.3f} |")


if __name__ == "__main__":
    main()
