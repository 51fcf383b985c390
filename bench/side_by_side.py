"""Two commits of Render+ benchmarked side by side in one sitting: batch overhead (a process per
job, and a Blender session), poll p99, the add-on's pump tick and the GUI stall.

Each commit is checked out into a temporary git worktree (sharing this checkout's ``.venv``) and
runs *its own* benchmark scripts, so a refactoring that moved modules is measured with the code
each commit had (but for the session overhead, whose script is newer than the commits it compares:
this checkout's script runs in each worktree, on that worktree's code). The runs alternate
(before, now, before, now...) so that the load of a shared machine falls on both alike; each
script writes ``bench/RESULTS.md`` (or a JSON file) inside its own worktree, and the figures are
read back from there. The table goes into this checkout's ``bench/RESULTS.md``.

Usage: python bench/side_by_side.py --before REV [--after HEAD] [--pairs 2] [--quick] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402

TITLE = "Before and after, side by side (bench/side_by_side.py)"


@dataclass(frozen=True)
class Bench:
    """One benchmark: how to run it, and how to read its figures from what it wrote."""

    name: str
    argv: list[str]
    quick_argv: list[str]
    read: Callable[[Path], dict[str, float]]
    from_here: bool = False   # run this checkout's script (in each worktree, on its code)


def section(tree: Path, title: str) -> str:
    text = (tree / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if match is None:
        raise RuntimeError(f"{tree}: no section {title!r} in bench/RESULTS.md")
    return match.group(1)


def number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"no match for {pattern!r}")
    return float(match.group(1).replace(",", ""))


def read_overhead(tree: Path) -> dict[str, float]:
    text = section(tree, "Batch overhead (bench/bench_overhead.py)")
    return {"runner / shell loop": number(r"ratio runner / shell: \*\*([\d.]+)\*\*", text),
            "dispatch gap median, ms": number(r"dispatch gap [^:]*: median ([\d.]+) ms", text)}


def read_server(tree: Path) -> dict[str, float]:
    text = section(tree, "Batch server: polling and CPU (bench/bench_server.py)")
    row = re.search(r"^\| paced[^|]*\|([^\n]*)$", text, re.M)
    if row is None:
        raise RuntimeError("no paced row")
    cells = [cell.strip() for cell in row.group(1).split("|")]
    return {"poll p50, ms": float(cells[2]), "poll p99, ms": float(cells[4])}


def read_pump(tree: Path) -> dict[str, float]:
    text = section(tree, "Add-on: UI pump tick (bench/bench_pump.py)")
    live = re.search(r"^\| live, batch changed[^|]*\| median ([\d.]+) ms, p95 ([\d.]+) ms", text, re.M)
    usual = re.search(r"^\| replayed: the running job changed[^|]*\| median ([\d.]+) ms, p95 ([\d.]+) ms",
                      text, re.M)
    if live is None or usual is None:
        raise RuntimeError("no pump rows")
    return {"pump tick live p95, ms": float(live.group(2)),
            "pump tick, running job changed, median ms": float(usual.group(1))}


def read_session(tree: Path) -> dict[str, float]:
    figures: dict[str, float] = json.loads((tree / "session.json").read_text(encoding="utf-8"))
    return figures


def read_gui(tree: Path) -> dict[str, float]:
    results = json.loads((tree / "gui.json").read_text(encoding="utf-8"))
    now, bare = results["now"], results["bare"]
    return {"GUI longest stall, ms": 1000 * float(now["max_gap"]),
            "GUI 99th pct gap, ms": 1000 * float(now["p99_gap"]),
            "GUI longest stall / plain blender -b": float(now["max_gap"]) / float(bare["max_gap"])}


BENCHES = [
    Bench("overhead", ["bench/bench_overhead.py", "--jobs", "10", "--rounds", "3"],
          ["bench/bench_overhead.py", "--jobs", "4", "--rounds", "1"], read_overhead),
    Bench("session", ["bench/bench_session_overhead.py", "--jobs", "10", "--rounds", "3",
                      "--json", "session.json"],
          ["bench/bench_session_overhead.py", "--jobs", "4", "--rounds", "1", "--json", "session.json"],
          read_session, from_here=True),
    Bench("server", ["bench/bench_server.py", "--record", "--duration", "10", "--cpu-window", "5"],
          ["bench/bench_server.py", "--record", "--jobs", "100", "--duration", "3", "--cpu-window", "2"],
          read_server),
    Bench("pump", ["bench/bench_pump.py"],
          ["bench/bench_pump.py", "--repeat", "50", "--stop-rounds", "1"], read_pump),
    Bench("gui", ["bench/bench_gui.py", "--seconds", "20", "--modes", "bare,now", "--no-record",
                  "--json", "gui.json"],
          ["bench/bench_gui.py", "--seconds", "6", "--modes", "bare,now", "--no-record",
           "--json", "gui.json"],
          read_gui),
]


def checkout(rev: str, where: Path) -> tuple[Path, str]:
    commit = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    tree = where / commit
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), commit], cwd=ROOT, check=True)
    for venv in (".venv", ".venv-bpy42"):
        if (ROOT / venv).exists():
            (tree / venv).symlink_to(ROOT / venv)
    return tree, commit


def run_one(bench: Bench, tree: Path, quick: bool, log: Path, limit: float) -> dict[str, float] | None:
    """The figures of one run, or None when it hung past ``limit`` seconds."""
    script, *args = bench.quick_argv if quick else bench.argv
    argv = [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / script) if bench.from_here else script,
            *args]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n== {tree.name}: {' '.join(argv[1:])}\n")
        out.flush()
        try:
            subprocess.run(argv, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT, check=True,
                           timeout=limit)
        except subprocess.TimeoutExpired:
            return None
    return bench.read(tree)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the earlier commit")
    parser.add_argument("--after", default="HEAD", help="the later commit (default HEAD)")
    parser.add_argument("--pairs", type=int, default=2, help="alternating runs of each commit")
    parser.add_argument("--only", default=",".join(b.name for b in BENCHES))
    parser.add_argument("--quick", action="store_true", help="short runs (to try the script)")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--run-limit", type=float, default=900.0,
                        help="seconds after which a run counts as hung (noted; the others go on)")
    args = parser.parse_args()
    wanted = [b for b in BENCHES if b.name in args.only.split(",")]
    scratch = Path(tempfile.mkdtemp(prefix="renderplus-side-by-side-"))
    log = scratch / "log.txt"
    trees = [checkout(args.before, scratch), checkout(args.after, scratch)]
    print(f"worktrees in {scratch}; every script's output in {log}", flush=True)
    figures: dict[str, dict[str, list[float]]] = {commit: {} for _, commit in trees}
    hung: list[str] = []
    try:
        for bench in wanted:
            for pair in range(args.pairs):
                for tree, commit in trees:
                    found = run_one(bench, tree, args.quick, log, args.run_limit)
                    if found is None:
                        hung.append(f"{bench.name} ({commit}, pair {pair + 1})")
                    for key, value in (found or {}).items():
                        figures[commit].setdefault(key, []).append(value)
                    print(f"{bench.name} pair {pair + 1} {commit}: {'hung' if found is None else 'done'}",
                          flush=True)
    finally:
        for tree, _ in trees:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    (before, _), (after, _) = [(commit, tree) for tree, commit in trees]
    lines = [f"`python bench/side_by_side.py --before {before} --after {after} --pairs {args.pairs}`"
             f"{' --quick' if args.quick else ''}: each commit runs its own scripts from a git worktree, "
             "alternately; medians of the pairs (every run in brackets).", "",
             f"| figure | {before} (before) | {after} (after) | after / before |", "|---|---:|---:|---:|"]
    for key in figures[before]:
        old, new = figures[before][key], figures[after].get(key, [])
        if not old or not new:
            continue
        old_m, new_m = statistics.median(old), statistics.median(new)
        ratio = f"{new_m / old_m:.2f}" if old_m else "-"
        lines.append(f"| {key} | {old_m:.3f} ({', '.join(f'{v:.3f}' for v in old)}) "
                     f"| {new_m:.3f} ({', '.join(f'{v:.3f}' for v in new)}) | {ratio} |")
    if hung:
        lines += ["", f"Runs stopped after {args.run_limit:.0f} s without an answer: {', '.join(hung)}."]
    print("\n".join(lines))
    if not args.no_record:
        record(TITLE, lines)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
