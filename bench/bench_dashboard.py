"""The server's CPU with open dashboards: 0, then 5 pages in a real browser, during a real render.

The server runs as ``python -m renderplus.server --serve --token T`` in its own process, rendering
one animated Cycles job whose frames land every second or two (so the pages' polls see a new
revision often and fetch each new thumbnail, the costly case); Debian's chromium (Playwright,
no browser download) opens ``/#token=T`` in ``--pages`` separate browser contexts. Measured over
``--window`` s each: the server process's own CPU time (``/proc/PID/stat``; Blender and the
browser not counted) with no page open, then with the pages open, and what the pages asked:
polls answered 200 (a new revision) or 304 (unchanged: nothing encoded, nothing sent) and the
images they fetched.

    .venv/bin/python bench/bench_dashboard.py [--pages 5] [--window 20] [--record]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_server import cpu_seconds, free_port, load_average  # noqa: E402
from bench.results import record  # noqa: E402
from tests.blendfiles import make_blend  # noqa: E402

TITLE = "Dashboard: server CPU with open pages (bench/bench_dashboard.py)"
TOKEN = "bench-dashboard-token"
CHROMIUM = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")


def call(port: int, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
    import http.client
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            call(port, "GET", "/test")
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def frames_done(port: int) -> int:
    import json
    return int(json.loads(call(port, "GET", "/batch")[1])["jobs"][0]["frames_done"])


def measure(pid: int, port: int, window: float, wait: Any) -> dict[str, float]:
    """Server CPU % of one core and frames rendered over ``window`` s; ``wait(seconds)``."""
    frames, cpu, started = frames_done(port), cpu_seconds(pid), time.monotonic()
    wait(window)
    elapsed = time.monotonic() - started
    return {"cpu": 100.0 * (cpu_seconds(pid) - cpu) / elapsed, "frames": frames_done(port) - frames,
            "elapsed": elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument("--record", action="store_true", help="write the figures to bench/RESULTS.md")
    args = parser.parse_args()
    blender = shutil.which("blender")
    chromium = next((path for path in CHROMIUM if Path(path).exists()), None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None  # type: ignore[assignment]
    if blender is None or chromium is None or sync_playwright is None:
        print("bench_dashboard needs blender, Debian's chromium and playwright (scripts/setup.sh test)")
        return 0

    work = Path(tempfile.mkdtemp(prefix="renderplus-bench-dashboard-"))
    blend = make_blend(work, frames=400, samples=32, size=(320, 180))
    recipe = {"version": 2.2, "name": "dashboard bench", "blender_bin": blender, "jobs": [
        {"id": 0, "name": "turntable", "blend_file": str(blend), "output": str(work / "out" / "frame_"),
         "animated": True, "frame_start": 1, "frame_end": 400}]}
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "renderplus.server", "--serve", "--port", str(port),
                               "--work-dir", str(work / "server"), "--token", TOKEN], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    asked: collections.Counter[str] = collections.Counter()
    try:
        wait_listening(port, server)
        import json
        assert call(port, "POST", "/batch/recipe", json.dumps(recipe))[0] == 200
        assert call(port, "GET", "/batch/start")[0] == 200
        time.sleep(4.0)
        print(f"no page open: {args.window:g} s...")
        alone = measure(server.pid, port, args.window, time.sleep)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, headless=True)
            pages = []
            for _ in range(args.pages):
                page = browser.new_context().new_page()
                page.goto(f"http://127.0.0.1:{port}/#token={TOKEN}")
                pages.append(page)
            pages[0].wait_for_timeout(3000)

            def count(response: Any) -> None:
                path = response.url.split(str(port), 1)[1]
                kind = "poll" if path == "/batch" else "image" if path.startswith(("/previews", "/frames")) \
                    else "other"
                asked[f"{kind} {response.status}"] += 1

            for page in pages:
                page.on("response", count)
            print(f"{args.pages} pages open: {args.window:g} s...")
            watched = measure(server.pid, port, args.window, lambda s: pages[0].wait_for_timeout(s * 1000))
            for page in pages:
                page.remove_listener("response", count)
            browser.close()
        load = load_average()
        call(port, "DELETE", "/server")
        server.wait(60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)

    seconds = watched["elapsed"]
    polls = asked["poll 200"] + asked["poll 304"]
    lines = [
        f"`.venv/bin/python bench/bench_dashboard.py`: the server as its own process (`--serve --token`), "
        f"one animated Cycles job (320x180, 32 samples) rendering; Debian's chromium with {args.pages} "
        f"dashboards open (one browser, a context each: each page polls `GET /batch` every second with "
        f"its ETag and fetches each new thumbnail); {args.window:g} s windows; load average at the end: "
        f"{load} (2 shared cores).",
        "",
        "| pages open | server CPU (% of one core) | frames rendered | polls/s (200 / 304) | images/s |",
        "|---:|---:|---:|---:|---:|",
        f"| 0 | {alone['cpu']:.2f} | {alone['frames']} | – | – |",
        f"| {args.pages} | **{watched['cpu']:.2f}** | {watched['frames']} | {polls / seconds:.1f} "
        f"({asked['poll 200'] / seconds:.1f} / {asked['poll 304'] / seconds:.1f}) | "
        f"{asked['image 200'] / seconds:.1f} |",
        "",
        f"Other answers seen: {dict((k, v) for k, v in asked.items() if not k.endswith((' 200', ' 304')))}"
        if any(not k.endswith((" 200", " 304")) for k in asked) else "No error answers.",
    ]
    print("\n".join(lines))
    if args.record:
        record(TITLE, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
