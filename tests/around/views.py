"""Batch views as the runner hands them to the watchers, built by hand with fixed times."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from renderplus.batch.recipe import Recipe, parse_recipe
from renderplus.batch.view import BatchStatus, BatchView, JobStatus, JobView, Times

T0 = 1_700_000_000.0  # a fixed epoch, so texts are comparable


def job_view(job_id: int, status: str, *, name: str = "", rendertime: float | None = None,
             messages: Sequence[str] = (), progress: float = 0.0,
             engine: str | None = None, data: dict[str, str] | None = None) -> JobView:
    job_status = JobStatus(status)
    started = T0 + 10 * job_id if job_status not in (JobStatus.QUEUED, JobStatus.DISABLED) else None
    finished = (started + (rendertime or 0)
                if started is not None and job_status is not JobStatus.RUNNING else None)
    return JobView(id=job_id, status=job_status, name=name, times=Times(started, finished),
                   messages=tuple(messages), progress=progress, engine_type=engine,
                   engine_data=data, frames_done=1 if job_status is JobStatus.FINISHED else 0,
                   frames_total=1)


def batch_view(jobs: Sequence[JobView], *, status: str = "RUNNING",
               name: str = "/projects/shots.blend", messages: Sequence[str] = (),
               eta: float | None = None) -> BatchView:
    batch_status = BatchStatus(status)
    return BatchView(
        status=batch_status, jobs=tuple(jobs), name=name,
        times=Times(T0, T0 + 3725 if batch_status.ended else None),
        messages=tuple(messages),
        current_job=next((j.id for j in jobs if j.status is JobStatus.RUNNING), None),
        eta=eta,
    )


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
