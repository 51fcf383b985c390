"""What the RSS feed costs a batch: the runner thread's share and the writer thread's.

``BatchWatchers.job_changed`` runs in the runner thread between two jobs, so it counts against
the dispatch gap (the target: under 50 ms); the feed itself is written by a writer thread. For
batches of 10, 100 and 1,000 jobs this measures the median time of a ``job_changed`` call, the
time to write the whole feed from scratch, and the time of a rewrite after one job changed
(unchanged jobs' text is reused).

    .venv/bin/python bench/bench_around.py [--repeat 30] [--no-record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from renderplus.around import BatchWatchers  # noqa: E402
from renderplus.around.rss import FeedWriter  # noqa: E402
from renderplus.batch.view import BatchView  # noqa: E402
from tests.around.views import batch_view, job_view, recipe_with  # noqa: E402

SIZES = (10, 100, 1000)


def snapshots(jobs: int, steps: int) -> list[BatchView]:
    """``steps`` successive views of a ``jobs``-job batch, one job changing at a time."""
    result = []
    for step in range(steps):
        entries = [job_view(i, "FINISHED" if i < step else "RUNNING" if i == step else "QUEUED",
                            name=f"Shot {i}", rendertime=3.0, engine="CYCLES",
                            data={"frame": "1", "mem": "120M", "samples_done": "12"})
                   for i in range(jobs)]
        result.append(batch_view(entries, eta=600.0))
    return result


def measure(jobs: int, repeat: int, folder: Path) -> dict[str, float]:
    steps = snapshots(jobs, repeat)
    feed = folder / f"feed-{jobs}.rss"
    recipe = recipe_with(jobs=jobs, settings={"rss": {"enabled": True, "path": str(feed)}})
    watchers = BatchWatchers(recipe, lambda message: None)
    calls = []
    for snapshot in steps:
        start = time.perf_counter()
        watchers.job_changed(snapshot)
        calls.append(time.perf_counter() - start)
    watchers.close()

    fresh, cached = [], []
    for index, snapshot in enumerate(steps):
        writer = FeedWriter(str(feed))
        start = time.perf_counter()
        writer.write(steps[index - 1])
        fresh.append(time.perf_counter() - start)
        start = time.perf_counter()
        writer.write(snapshot)
        cached.append(time.perf_counter() - start)
    return {"call": statistics.median(calls) * 1000, "fresh": statistics.median(fresh) * 1000,
            "cached": statistics.median(cached) * 1000,
            "size": feed.stat().st_size / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)
    lines = ["| jobs | job_changed (runner thread) | feed write, fresh | feed rewrite, one job changed "
             "| feed size |", "|---:|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as folder:
        for jobs in SIZES:
            m = measure(jobs, args.repeat, Path(folder))
            lines.append(f"| {jobs} | {m['call']:.3f} ms | {m['fresh']:.1f} ms | "
                         f"{m['cached']:.1f} ms | {m['size']:.0f} KiB |")
    lines.append("")
    lines.append(f"Medians of {args.repeat} changes. Target: job_changed well under the 50 ms "
                 "dispatch gap; the writes happen on the writer thread.")
    print("\n".join(lines))
    if not args.no_record:
        record("Around the batch: RSS feed cost (bench/bench_around.py)", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
