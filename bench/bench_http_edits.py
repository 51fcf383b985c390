"""Adding a job to a running batch over HTTP: from ``POST /batch/jobs`` until a poll shows it.

    .venv/bin/python bench/bench_http_edits.py [--count 100] [--jobs 10] [--blender BIN]
                                              [--blender-count 20] [--dir FOLDER]

A real server (``start_server``: the threaded HTTP server, the guard, the token) in this
process, around a ``BatchService`` with its durable store (SQLite in WAL mode, as ``--serve``
keeps it). A client on loopback sends ``POST /batch/jobs`` with one job, then polls ``GET
/batch`` (as the dashboard and the add-on do, with the token) until the poll's ``order`` holds
the new id. Measured in milliseconds, median / p90 / max, of ``--count`` adds:

- **held**: the batch's first job is held "rendering" by a stand-in executor (``bench_edits``'s
  ``HoldingExecutor``), so only Render+ works: the figure is Render+'s own cost.
- **blender** (with ``--blender``): the batch renders with the real Blender (a tiny .blend of
  ``tests/blendfiles.py`` with many samples, so it renders all along) while the adds arrive:
  the figure as a user sees it while Blender takes the CPU. The added jobs are cancelled at the
  end; none of them renders.

Target: < 100 ms from the POST until the poll shows the job.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_edits import HoldingExecutor  # noqa: E402
from renderplus.batch.recipe import parse_recipe  # noqa: E402
from renderplus.batch.runner import RunOptions  # noqa: E402
from renderplus.batch.service import BatchService, open_store  # noqa: E402
from renderplus.server import start_server  # noqa: E402


class Client:
    """One keep-alive connection to the server, with its token."""

    def __init__(self, port: int, token: str | None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = dict(self.headers)
        raw = None
        if body is not None:
            raw = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, path, body=raw, headers=headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())


def job(folder: Path, blend: Path, index: int, frames: int = 250) -> dict[str, Any]:
    return {"name": f"shot{index}", "blend_file": str(blend), "animated": True,
            "frame_start": 1, "frame_end": frames, "output": str(folder / f"out/shot{index}_####")}


def add_until_polled(client: Client, folder: Path, blend: Path, index: int) -> float:
    """Milliseconds from the POST until a poll's ``order`` holds the new job."""
    start = time.perf_counter()
    code, answer = client.call("POST", "/batch/jobs", job(folder, blend, index))
    if code != 201:
        raise RuntimeError(f"POST /batch/jobs answered {code}: {answer}")
    [new] = answer["ids"]
    while True:
        code, poll = client.call("GET", "/batch")
        if new in poll["order"]:
            return (time.perf_counter() - start) * 1000
        if time.perf_counter() - start > 10:
            raise RuntimeError(f"job {new} not in the poll after 10 s")


def measure(folder: Path, blend: Path, jobs: int, count: int, blender: str | None) -> list[float]:
    """``count`` adds to a running batch of ``jobs`` jobs (held, or rendering with ``blender``)."""
    store, problem = open_store(folder / "state")
    if store is None:
        raise RuntimeError(f"no store: {problem}")
    executor = None if blender else (lambda recipe: HoldingExecutor())
    service = BatchService(RunOptions(kill_grace=2.0), work_dir=folder / "state", store=store,
                           executor_factory=executor)
    handle = start_server(service, port=0, token_file=False)
    client = Client(handle.port, handle.token)
    data = {"version": 2.2, "name": "bench http edits", "blender_bin": blender or sys.executable,
            "settings": {"session_reuse": False},
            "jobs": [{"id": i, **job(folder, blend, i)} for i in range(jobs)]}
    try:
        service.load_recipe(parse_recipe(data, base_dir=str(folder)))
        code, answer = client.call("GET", "/batch/start")
        if code != 200:
            raise RuntimeError(f"GET /batch/start answered {code}: {answer}")
        deadline = time.monotonic() + 60
        while client.call("GET", "/batch")[1]["running"] != [0]:
            if time.monotonic() > deadline:
                raise RuntimeError("the first job did not start")
        times = [add_until_polled(client, folder, blend, jobs + i) for i in range(count)]
        poll = client.call("GET", "/batch")[1]
        if poll["running"] != [0] or poll["jobs"][0]["process"]["started"] is None:
            raise RuntimeError("the first job stopped rendering during the adds: not measured "
                               "against a running batch")
        return times
    finally:
        client.connection.close()
        service.shutdown(timeout=30)
        handle.stop()


def stats(times: list[float]) -> str:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"{statistics.median(ordered):.1f} | {p90:.1f} | {ordered[-1]:.1f}"


def real_blend(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from tests.blendfiles import make_blend

    return make_blend(folder, size=(320, 240), samples=5000, frames=250)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--blender", default=None, help="also measure while this Blender renders")
    parser.add_argument("--blender-count", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="renderplus-bench-http-edits-", dir=args.dir))
    rows = []
    try:
        stand_in = folder / "scene.blend"
        stand_in.write_bytes(b"BLENDER-v304")   # the stand-in executor never opens it
        rows.append(("held stand-in executor", args.count,
                     measure(folder / "held", stand_in, args.jobs, args.count, None)))
        if args.blender:
            blend = real_blend(folder)
            rows.append(("real Blender rendering", args.blender_count,
                         measure(folder / "blender", blend, args.jobs, args.blender_count,
                                 args.blender)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"POST /batch/jobs until GET /batch shows the job, {args.jobs}-job running batch, ms")
    print("| batch runs on | adds | median | p90 | max | target |")
    print("|---|---|---|---|---|---|")
    for what, count, times in rows:
        print(f"| {what} | {count} | {stats(times)} | < 100 |")


if __name__ == "__main__":
    main()
