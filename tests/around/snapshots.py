"""Batch snapshots shaped like the spec's poll response (plus the engine API's extras)."""

from __future__ import annotations

from typing import Any

from renderplus.batch.recipe import Recipe, parse_recipe

T0 = 1_700_000_000.0  # a fixed epoch, so texts are comparable


def job_entry(job_id: int, status: str, *, name: str = "", rendertime: float | None = None,
              messages: list[str] | None = None, progress: float = 0.0,
              engine: str | None = None, data: dict[str, str] | None = None) -> dict[str, Any]:
    started = T0 + 10 * job_id if status not in ("QUEUED", "DISABLED") else None
    finished = started + (rendertime or 0) if started is not None and status != "RUNNING" else None
    return {
        "id": job_id, "status": status, "name": name,
        "times": {"started": started, "finished": finished,
                  "rendertime": rendertime if finished is not None else None},
        "messages": messages or [], "progress": progress,
        "engine": {"type": engine, "data": data}, "eta": None,
        "frames_done": 1 if status == "FINISHED" else 0, "frames_total": 1, "outputs": [],
    }


def batch_snapshot(jobs: list[dict[str, Any]], *, status: str = "RUNNING",
                   name: str = "/projects/shots.blend", messages: list[str] | None = None,
                   eta: float | None = None) -> dict[str, Any]:
    ended = status in ("FINISHED", "CANCELLED")
    return {
        "status": status,
        "times": {"started": T0, "finished": T0 + 3725 if ended else None,
                  "rendertime": 3725.0 if ended else None},
        "stats": {"slowest_index": None, "slowest_time": None, "fastest_index": None,
                  "fastest_time": None, "average_time": None},
        "messages": messages or [],
        "jobs": jobs,
        "current_job": next((j["id"] for j in jobs if j["status"] == "RUNNING"), None),
        "name": name, "progress": 0.0, "eta": eta,
        "failed": sum(1 for j in jobs if j["status"] == "FAILED"), "poweroff": None,
    }


def recipe_with(*, jobs: int = 2, base_dir: str | None = None, **sections: Any) -> Recipe:
    """A valid recipe with ``jobs`` jobs; ``sections`` replace top-level keys
    (``notifications=...``, ``settings=...``, ``poweroff=...``)."""
    data: dict[str, Any] = {
        "name": "/projects/shots.blend", "version": 2.2,
        "jobs": [{"id": i, "name": f"Shot {i}", "blend_file": "/projects/shots.blend"}
                 for i in range(jobs)],
    }
    data.update(sections)
    return parse_recipe(data, base_dir=base_dir)


def mail_section(server: str, *, ssl: bool = False, user: str = "", password: str = "",
                 to: str = "lead@studio.test") -> dict[str, Any]:
    return {"mail": {"enabled": True, "server": server, "ssl": ssl, "user": user,
                     "pass": password, "to": to}}
