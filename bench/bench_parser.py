"""Parser throughput: how many Blender stdout lines a second ``JobProgress.feed`` takes.

Target: at least 200,000 lines/s, so draining a chatty Blender never waits on us.
Feeds every real fixture log (tests/parser/fixtures: Blender 2.78 to 5.2) again and again, a
fresh ``JobProgress`` per log as the runner makes one per job, until at least ``--lines`` lines;
then the same for the heaviest case, Cycles status lines only. Best and median of
``--repeat`` runs; ``--record`` writes them to bench/RESULTS.md (section "Parser throughput").

    .venv/bin/python bench/bench_parser.py [--lines 1000000] [--repeat 5] [--record]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from renderplus.batch.parser import JobProgress, parse_line  # noqa: E402

FIXTURES = ROOT / "tests" / "parser" / "fixtures"


def load_logs() -> list[list[str]]:
    paths = sorted(FIXTURES.glob("*/*.txt"))
    return [p.read_text(encoding="utf-8").splitlines() for p in paths if not p.name.endswith(".stderr.txt")]


def feed_all(logs: list[list[str]], target: int) -> tuple[int, float]:
    """Lines fed and seconds taken, feeding whole logs until ``target`` lines."""
    fed = 0
    start = time.perf_counter()
    while fed < target:
        for lines in logs:
            progress = JobProgress(frames=[1, 2, 3], engine="")
            feed = progress.feed
            for line in lines:
                feed(line)
            fed += len(lines)
    return fed, time.perf_counter() - start


def parse_all(logs: list[list[str]], target: int) -> tuple[int, float]:
    fed = 0
    start = time.perf_counter()
    while fed < target:
        for lines in logs:
            for line in lines:
                parse_line(line)
            fed += len(lines)
    return fed, time.perf_counter() - start


def measure(name: str, run: object, logs: list[list[str]], target: int, repeat: int) -> tuple[float, float]:
    """Best and median lines/s of ``repeat`` runs."""
    rates = []
    fed = 0
    for _ in range(repeat):
        fed, seconds = run(logs, target)  # type: ignore[operator]
        rates.append(fed / seconds)
    best, median = max(rates), statistics.median(rates)
    print(f"{name:<56} best {best:>10,.0f} lines/s   median {median:>10,.0f} lines/s   ({fed:,} lines a run)")
    return best, median


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines per run (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (default 5)")
    parser.add_argument("--record", action="store_true", help="write the figures to bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.lines < 1 or args.repeat < 1:
        parser.error("--lines and --repeat must be positive")

    logs = load_logs()
    total = sum(len(lines) for lines in logs)
    cycles = [[line for lines in logs for line in lines
               if line.startswith("Fra:") and "Peak:" in line]]
    setup = (f"Python {platform.python_version()}; {len(logs)} fixture logs (Blender 2.78-5.2),"
             f" {total:,} lines; {len(cycles[0]):,} Cycles status lines")
    print(setup)
    cases = [
        ("`JobProgress.feed`, all fixture logs", feed_all, logs),
        ("`JobProgress.feed`, Cycles status lines only (heaviest)", feed_all, cycles),
        ("`parse_line` alone, all fixture logs", parse_all, logs),
    ]
    results = [(name, *measure(name.replace("`", ""), run, data, args.lines, args.repeat))
               for name, run, data in cases]
    target = 200_000
    worst_median = min(median for _, _, median in results[:2])
    verdict = "met" if worst_median >= target else "NOT met"
    print(f"target {target:,} lines/s (median of the feed cases): {verdict}")
    if args.record:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        record("Parser throughput", [
            f"`.venv/bin/python bench/bench_parser.py --record`: {setup}. Each run feeds at least"
            f" {args.lines:,} lines, a fresh `JobProgress` per log; best and median of {args.repeat} runs."
            f" Load average at the end: {load:.2f} (the 2 cores are shared).",
            "",
            "| case | best lines/s | median lines/s |",
            "|---|---:|---:|",
            *[f"| {name} | {best:,.0f} | {median:,.0f} |" for name, best, median in results],
            "",
            f"Target: at least {target:,} lines/s: **{verdict}** (slowest feed median"
            f" {worst_median:,.0f} lines/s).",
        ])
    return 0 if worst_median >= target else 1


if __name__ == "__main__":
    sys.exit(main())
