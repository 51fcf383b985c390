"""A stand-in HTTP server for the queue, pause and job-edit routes, for the dashboard's browser tests.

``QueueRoutesDouble`` answers the queue, pause and job-edit routes of docs/api.md, *Routes*
(``GET/POST /queue``, ``PATCH/DELETE /queue/{id}``, ``POST /queue/hold|continue``,
``POST /batch/pause``, ``GET /batch/resume``, ``PATCH /batch/jobs/{id}``) with the keys and
answers given there, serves the real dashboard files, and records every request. Its
batch is a plain dict that a test sets up and moves along (``finish_pause``); nothing renders.
It stands in for the server's routes so that the page's requests and rendering are checked
without Blender; ``tests/browser/test_dashboard_page.py`` drives the page against the real app.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from renderplus.server.dashboard_routes import SECURITY_HEADERS, load_static

PUBLIC = re.compile(r"^/(dashboard/[a-z_]+\.(js|css|html))?$")
OPEN_READS = ("/batch", "/openapi.json")
LIVE = ("WAITING", "RUNNING", "PAUSED")
PAUSES = ("now", "frame", "job")
ROUTES = {"/batch": ["get", "delete"], "/batch/recipe": ["post"], "/batch/start": ["get"],
          "/batch/resume": ["get"], "/batch/pause": ["post"], "/batch/jobs": ["post"],
          "/batch/jobs/{id}": ["get", "patch", "delete"], "/queue": ["get", "post"],
          "/queue/{id}": ["patch", "delete"], "/queue/hold": ["post"], "/queue/continue": ["post"]}


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    authorization: str | None


@dataclass
class Answer:
    code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def job(job_id: int, name: str, status: str = "QUEUED", frames: int = 10, done: int = 0,
        started: float | None = None) -> dict[str, Any]:
    """A job of the poll (docs/api.md, Poll), with what the page reads."""
    finished = started + 40.0 if started and status == "FINISHED" else None
    return {"id": job_id, "name": name, "status": status, "progress": 100.0 * done / frames,
            "frames_done": done, "frames_total": frames, "eta": None, "messages": [],
            "times": {"started": started, "finished": finished, "rendertime": None},
            "engine": {"type": "CYCLES", "data": {}} if started else {"type": None, "data": None},
            "outputs": [f"{name.lower().replace(' ', '_')}_{i:04d}.png" for i in range(1, done + 1)],
            "process": None}


def tiny_png(width: int = 96, height: int = 54) -> bytes:
    """A small gradient PNG, so thumbnails show something."""
    rows = b"".join(b"\0" + bytes(v for x in range(width) for v in (40 + x, 70 + y * 2, 150))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + \
        chunk(b"IEND", b"")


class QueueRoutesDouble:
    """The routes' state: ``batch`` (a poll dict or None), ``queue`` entries, ``held``."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.routes = dict(ROUTES)             # what GET /openapi.json lists
        self.batch: dict[str, Any] | None = None
        self.run_order: list[int] = []       # the queued jobs, in the order they will start
        self.queue: list[dict[str, Any]] = []
        self.held = False
        self.started_ids: set[int] = set()    # queue ids that became the current batch (409)
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self.static = load_static()
        self.png = tiny_png()
        self.httpd: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ set-up by a test

    def set_batch(self, name: str, status: str, jobs: list[dict[str, Any]], run_order: list[int]) -> None:
        with self.lock:
            started = min((j["times"]["started"] for j in jobs if j["times"]["started"]), default=None)
            self.batch = {"name": name, "status": status, "jobs": jobs, "messages": [], "hooks": [],
                          "times": {"started": started, "finished": None, "rendertime": None},
                          "stats": {}, "eta": None, "failed": 0, "poweroff": None, "pausing": None}
            self.run_order = list(run_order)

    def add_queued(self, name: str, jobs: int) -> int:
        with self.lock:
            return self.add_entry(name, jobs)

    def add_entry(self, name: str, jobs: int) -> int:
        """A ``QueueEntry.to_json()`` at the end of the queue (estimates stay None)."""
        entry_id = max((e["id"] for e in self.queue), default=0) + 1
        self.queue.append({"id": entry_id, "name": name, "jobs": jobs, "position": len(self.queue),
                           "added": time.time(), "estimated_start": None, "estimated_end": None})
        return entry_id

    def finish_pause(self) -> None:
        """What the engine does once a pause is done: PAUSED, the running jobs QUEUED again."""
        with self.lock:
            assert self.batch is not None
            self.batch["status"], self.batch["pausing"] = "PAUSED", None
            running = [j["id"] for j in self.batch["jobs"] if j["status"] == "RUNNING"]
            for job_id in running:
                self.batch["jobs"][job_id]["status"] = "QUEUED"
            self.run_order = running + self.run_order

    def calls(self, method: str, prefix: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    # ------------------------------------------------------------------ serving

    def start(self) -> str:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                found = double.handle(self.command, self.path, dict(self.headers), raw)
                body = found.body if isinstance(found.body, bytes) else json.dumps(found.body).encode()
                self.send_response(found.code)
                headers = {**SECURITY_HEADERS, "Content-Type": "application/json", **found.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self.lock:
            if not PUBLIC.match(path):
                self.requests.append(Recorded(method, path, body, authorization))
            if PUBLIC.match(path):
                return self.static_file(path)
            needs_token = not (method == "GET" and path in OPEN_READS)
            if needs_token and self.token and authorization != f"Bearer {self.token}":
                return Answer(401, {"status": "This route needs the server's access token"})
            return self.route(method, path, body)

    def static_file(self, path: str) -> Answer:
        found = self.static.get(path.rsplit("/", 1)[-1] if path != "/" else "index.html")
        if found is None:
            return Answer(404, {"status": "No such dashboard file"})
        return Answer(200, found.body, {"Content-Type": found.content_type})

    def route(self, method: str, path: str, body: Any) -> Answer:
        if (method, path) == ("GET", "/openapi.json"):
            paths: dict[str, Any] = {route: {verb: {} for verb in verbs}
                                     for route, verbs in self.routes.items()}
            return Answer(200, {"openapi": "3.0.3", "paths": paths})
        if (method, path) == ("GET", "/batch"):
            return self.poll()
        if (method, path) == ("GET", "/queue"):
            return Answer(200, self.queue_json())
        if (method, path) == ("POST", "/queue"):
            return self.enqueue(body)
        if method == "POST" and path in ("/queue/hold", "/queue/continue"):
            self.held = path.endswith("hold")
            status = "Queue held" if self.held else "Queue continues"
            return Answer(200, {"status": status, "held": self.held})
        if match := re.fullmatch(r"/queue/(\d+)", path):
            return self.change_queued(method, int(match[1]), body)
        if (method, path) == ("POST", "/batch/pause"):
            return self.pause(body)
        if (method, path) == ("GET", "/batch/resume"):
            return self.resume()
        if (match := re.fullmatch(r"/batch/jobs/(\d+)", path)) and method == "PATCH":
            return self.edit_job(int(match[1]), body)
        if (method, path) == ("POST", "/batch/recipe"):
            if self.batch and self.batch["status"] in ("RUNNING", "PAUSED"):
                return Answer(409, {"status": "A batch is running: POST /queue queues a recipe behind it"})
            return Answer(200, {"status": "Recipe loaded", "warnings": []})
        if method == "GET" and path.startswith(("/previews/", "/frames/")):
            return Answer(200, self.png, {"Content-Type": "image/png"})
        return Answer(404, {"status": f"No such route in the double: {method} {path}"})

    # ------------------------------------------------------------------ the routes

    def poll(self) -> Answer:
        if self.batch is None:
            return Answer(409, {"status": "No recipe loaded"})
        jobs = self.batch["jobs"]
        by_start = sorted((j for j in jobs if j["status"] in ("FINISHED", "FAILED", "CANCELLED")),
                          key=lambda j: j["times"]["started"] or 0)
        running = [j["id"] for j in jobs if j["status"] == "RUNNING"]
        disabled = [j["id"] for j in jobs if j["status"] == "DISABLED"]
        order = [j["id"] for j in by_start] + running + self.run_order + disabled
        enabled = [j for j in jobs if j["status"] != "DISABLED"]
        progress = sum(j["progress"] for j in enabled) / max(1, len(enabled))
        view = {**self.batch, "order": order, "running": running, "current_job": min(running, default=None),
                "progress": progress}
        body = json.dumps(view).encode()
        return Answer(200, body, {"ETag": f'"{hashlib.sha256(body).hexdigest()[:16]}"'})

    def queue_json(self) -> dict[str, Any]:
        count = len(self.queue)
        status = f"{count} batch{'es' if count != 1 else ''} queued" + (" (held)" if self.held else "")
        return {"status": status, "held": self.held, "batches": [dict(e) for e in self.queue]}

    def renumber(self) -> None:
        for position, entry in enumerate(self.queue):
            entry["position"] = position

    def enqueue(self, recipe: Any) -> Answer:
        if not isinstance(recipe, dict) or not isinstance(recipe.get("jobs"), list) or not recipe["jobs"]:
            problem = {"path": "jobs", "message": "a recipe needs a non-empty list of jobs"}
            return Answer(400, {"status": "Invalid recipe: 1 problem", "errors": [problem]})
        name = str(recipe.get("name") or "untitled")
        entry_id = self.add_entry(name, len(recipe["jobs"]))
        position = len(self.queue) - 1
        status = f"Queued {name}: position {position}"
        return Answer(201, {"status": status, "id": entry_id, "position": position})

    def change_queued(self, method: str, entry_id: int, body: Any) -> Answer:
        if entry_id in self.started_ids and method == "DELETE":
            return Answer(409, {"status": f"Queued batch {entry_id} is the current batch now: "
                                          "DELETE /batch cancels it"})
        entry = next((e for e in self.queue if e["id"] == entry_id), None)
        if entry is None:
            return Answer(404, {"status": f"No queued batch {entry_id}"})
        if method == "DELETE":
            self.queue.remove(entry)
            self.renumber()
            return Answer(200, {"status": f"Removed {entry['name']} from the queue"})
        if method != "PATCH":
            return Answer(405, {"status": "Method not allowed"})
        position = body.get("position") if isinstance(body, dict) else None
        if not isinstance(position, int) or isinstance(position, bool) or position < 0:
            return Answer(400, {"status": "The body must be {\"position\": N} with N >= 0"})
        self.queue.remove(entry)
        self.queue.insert(min(position, len(self.queue)), entry)
        self.renumber()
        return Answer(200, self.queue_json())

    def pause(self, body: Any) -> Answer:
        when = body.get("when", "frame") if isinstance(body, dict) else "frame"
        if when not in PAUSES:
            return Answer(400, {"status": f"Unknown pause {when!r}: now, frame or job"})
        if not self.batch or self.batch["status"] != "RUNNING":
            return Answer(409, {"status": "No batch is running"})
        current = self.batch["pausing"]
        if current and PAUSES.index(when) >= PAUSES.index(current):
            return Answer(409, {"status": "The batch is already pausing"})
        self.batch["pausing"] = when
        return Answer(200, {"status": f"Pausing ({when})", "when": when})

    def resume(self) -> Answer:
        if not self.batch or self.batch["status"] != "PAUSED":
            return Answer(409, {"status": "Nothing to resume"})
        self.batch["status"] = "RUNNING"
        return Answer(200, {"status": "Batch continued", "name": self.batch["name"],
                            "jobs": len(self.run_order)})

    def edit_job(self, job_id: int, body: Any) -> Answer:
        if not self.batch or job_id >= len(self.batch["jobs"]):
            return Answer(404, {"status": f"No job {job_id} in the batch"})
        if not isinstance(body, dict) or not ({"position", "enabled"} & set(body)):
            return Answer(400, {"status": "The body must have position and/or enabled"})
        edited = self.batch["jobs"][job_id]
        if "enabled" in body and body["enabled"] is True and edited["status"] == "DISABLED":
            edited["status"] = "QUEUED"
            self.run_order.append(job_id)
        elif edited["status"] != "QUEUED":
            reason = f"Job {job_id} is {edited['status']}: only a queued job can change"
            return Answer(409, {"status": reason})
        if body.get("enabled") is False:
            edited["status"] = "DISABLED"
            self.run_order.remove(job_id)
        elif "position" in body:
            self.run_order.remove(job_id)
            self.run_order.insert(min(int(body["position"]), len(self.run_order)), job_id)
        return Answer(200, {"status": f"Job {job_id} changed", "order": self.run_order})
