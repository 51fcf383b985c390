"""kill -9 harness: batches of real Blender jobs on a standalone server, killed and resumed.

For each scenario (a Blender process per job, one Blender session with and without a long
PRE_JOB hook, 2 parallel slots, a PRE_JOB hook that ignores SIGTERM, two servers on one
--work-dir) and each round: start ``python3 -m renderplus.server --serve`` with real Blender on
a tiny .blend, start a batch of several short jobs, kill -9 the server at seeded random
moments, restart it on the same --work-dir and resume (``GET /batch/resume``), until the batch
ends. It reports, per scenario, and fails (exit status 1) unless each is 0:

- lost: expected frames missing or not a complete PNG at the end;
- again: recorded frames rendered again: frames the store had recorded (``frames`` table: path,
  size, mtime_ns, inode; read every 0.2 s and at each kill) whose file at the end is another;
- left: processes left: processes a killed server started (marked through their environment)
  still alive once the restarted servers have resumed plus a grace, and any left after the
  final stop;
- both: frames that two live servers rendered (``Saved:`` lines in both servers' batch logs);
- late: frames complete on disk 1 s before a kill but not yet recorded, rendered again;
- problems: rounds that could not start or end, servers that did not stop;

and, for information, frames Blender saved more than once (a frame written in the instant
before a kill, before its record, may rightly render again; a kill may cut a log's tail) and
kills after which more than one server resumed. Run from the repository root:

    .venv/bin/python bench/kill9.py [--quick] [--scenario NAME ...] [--rounds N] [--seed S]

bench/KILL9.md says what each scenario shows and what today's code gives.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.kill9_round import Config, Round, RoundResult  # noqa: E402
from bench.kill9_scenarios import BY_NAME, SCENARIOS, Scenario  # noqa: E402
from tests.blendfiles import BLENDER  # noqa: E402


def quick(config: Config) -> Config:
    """The short run: smaller batches and fewer kills (--quick, and the slow test)."""
    return dataclasses.replace(config, jobs=2, frames=3, max_kills=2, grace=3.0)


@dataclass
class Tally:
    scenario: Scenario
    rounds: list[RoundResult] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(len(value) if isinstance(value := getattr(r, name), list) else value
                   for r in self.rounds)

    @property
    def clean(self) -> bool:
        return not any(self.total(name) for name in ("lost", "again", "left", "together", "late", "problems"))


def run(scenarios: list[Scenario], rounds: int, seed: int, config: Config, base: Path,
        say: bool = True) -> list[Tally]:
    """Every round of every scenario, each in its own folder under ``base``."""
    tallies = []
    for scenario in scenarios:
        tally = Tally(scenario)
        for number in range(rounds):
            folder = base / scenario.name / f"round{number}"
            folder.mkdir(parents=True)
            started = time.monotonic()
            tag = f"kill9-{base.name}-{scenario.name}-{number}"
            result = Round(scenario, config, folder, seed=f"{seed}:{scenario.name}:{number}", tag=tag).run()
            tally.rounds.append(result)
            if say:
                print(f"  {scenario.name} round {number}: {result.kills} kills, {len(result.lost)} lost, "
                      f"{len(result.again)} rendered again, {len(result.left)} left "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
        tallies.append(tally)
    return tallies


COLUMNS = (("scenario", 12), ("rounds", 6), ("kills", 5), ("frames", 6), ("lost", 4),
           ("again", 5), ("left", 4), ("both", 4), ("late", 4), ("saved2x", 7), ("2resumes", 8),
           ("problems", 8))


def table(tallies: list[Tally]) -> str:
    def row(values: list[object]) -> str:
        return "  ".join(str(value).ljust(width) if index == 0 else str(value).rjust(width)
                         for index, (value, (_, width)) in enumerate(zip(values, COLUMNS, strict=True)))

    def figures(tally_list: list[Tally]) -> list[object]:
        return [sum(len(t.rounds) for t in tally_list),
                *(sum(t.total(name) for t in tally_list) for name in
                  ("kills", "frames", "lost", "again", "left", "together", "late", "saved_twice",
                   "double_resumes", "problems"))]

    lines = [row([name for name, _ in COLUMNS]), row(["-" * width for _, width in COLUMNS])]
    lines += [row([t.scenario.name, *figures([t])]) for t in tallies]
    lines.append(row(["total", *figures(tallies)]))
    lines.append("lost: frames lost; again: recorded frames rendered again; left: processes left; "
                 "both: frames two live servers rendered;\nlate: frames complete 1 s before a kill, "
                 "not yet recorded, rendered again; for information, saved2x: frames Blender saved "
                 "more than once (as far as the logs kept), 2resumes: kills after which more than "
                 "one server resumed")
    return "\n".join(lines)


def details(tallies: list[Tally]) -> str:
    out = []
    for tally in tallies:
        for number, result in enumerate(tally.rounds):
            for label, items in (("lost", result.lost), ("rendered again", result.again),
                                 ("left", result.left), ("rendered by both servers", result.together),
                                 ("done before a kill, unrecorded, rendered again", result.late),
                                 ("problem", result.problems)):
                out += [f"{tally.scenario.name} round {number} {label}: {item}" for item in items]
    return "\n".join(out)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="one round of smaller batches (2 jobs of 3 frames, at most 2 kills)")
    parser.add_argument("--scenario", action="append", choices=sorted(BY_NAME),
                        help="run only this scenario (may be given again; default: all)")
    parser.add_argument("--rounds", type=int, default=None, help="batches per scenario (default 3, quick 1)")
    parser.add_argument("--seed", type=int, default=19, help="seed of the kill moments (default 19)")
    parser.add_argument("--max-kills", type=int, default=None, help="kills per batch (default 3, quick 2)")
    parser.add_argument("--blender", default=BLENDER, help=f"the Blender to render with (default {BLENDER})")
    parser.add_argument("--keep", action="store_true",
                        help="keep the rounds' folders (servers' logs, store) even when every count is 0")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    config = quick(Config(blender=args.blender)) if args.quick else Config(blender=args.blender)
    if args.max_kills is not None:
        config = dataclasses.replace(config, max_kills=args.max_kills)
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    scenarios = [BY_NAME[name] for name in args.scenario] if args.scenario else list(SCENARIOS)
    base = Path(tempfile.mkdtemp(prefix="renderplus-kill9-"))
    print(f"kill -9 harness: seed {args.seed}, {rounds} round(s) of {config.jobs} jobs x {config.frames} "
          f"frames, up to {config.max_kills} kills each, in {base}", flush=True)
    tallies = run(scenarios, rounds, args.seed, config, base)
    clean = all(tally.clean for tally in tallies)
    if clean and not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    print()
    print(table(tallies))
    if text := details(tallies):
        print()
        print(text)
    if not clean or args.keep:
        print(f"\nThe rounds' folders (servers' output and logs, store) are kept in {base}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
