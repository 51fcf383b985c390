"""A 12-frame animation on a one-node Slurm cluster vs. the local executor.

Both run the same recipe through the real runner: locally one Blender renders the 12 frames;
on the farm the job is one Slurm job array of 12/chunk tasks, each a Blender of its own (the
node has the machine's cores, so tasks run side by side). Reports the wall time of each, the
farm's overhead per task ((farm - local) / tasks, which includes Blender's start-up per chunk
and the parallelism the node adds), and the time from submit to the first frame written.

Usage (as root, with Debian's slurmctld slurmd slurm-client munge installed):
    python bench/bench_farm.py [--chunk 4] [--rounds 2] [--record]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from renderplus.batch.executors import ExecEvent, FramesWritten  # noqa: E402
from renderplus.batch.executors.farm import FarmExecutor, SharedStorage, SlurmEngine  # noqa: E402
from renderplus.batch.executors.local import ProcessExecutor  # noqa: E402
from renderplus.batch.markers import parse_marker  # noqa: E402
from renderplus.batch.recipe import parse_recipe  # noqa: E402
from renderplus.batch.runner import Batch, RunOptions  # noqa: E402
from tests.blendfiles import BLENDER, make_blend  # noqa: E402
from tests.farm.slurm_cluster import missing_reason, start_cluster  # noqa: E402

FRAMES = 12


class FirstFrameClock:
    """Wraps an executor's event sink to note when the first frame arrives."""

    def __init__(self) -> None:
        self.submitted = 0.0
        self.first_frame: float | None = None
        self._lock = threading.Lock()

    def wrap(self, executor: object) -> None:
        submit = executor.submit  # type: ignore[attr-defined]

        def timed_submit(launch: object, sink: object) -> object:
            self.submitted = time.perf_counter()

            def timed_sink(event: ExecEvent) -> None:
                marker = parse_marker(getattr(event, "line", ""))
                if isinstance(event, FramesWritten) or (marker or {}).get("event") == "frame":
                    with self._lock:
                        if self.first_frame is None:
                            self.first_frame = time.perf_counter()
                sink(event)  # type: ignore[operator]

            return submit(launch, timed_sink)

        executor.submit = timed_submit  # type: ignore[attr-defined]


def one_run(blend: Path, out: Path, executor: object) -> tuple[float, float]:
    recipe = parse_recipe({"version": 2.2, "name": "bench farm", "jobs": [
        {"id": 0, "name": "anim", "blend_file": str(blend), "output": str(out / "f"),
         "animated": True, "frame_start": 1, "frame_end": FRAMES}]})
    clock = FirstFrameClock()
    clock.wrap(executor)
    batch = Batch(recipe, RunOptions(), executor=executor)  # type: ignore[arg-type]
    start = time.perf_counter()
    status = batch.run()
    wall = time.perf_counter() - start
    job = batch.snapshot()["jobs"][0]
    if status != "FINISHED" or job["status"] != "FINISHED" or job["frames_done"] != FRAMES:
        raise SystemExit(f"the run failed: {job['status']} {job['messages']}")
    assert clock.first_frame is not None
    return wall, clock.first_frame - clock.submitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunk", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--record", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        raise SystemExit(f"cannot run: {reason}")
    cluster = start_cluster()
    work = Path(tempfile.mkdtemp(prefix="renderplus-bench-farm-"))
    try:
        blend = make_blend(work, frames=FRAMES)
        local, farm = [], []
        tasks = -(-FRAMES // args.chunk)
        for round_ in range(args.rounds):
            out = work / f"local{round_}"
            out.mkdir()
            local.append(one_run(blend, out, ProcessExecutor(1)))
            out = work / f"farm{round_}"
            out.mkdir()
            engine = SlurmEngine(cluster.partition, conf=str(cluster.conf), blender=BLENDER)
            storage = SharedStorage([str(work)], str(work / "staging"))
            executor = FarmExecutor(engine, storage, chunk_size=args.chunk, poll_interval=0.25)
            farm.append(one_run(blend, out, executor))
            print(f"round {round_ + 1}: local {local[-1][0]:.2f} s, farm {farm[-1][0]:.2f} s")
        local_wall = statistics.median(w for w, _ in local)
        farm_wall = statistics.median(w for w, _ in farm)
        lines = [
            f"{FRAMES}-frame Cycles animation (64x48, 4 spp), real Blender {BLENDER}; one-node "
            f"Slurm 22.05 cluster on this machine (2 CPUs), chunk {args.chunk} -> {tasks} array "
            f"tasks, poll every 0.25 s; medians of {args.rounds} rounds:",
            f"- local executor (one Blender, 12 frames): {local_wall:.2f} s "
            f"(runs: {', '.join(f'{w:.2f}' for w, _ in local)})",
            f"- Slurm farm executor: {farm_wall:.2f} s "
            f"(runs: {', '.join(f'{w:.2f}' for w, _ in farm)})",
            f"- farm overhead per task: {(farm_wall - local_wall) / tasks:+.2f} s "
            "(a Blender start-up per chunk, staging, polling; less the 2 tasks run side by side)",
            f"- submit -> first frame: local {statistics.median(f for _, f in local):.2f} s, "
            f"farm {statistics.median(f for _, f in farm):.2f} s",
        ]
        print("\n".join(lines))
        if args.record:
            record("Render farm: Slurm vs local (bench/bench_farm.py)", lines)
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
