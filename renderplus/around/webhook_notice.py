"""A batch event as a webhook notice: its words (``summary``'s, as the mail and the feed say
them), its JSON payload, and the thumbnail a chat shows beside it.

The thumbnail is the newest verified frame a browser can show (PNG, JPEG, WebP, GIF) or, for
frames it cannot (EXR, TIFF...), the JPEG preview Render+ made of it; none when there is
neither, or when the image is larger than a chat takes (``MAX_THUMBNAIL_BYTES``).
"""

from __future__ import annotations

import os
import time
from typing import Any

from ..batch.view import BatchStatus, BatchView, JobStatus, JobView
from ..blender_scripts.previews import preview_path
from .summary import batch_title, format_duration, job_counts, job_label, movie_notice_lines, outcome_text
from .webhook_presets import Notice, Thumbnail

MAX_THUMBNAIL_BYTES = 8 * 1024 * 1024   # below Discord's and ntfy's upload limits
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".webp": "image/webp", ".gif": "image/gif"}
MAX_FAILED_LISTED = 10


def _reason(job: JobView) -> str:
    return job.messages[-1] if job.messages else ""


def _payload(event: str, view: BatchView, fallback: str, title: str, text: str) -> dict[str, Any]:
    counts = job_counts(view)
    failed = [job for job in view.jobs if job.status is JobStatus.FAILED]
    return {
        "event": event, "title": title, "message": text, "source": "Render+", "time": time.time(),
        "batch": {"name": batch_title(view, fallback), "file": view.name or fallback,
                  "status": view.status.value},
        "status": view.status.value,
        "jobs": {"total": counts.total, "finished": counts.finished, "failed": counts.failed,
                 "cancelled": counts.cancelled, "running": counts.running},
        "failed_jobs": [{"id": job.id, "name": job.name, "reason": _reason(job)}
                        for job in failed[:MAX_FAILED_LISTED]],
        "render_time": view.times.rendertime,
    }


def batch_end_notice(view: BatchView, fallback: str) -> Notice:
    name = batch_title(view, fallback)
    title = f'Render+: batch "{name}" {view.status.value}'
    lines = [outcome_text(view)]
    if view.times.rendertime is not None:
        lines.append(f"Render time {format_duration(view.times.rendertime)}")
    failed = [job for job in view.jobs if job.status is JobStatus.FAILED]
    lines += [f"Failed: job {job_label(job)}" + (f": {_reason(job)}" if _reason(job) else "")
              for job in failed[:MAX_FAILED_LISTED]]
    if len(failed) > MAX_FAILED_LISTED:
        lines.append(f"... and {len(failed) - MAX_FAILED_LISTED} more failed")
    lines += movie_notice_lines(view)
    text = "\n".join(lines)
    bad = bool(failed) or view.status is not BatchStatus.FINISHED
    return Notice("batch_end", title, text, _payload("batch_end", view, fallback, title, text),
                  bad=bad, good=not bad)


def job_failed_notice(view: BatchView, fallback: str, job_id: int, reason: str) -> Notice:
    job = next((j for j in view.jobs if j.id == job_id), None)
    label = job_label(job) if job is not None else f"#{job_id}"
    title = f"Render+: job {label} FAILED"
    text = f'Batch "{batch_title(view, fallback)}": {reason or "no reason given"}'
    payload = _payload("job_failed", view, fallback, title, text)
    payload["job"] = {"id": job_id, "name": job.name if job is not None else "", "reason": reason}
    return Notice("job_failed", title, text, payload, bad=True)


def paused_notice(view: BatchView, fallback: str) -> Notice:
    title = f'Render+: batch "{batch_title(view, fallback)}" paused'
    text = outcome_text(view)
    return Notice("paused", title, text, _payload("paused", view, fallback, title, text))


def queue_end_notice(view: BatchView, fallback: str) -> Notice:
    title = "Render+: queue finished"
    text = f'The last batch, "{batch_title(view, fallback)}", {view.status.value}: {outcome_text(view)}'
    return Notice("queue_end", title, text, _payload("queue_end", view, fallback, title, text),
                  good=view.status is BatchStatus.FINISHED)


def thumbnail(view: BatchView, job_id: int | None = None) -> Thumbnail | None:
    """The newest frame people can look at: of job ``job_id`` only (a failed job: another job's
    picture would mislead), else of the batch's jobs, the latest to end first. None when there
    is none (or it cannot be read); never raises."""
    jobs = [j for j in view.jobs if j.id == job_id] if job_id is not None else \
        sorted(view.jobs, key=lambda j: j.times.finished or j.times.started or 0, reverse=True)
    for job in jobs:
        for frame in reversed(job.outputs):
            found = _image(frame) or _image(preview_path(frame))
            if found is not None:
                return found
    return None


def _image(path: str) -> Thumbnail | None:
    mime = IMAGE_TYPES.get(os.path.splitext(path)[1].lower())
    if mime is None:
        return None
    try:
        if not 0 < os.path.getsize(path) <= MAX_THUMBNAIL_BYTES:
            return None
        with open(path, "rb") as handle:
            data = handle.read(MAX_THUMBNAIL_BYTES + 1)
    except (OSError, ValueError):
        return None
    if len(data) > MAX_THUMBNAIL_BYTES:
        return None
    return Thumbnail(os.path.basename(path), data, mime)
