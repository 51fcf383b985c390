"""Changing a running batch through the engine: adding a job, moving a job in a 1,000-job batch.

    .venv/bin/python bench/bench_edits.py [--jobs 1000] [--count 200] [--dir FOLDER]

A batch of ``--jobs`` jobs runs with its durable store (a real SQLite file in WAL mode, as a
server keeps it) on a stand-in executor that holds its first job rendering, so every edit meets
a running batch with 999 queued jobs. Measured, in milliseconds, median / p90 / max:

- **add**: from ``batch.add_jobs(job)`` until ``batch.view()`` shows the job (validation, the
  store's transaction with the recipe, the job row and the run order, the new view). Target
  < 100 ms (the server adds its HTTP round trip; bench_server measures that part).
- **move**: ``batch.move_job(id, position)`` (the stored run order rewritten) until
  ``batch.view().order`` shows it, moving a job from the end to the front and back. Target
  < 50 ms.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from renderplus.batch.executors.base import (  # noqa: E402
    Accepted,
    EventSink,
    Exited,
    JobHandle,
    JobLaunch,
    Started,
)
from renderplus.batch.recipe import parse_recipe  # noqa: E402
from renderplus.batch.runner import Batch  # noqa: E402
from renderplus.batch.store import BatchStore  # noqa: E402


class HoldingExecutor:
    """One place; the job it takes renders until the batch is closed."""

    name = "holding"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[int, EventSink] = {}

    @property
    def capacity(self) -> int:
        with self._lock:
            return 0 if self._held else 1

    def submit(self, launch: JobLaunch, sink: EventSink) -> JobHandle:
        handle = JobHandle(self.name, launch.job_id)
        with self._lock:
            self._held[launch.job_id] = sink
        sink(Accepted(launch.job_id, handle))
        sink(Started(launch.job_id, handle, time.time()))
        return handle

    def cancel(self, job_id: int, grace: float) -> bool:
        with self._lock:
            sink = self._held.pop(job_id, None)
        if sink is not None:
            sink(Exited(job_id, -15, time.time(), cancelled=True))
        return sink is not None

    def pause(self, job_id: int, when: str, grace: float) -> bool:
        return self.cancel(job_id, grace)

    def end_orphan(self, handle: JobHandle) -> bool:
        return False

    def close(self) -> None:
        for job_id in list(self._held):
            self.cancel(job_id, 0.0)


def job(folder: Path, index: int) -> dict[str, object]:
    return {"name": f"shot{index}", "blend_file": str(folder / "scene.blend"), "animated": True,
            "frame_start": 1, "frame_end": 250, "output": str(folder / f"out/shot{index}_####")}


def stats(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"{statistics.median(ordered):.2f} | {p90:.2f} | {ordered[-1]:.2f}"


def measure(folder: Path, jobs: int, count: int) -> dict[str, list[float]]:
    (folder / "scene.blend").write_bytes(b"BLENDER-v304")   # the stand-in never opens it
    recipe = parse_recipe({"version": 2.2, "name": "bench", "jobs": [
        {"id": i, **job(folder, i)} for i in range(jobs)]}, base_dir=str(folder))
    store = BatchStore.open(folder / "state")
    batch = Batch(recipe, executor=HoldingExecutor(), store=store)
    batch.start()
    while batch.view().job(0).process.started is None:
        batch.wait_change(batch.revision, 1.0)
    added, moved = [], []
    try:
        for i in range(count):
            start = time.perf_counter()
            [new] = batch.add_jobs(job(folder, jobs + i))
            assert len(batch.view().jobs) > new and batch.view().order[-1] == new
            added.append((time.perf_counter() - start) * 1000)
        last = batch.view().order[-1]
        for i in range(count):
            position = 0 if i % 2 == 0 else 10 ** 6
            start = time.perf_counter()
            batch.move_job(last, position)
            order = batch.view().order
            assert (order[1] == last) if position == 0 else (order[-1] == last)
            moved.append((time.perf_counter() - start) * 1000)
    finally:
        batch.cancel()
        batch.wait(30)
        store.close()
    return {"add": added, "move": moved}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None, help="where the store lives")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="renderplus-bench-edits-", dir=args.dir))
    try:
        results = measure(folder, args.jobs, args.count)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{args.jobs}-job running batch, {args.count} edits each, ms")
    print("| edit | median | p90 | max | target |")
    print("|---|---|---|---|---|")
    print(f"| add a job until the view shows it | {stats(results['add'])} | < 100 |")
    print(f"| move a job until the view's order shows it | {stats(results['move'])} | < 50 |")


if __name__ == "__main__":
    main()
