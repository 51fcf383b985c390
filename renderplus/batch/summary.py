"""A batch snapshot in words people read: one wording for the mail, the desktop notification
and the RSS feed ("7 of 8 jobs finished, 1 failed", durations, times, job labels)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DONE_STATUSES = ("FINISHED", "FAILED", "CANCELLED")


def batch_title(snapshot: Mapping[str, Any], fallback: str = "") -> str:
    """The batch as people call it: the .blend's file name (``shots.blend``)."""
    name = str(snapshot.get("name") or fallback or "")
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


def job_counts(snapshot: Mapping[str, Any]) -> JobCounts:
    jobs = [j for j in _jobs(snapshot) if j.get("status") != "DISABLED"]
    statuses = [j.get("status") for j in jobs]
    return JobCounts(total=len(jobs), finished=statuses.count("FINISHED"),
                     failed=statuses.count("FAILED"), cancelled=statuses.count("CANCELLED"),
                     running=statuses.count("RUNNING"))


def outcome_text(snapshot: Mapping[str, Any]) -> str:
    """``7 of 8 jobs finished, 1 failed`` (cancelled and failed counts only when non-zero)."""
    counts = job_counts(snapshot)
    noun = "job" if counts.total == 1 else "jobs"
    parts = [f"{counts.finished} of {counts.total} {noun} finished"]
    if counts.failed:
        parts.append(f"{counts.failed} failed")
    if counts.cancelled:
        parts.append(f"{counts.cancelled} cancelled")
    return ", ".join(parts)


def headline(snapshot: Mapping[str, Any], fallback_name: str = "") -> str:
    """``Render+: batch "shots.blend" FINISHED — 7 of 8 jobs finished, 1 failed``."""
    status = snapshot.get("status") or "UNKNOWN"
    return (f'Render+: batch "{batch_title(snapshot, fallback_name)}" {status} — '
            f"{outcome_text(snapshot)}")


def job_label(job: Mapping[str, Any]) -> str:
    """``#2 "Closeup"`` (or ``#2`` for a job without a name)."""
    name = job.get("name") or ""
    return f'#{job.get("id", "?")} "{name}"' if name else f'#{job.get("id", "?")}'


def format_duration(seconds: Any) -> str:
    """``12.3 s``, ``4 min 05 s``, ``1 h 02 min 05 s``; ``-`` when unknown."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds != seconds:
        return "-"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"


def format_time(epoch: Any) -> str:
    """Local wall-clock time of an epoch timestamp, ``2024-05-01 14:03:22``; ``-`` when unknown."""
    if not isinstance(epoch, int | float) or isinstance(epoch, bool):
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))
    except (OverflowError, OSError, ValueError):
        return "-"


def times_of(item: Mapping[str, Any]) -> Mapping[str, Any]:
    times = item.get("times")
    return times if isinstance(times, Mapping) else {}


def _jobs(snapshot: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    jobs = snapshot.get("jobs")
    if not isinstance(jobs, list):
        return []
    return [j for j in jobs if isinstance(j, Mapping)]


def jobs_of(snapshot: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The snapshot's job entries (malformed entries skipped)."""
    return _jobs(snapshot)


def messages_of(item: Mapping[str, Any]) -> list[str]:
    messages = item.get("messages")
    return [str(m) for m in messages] if isinstance(messages, list) else []


def redact(text: str, secret: str) -> str:
    """``text`` with ``secret`` replaced by ``***`` (no-op for an empty secret)."""
    return text.replace(secret, "***") if secret else text


