"""A batch in words people read: one wording for the mail, the desktop notification and the
RSS feed ("7 of 8 jobs finished, 1 failed", durations, times, job labels). ``format_duration``
is the engine's (``batch.durations``), shared with the add-on's panels; it is offered here too so
the mail, the feed and the notices take all their wording from one module."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ..batch.durations import format_duration as format_duration
from ..batch.view import BatchView, JobStatus, JobView


def batch_title(view: BatchView, fallback: str = "") -> str:
    """The batch as people call it: the .blend's file name (``shots.blend``)."""
    name = view.name or fallback
    base = os.path.basename(name.replace("\\", "/").rstrip("/"))
    return base or "untitled batch"


@dataclass(frozen=True)
class JobCounts:
    """How many enabled jobs are in each state."""

    total: int = 0
    finished: int = 0
    failed: int = 0
    cancelled: int = 0
    running: int = 0

    @property
    def done(self) -> int:
        return self.finished + self.failed + self.cancelled


def job_counts(view: BatchView) -> JobCounts:
    return JobCounts(total=len(view.enabled_jobs), finished=view.count(JobStatus.FINISHED),
                     failed=view.count(JobStatus.FAILED), cancelled=view.count(JobStatus.CANCELLED),
                     running=view.count(JobStatus.RUNNING))


def outcome_text(view: BatchView) -> str:
    """``7 of 8 jobs finished, 1 failed`` (cancelled and failed counts only when non-zero)."""
    counts = job_counts(view)
    noun = "job" if counts.total == 1 else "jobs"
    parts = [f"{counts.finished} of {counts.total} {noun} finished"]
    if counts.failed:
        parts.append(f"{counts.failed} failed")
    if counts.cancelled:
        parts.append(f"{counts.cancelled} cancelled")
    return ", ".join(parts)


def headline(view: BatchView, fallback_name: str = "") -> str:
    """``Render+: batch "shots.blend" FINISHED — 7 of 8 jobs finished, 1 failed``."""
    return (f'Render+: batch "{batch_title(view, fallback_name)}" {view.status} — '
            f"{outcome_text(view)}")


def job_label(job: JobView) -> str:
    """``#2 "Closeup"`` (or ``#2`` for a job without a name)."""
    return f'#{job.id} "{job.name}"' if job.name else f"#{job.id}"


def format_time(epoch: float | None) -> str:
    """Local wall-clock time of an epoch timestamp, ``2024-05-01 14:03:22``; ``-`` when unknown."""
    if epoch is None:
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
    except (OverflowError, OSError, ValueError):
        return "-"


def redact(text: str, secret: str) -> str:
    """``text`` with ``secret`` replaced by ``***`` (no-op for an empty secret)."""
    return text.replace(secret, "***") if secret else text
