"""A job's ETA: from its history before its frames say more, then from its own frames.

Before a job starts its estimate (``estimate.JobEstimate``) scaled to the frames it still
has to render. Once its Blender runs: the start-up and first-frame warm-up still ahead (from
the estimate), then each frame left at this run's own steady frame time as soon as one frame
after the first was written (the history's until then), less the time already spent on the
frame in progress. ``runs`` says where it came from: the history's run count, or None when the
job's own frames are its ground.
"""

from __future__ import annotations

from .estimate import JobEstimate
from .run_record import RunTiming


def queued_eta(prior: JobEstimate | None, frames_left: int) -> tuple[float | None, int | None]:
    if prior is None:
        return None, None
    return prior.for_frames(frames_left), prior.runs


def running_eta(prior: JobEstimate | None, timing: RunTiming | None, frames_left: int,
                now: float) -> tuple[float | None, int | None]:
    """Seconds left and the runs they rest on; (None, None) when nothing is known yet."""
    if frames_left <= 0:
        return 0.0, None
    if timing is None:
        return queued_eta(prior, frames_left)
    own = timing.steady
    if own is not None:
        per_frame, runs = own, None
    elif prior is not None and prior.per_frame:
        per_frame, runs = prior.per_frame, prior.runs
    elif timing.frame_seconds:
        per_frame, runs = timing.frame_seconds[0], None  # one frame, warm-up included
    else:
        return None, None
    ahead = 0.0
    if prior is not None:
        if timing.ready_at is None:
            ahead += max(0.0, prior.startup - timing.in_frame(now)) + prior.warmup
        elif not timing.frame_seconds:
            ahead += prior.warmup
    spent = timing.in_frame(now) if timing.ready_at is not None else 0.0
    return round(max(0.0, ahead + per_frame * frames_left - spent), 1), runs
