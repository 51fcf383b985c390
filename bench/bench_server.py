"""Batch server: poll latency and throughput under 50 clients, and its CPU use while rendering.

Targets: with a 1,000-job batch and 50 concurrent pollers during a render, p99 under
100 ms and no errors; the server's CPU while a render runs and nobody polls under 2 % of a core.

The server runs as ``python -m renderplus.server --serve`` in its own process, with a real batch
of 1,000 tiny real Blender jobs running, so Blender competes for the same cores as the server
and the clients (as on a user's machine). The clients run in 5 processes of 10 threads each (so
their own GIL does not stand in the server's way), one new connection per request, reading the
whole answer. Three phases:

1. paced: each client polls every ``--interval`` s (the CLI's ``--poll`` does it every 0.5 s);
2. flood: each client polls again as soon as it has its answer (the server's throughput);
3. idle: nobody polls; the server process's own CPU time (``/proc/PID/stat``, children not
   counted) over ``--cpu-window`` s, first during the tiny-job batch (a Blender start every
   ~2 s), then during one long render.

    .venv/bin/python bench/bench_server.py [--clients 50] [--jobs 1000] [--duration 15] [--record]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from tests.blendfiles import make_blend  # noqa: E402

PROCESSES = 5
TITLE = "Batch server: polling and CPU (bench/bench_server.py)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload else {}
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def client_process(port: int, threads: int, duration: float, interval: float) -> dict[str, Any]:
    """``threads`` pollers for ``duration`` s; latencies in seconds, errors as strings."""
    latencies: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def poller(offset: float) -> None:
        time.sleep(offset)
        mine: list[float] = []
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", "/batch")
                response = connection.getresponse()
                body = response.read()
                connection.close()
                elapsed = time.perf_counter() - started
                if response.status != 200:
                    with lock:
                        errors.append(f"HTTP {response.status}")
                else:
                    mine.append(elapsed)
                    if len(mine) == 1:
                        with lock:
                            sizes.append(len(body))
            except OSError as exc:
                with lock:
                    errors.append(repr(exc))
            if interval:
                time.sleep(max(0.0, interval - (time.perf_counter() - started)))
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=poller, args=(interval * i / threads if interval else 0.0,))
               for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"latencies": latencies, "errors": errors, "sizes": sizes}


def poll_phase(port: int, clients: int, duration: float, interval: float) -> dict[str, Any]:
    per_process = [clients // PROCESSES + (1 if i < clients % PROCESSES else 0) for i in range(PROCESSES)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=PROCESSES) as pool:
        results = list(pool.map(client_process, [port] * PROCESSES, per_process, [duration] * PROCESSES,
                                [interval] * PROCESSES))
    wall = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r["latencies"])
    errors = [e for r in results for e in r["errors"]]
    sizes = [s for r in results for s in r["sizes"]]

    def quantile(q: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {"requests": len(latencies), "errors": len(errors), "error_kinds": sorted(set(errors))[:3],
            "p50": quantile(0.50), "p90": quantile(0.90), "p99": quantile(0.99),
            "max": latencies[-1] * 1000 if latencies else float("nan"),
            "throughput": len(latencies) / wall, "size": statistics.median(sizes) if sizes else 0}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, no children


def cpu_phase(pid: int, window: float) -> float:
    """The process's CPU use over ``window`` s, in % of one core."""
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(window)
    return 100.0 * (cpu_seconds(pid) - before) / (time.monotonic() - started)


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per polling phase")
    parser.add_argument("--interval", type=float, default=0.5, help="paced phase: seconds between polls")
    parser.add_argument("--cpu-window", type=float, default=20.0)
    parser.add_argument("--record", action="store_true", help="write the figures to bench/RESULTS.md")
    args = parser.parse_args()
    blender = shutil.which("blender")
    if blender is None:
        sys.exit("bench_server needs the blender executable (./run setup)")

    work = Path(tempfile.mkdtemp(prefix="renderplus-bench-server-"))
    tiny = make_blend(work, frames=1)
    slow = make_blend(work, samples=100_000, size=(640, 480), frames=1, name="long.blend")
    jobs = [{"id": i, "name": f"shot {i:04d}", "blend_file": str(tiny),
             "output": str(work / "out" / f"job{i:04d}_")} for i in range(args.jobs)]
    recipe = {"version": 2.2, "name": "bench batch", "blender_bin": blender, "jobs": jobs}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "renderplus.server", "--serve", "--port", str(port),
                               "--work-dir", str(work / "server"), "--no-token"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                request(port, "GET", "/test")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert request(port, "POST", "/batch/recipe", recipe)[0] == 200
        assert request(port, "GET", "/batch/start")[0] == 200
        time.sleep(2.0)
        print(f"paced: {args.clients} clients, a poll every {args.interval} s each, {args.duration} s...")
        paced = poll_phase(port, args.clients, args.duration, args.interval)
        print(paced)
        print(f"flood: {args.clients} clients back to back, {args.duration} s...")
        flood = poll_phase(port, args.clients, args.duration, 0.0)
        print(flood)
        batch = request(port, "GET", "/batch")[1]
        rendered = sum(1 for job in batch["jobs"] if job["status"] == "FINISHED")
        assert batch["status"] == "RUNNING", batch["status"]
        print(f"idle, tiny jobs: {args.cpu_window} s...")
        idle_tiny = cpu_phase(server.pid, args.cpu_window)
        request(port, "DELETE", "/batch")
        long_recipe = {"version": 2.2, "name": "long render", "blender_bin": blender,
                       "jobs": [{"id": 0, "blend_file": str(slow), "output": str(work / "out" / "long_")}]}
        assert request(port, "POST", "/batch/recipe", long_recipe)[0] == 200
        assert request(port, "GET", "/batch/start")[0] == 200
        time.sleep(3.0)
        print(f"idle, one long render: {args.cpu_window} s...")
        idle_long = cpu_phase(server.pid, args.cpu_window)
        long_state = request(port, "GET", "/batch")[1]
        assert long_state["status"] == "RUNNING", long_state["status"]
        load = load_average()
        request(port, "DELETE", "/server")
        server.wait(60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)

    def row(name: str, r: dict[str, Any]) -> str:
        return (f"| {name} | {r['requests']:,} | {r['throughput']:.0f} | {r['p50']:.1f} | {r['p90']:.1f} | "
                f"{r['p99']:.1f} | {r['max']:.1f} | {r['errors']} |")

    met_latency = paced["p99"] < 100 and paced["errors"] == 0
    met_cpu = idle_long < 2.0
    lines = [
        f"`.venv/bin/python bench/bench_server.py`: the server as its own process (`--serve`), a real "
        f"{args.jobs}-job batch of tiny Cycles renders running (Blender busy on the same cores: "
        f"{rendered} jobs rendered during the polling phases), {args.clients} clients in {PROCESSES} "
        f"processes, a new connection per request, {args.duration:g} s per phase; poll answer "
        f"{paced['size'] / 1024:.0f} KiB. Python {sys.version.split()[0]}; load average at the end: {load} "
        "(the 2 cores are shared).",
        "",
        "| phase | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        row(f"paced (a poll every {args.interval:g} s per client)", paced),
        row("flood (back to back)", flood),
        "",
        f"Server CPU while nobody polls (own CPU time, Blender not counted), {args.cpu_window:g} s windows:",
        f"- during one long Cycles render: **{idle_long:.2f} %** of one core",
        f"- during the tiny-job batch (a new Blender every ~2 s, stdout parsed, files checked): "
        f"{idle_tiny:.2f} % of one core",
        "",
        f"Targets: paced p99 < 100 ms with no errors: **{'met' if met_latency else 'NOT met'}** "
        f"(p99 {paced['p99']:.1f} ms, {paced['errors']} errors); CPU < 2 % of a core during a render: "
        f"**{'met' if met_cpu else 'NOT met'}** ({idle_long:.2f} %). The flood row is the server's "
        "saturation throughput, not a target: 50 clients with no pause share 2 cores with Blender.",
    ]
    if paced["errors"] or flood["errors"]:
        lines.append(f"Errors seen: {paced['error_kinds'] + flood['error_kinds']}")
    print("\n".join(lines))
    if args.record:
        record(TITLE, lines)


if __name__ == "__main__":
    main()
