"""A batch in words people read: one wording for the mail, the desktop notification and the
RSS feed ("7 of 8 jobs finished, 1 failed", durations, times, job labels). ``format_duration``
is the engine's (``batch.durations``), shared with the add-on's panels; it is offered here too so
the mail, the feed and the notices take all their wording from one module."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..batch.durations import format_duration as format_duration
from ..batch.view import BatchView, JobStatus, JobView

MOVIE_ENDED = ("DONE", "FAILED", "CANCELLED")


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


def movie_facts(movie: Mapping[str, Any]) -> str:
    """``H.264 MP4, 4.0 s, 96 frames at 24 fps, with sound``: what is known of a movie."""
    parts = [str(movie.get("label") or movie.get("format") or "movie")]
    seconds, frames, fps = movie.get("seconds"), movie.get("frames"), movie.get("fps")
    if isinstance(seconds, (int, float)):
        parts.append(format_duration(float(seconds)))
    if isinstance(frames, int):
        rate = f" at {float(fps):g} fps" if isinstance(fps, (int, float)) else ""
        parts.append(f"{frames} frame{'' if frames == 1 else 's'}{rate}")
    if movie.get("sound") is not None:
        parts.append("with sound" if movie["sound"] else "no sound")
    return ", ".join(parts)


def movie_sentence(movie: Mapping[str, Any]) -> str:
    """A job's movie in one line, whatever its status: the mail, the feed and the notices say
    the same (``/out/shot.mp4 (H.264 MP4, 4.0 s, ...)``, ``FAILED: the reason``)."""
    status = str(movie.get("status") or "")
    label = str(movie.get("label") or movie.get("format") or "movie")
    if status == "DONE":
        return f"{movie.get('path') or '(no path)'} ({movie_facts(movie)})"
    if status == "FAILED":
        return f"{label} FAILED: {movie.get('message') or 'no reason given'}"
    if status == "ENCODING":
        progress = movie.get("progress")
        done = f" {float(progress):.0f} %" if isinstance(progress, (int, float)) else ""
        return f"{label} encoding{done}"
    if status == "CANCELLED":
        return f"{label} not made: cancelled during its encode"
    return f"{label} after the frames"


def movie_notice_lines(view: BatchView) -> list[str]:
    """The movies in a short notice: ``Movie: shot.mp4`` (``2 movies made``) and the jobs
    whose encode failed; the mail lists them in full (``mail.movie_lines``)."""
    made = [job.movie for job in view.jobs if job.movie and job.movie.get("status") == "DONE"]
    failed = [job_label(job) for job in view.jobs
              if job.movie and job.movie.get("status") == "FAILED"]
    lines = []
    if len(made) == 1:
        lines.append(f"Movie: {os.path.basename(str(made[0].get('path') or ''))}")
    elif made:
        lines.append(f"{len(made)} movies made")
    if failed:
        lines.append("Movie failed: " + ", ".join(failed[:5])
                     + (f" and {len(failed) - 5} more" if len(failed) > 5 else ""))
    return lines
