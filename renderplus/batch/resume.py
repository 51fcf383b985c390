"""A batch read back from the store, and the store's side of a batch that starts running.

``restore_state`` shows a stored batch as it stood: an interrupted one CANCELLED and
``resumable``, a PAUSED one PAUSED (its jobs a kill -9 caught pausing QUEUED again), each job
with its statuses, messages and the frames it recorded (done count, outputs, progress).
``open_record`` runs when a batch starts: it creates the batch in the store, or takes over the
stored one being resumed (its unfinished jobs queued again with only their still verified
frames counted done; a movie restarts whole), and gives each job still to render its estimate
from the history (``estimate``) for the ETAs. Times count rendering: a restored job and batch
keep the seconds they rendered, never the time Render+ was down. A resume verifies the frames
of finished jobs too: a finished job whose recorded frame is gone or changed on disk is queued
again for those frames only (``lost_frames``), saying which.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import outputs
from .batchstate import BatchState
from .changes import BatchChanges
from .estimate import estimate_recipe
from .jobstate import JobState
from .movie_resume import finished_jobs_stale_movies, show_restored_movie, stale_movie
from .parser import JobProgress
from .store import BatchStore, StoredBatch, StoredFrame, StoreError
from .store.run_history import rendered_seconds
from .view import BatchStatus, JobStatus

AGAIN = (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.RUNNING, JobStatus.QUEUED)
MAX_NAMED_FRAMES = 10   # frames a message names one by one


@dataclass
class Restored:
    """The stored batch a batch was restored from, and the frames its jobs recorded (read once)."""

    stored: StoredBatch
    recorded: dict[int, dict[int, StoredFrame]] = field(default_factory=dict)


def restore_state(state: BatchState, stored: StoredBatch, store: BatchStore | None) -> Restored:
    """Set ``state`` (a new batch of the stored recipe) to the stored batch as it stood."""
    state.resumable = stored.interrupted
    state.status = BatchStatus.CANCELLED if stored.interrupted else stored.status
    state.started, state.finished = stored.started, stored.finished
    state.ran = _stored_rendering(stored)
    state.messages = list(stored.messages)
    for saved in stored.jobs:
        if not 0 <= saved.job_id < len(state.jobs):
            continue
        job = state.jobs[saved.job_id]
        job.status, job.started, job.finished = saved.status, saved.started, saved.finished
        job.messages, job.attempts = list(saved.messages), saved.attempts
        job.handle = saved.handle
        job.ran = saved.rendertime or 0.0
        if saved.status is JobStatus.RUNNING and store is not None:  # what its killed run did
            with contextlib.suppress(StoreError):
                job.ran = max(job.ran, rendered_seconds(store, stored.id, saved.job_id))
        if saved.status is JobStatus.RUNNING and stored.status is BatchStatus.PAUSED:
            job.status = JobStatus.QUEUED   # its Render+ died while the batch paused
            job.add_message("Paused: Render+ stopped while this job rendered; its missing "
                            "frames render when the batch continues")
        elif saved.status is JobStatus.RUNNING:  # its Render+ died under it
            job.status = JobStatus.CANCELLED
            job.add_message("Interrupted: Render+ stopped while this job rendered; "
                            "resume renders its missing frames")
    restore_order(state, stored)
    restored = Restored(stored)
    if store is not None:
        _show_recorded_frames(state, restored, store)
    return restored


def _show_recorded_frames(state: BatchState, restored: Restored, store: BatchStore) -> None:
    """A restored job shows the frames its run recorded: its done count, its outputs (the
    panel's and the dashboard's thumbnails) and its progress, as the batch stood."""
    stored = restored.stored
    for saved in stored.jobs:
        if not 0 <= saved.job_id < len(state.jobs):
            continue
        if not saved.frames_done:
            restored.recorded[saved.job_id] = {}  # no frame recorded: nothing to ask the store
            continue
        try:
            recorded = restored.recorded[saved.job_id] = store.frames(stored.id, saved.job_id)
        except StoreError as exc:  # a resume asks again, and fails the same way
            state.add_batch_message(f"Job {saved.job_id}'s recorded frames could not be read: {exc}")
            continue
        job = state.jobs[saved.job_id]
        job.done = {frame: [f.path for f in item.files] for frame, item in recorded.items()}
        with state.lock:
            job.progress = JobProgress(frames=job.job.frames, engine=job.job.engine)
            job.count_done_frames()
            show_restored_movie(state.recipe, job)


def restore_order(state: BatchState, stored: StoredBatch) -> None:
    """The stored run order (docs/engine-api.md, The run order is data): its still queued jobs
    in their stored places; without one (never changed), the recipe's."""
    if stored.run_order is not None:
        state.order.replace(stored.run_order)
    state.order.refill(job.id for job in state.jobs if job.status is JobStatus.QUEUED)


def open_record(state: BatchState, changes: BatchChanges, restored: Restored | None) -> None:
    """Create the batch in the store, or take over the stored one being resumed; then the run
    order holds every queued job and is stored. Edits wait meanwhile (``state.edit_lock``): a
    job added now is in the new record, or added to it."""
    with state.edit_lock:
        _open_record(state, changes, restored)
        order = state.order.refill(job.id for job in state.jobs if job.status is JobStatus.QUEUED)
        changes.store.batch(status=state.status, started=state.started, finished=None,
                            run_order=order, start_at=state.starts_at, paused_by=None)
    estimate_jobs(state, changes.store.store)


def _open_record(state: BatchState, changes: BatchChanges, restored: Restored | None) -> None:
    writer = changes.store
    if restored is None:
        writer.create(state.recipe, [job.status for job in state.jobs])
    else:
        writer.attach(restored.stored.id, restored.stored.name)
        recorded = {saved.job_id for saved in restored.stored.jobs}
        unrecorded = [job for job in state.jobs if job.id not in recorded]
        if unrecorded:   # added while it was shown, before this process owned its record
            writer.add_jobs(state.recipe, [job.job for job in unrecorded],
                            [job.status for job in unrecorded], list(state.order))
        for job in state.jobs:
            if job.status in AGAIN:
                _prepare_resume(job, restored, changes)
            elif job.status is JobStatus.FINISHED:
                _recheck_finished(job, restored, changes)
        if restored.stored.status is not BatchStatus.WAITING:   # else it never rendered
            changes.report("Resumed: only missing or unverified frames render again")


def estimate_jobs(state: BatchState, store: BatchStore | None) -> None:
    """Each job still to render gets its estimate from the history (``estimate``), for the
    ETAs before it starts (and its first frames after)."""
    estimates = estimate_recipe(state.recipe, store)
    with state.lock:
        for job in state.jobs:
            job.prior = estimates.get(job.id)
            job.revision += 1


def _stored_rendering(stored: StoredBatch) -> float:
    """The seconds a stored batch rendered; a batch recorded before Render+ kept them: its
    wall time, as it was shown then."""
    if stored.rendering is not None:
        return stored.rendering
    if stored.started is not None and stored.finished is not None:
        return stored.finished - stored.started
    return 0.0


def _prepare_resume(job: JobState, restored: Restored, changes: BatchChanges) -> None:
    """A job to render again: its verified frames count as done; a movie restarts whole."""
    writer = changes.store
    store = writer.store
    job.status, job.finished, job.cancel_requested = JobStatus.QUEUED, None, False
    if outputs.is_movie(job.job):
        job.add_message("A movie cannot resume mid-file: it renders again from the start")
        writer.forget(job.id)
        return
    if store is None:
        return
    recorded = restored.recorded.get(job.id)
    if recorded is None:
        recorded = store.frames(restored.stored.id, job.id)
    stamps = {frame: [outputs.Stamp(f.path, f.size, f.mtime_ns, f.inode) for f in item.files]
              for frame, item in recorded.items()}
    job.done = outputs.verified_frames(stamps)
    gone = [frame for frame in stamps if frame not in job.done]
    if gone:
        writer.forget(job.id, gone)
    _keep_unrecorded_frames(job, set(stamps), changes)


def _keep_unrecorded_frames(job: JobState, recorded: set[int], changes: BatchChanges) -> None:
    """Frames this job wrote that the store could not record (its disk was full when the run
    died) are kept: a file at the job's own output path for the frame, written after the job
    started, and whole by its content (``outputs.written_since``). A file from before the
    job, or one whose wholeness cannot be told, renders again: its origin is unknown."""
    started = job.started
    if started is None:
        return
    recipe = changes.state.recipe
    blend_dir = os.path.dirname(recipe.resolve(job.job.source_file))
    found = outputs.existing_outputs(recipe, job.job, job.job.frames, blend_dir)
    kept = []
    for frame, paths in sorted(found.items()):
        if frame in recorded or frame in job.done:
            continue  # a recorded frame that failed its check is never taken back this way
        if all(outputs.written_since(path, started) for path in paths):
            job.done[frame] = paths
            changes.store.frame(job.id, frame, paths)
            kept.append(frame)
    if kept:
        job.add_message(f"Kept {len(kept)} frame(s) this job wrote that the store had not "
                        f"recorded ({_frame_list(kept)}): written after the job started, and whole")


def _frame_list(frames: list[int]) -> str:
    named = ", ".join(str(frame) for frame in frames[:MAX_NAMED_FRAMES])
    more = f" and {len(frames) - MAX_NAMED_FRAMES} more" if len(frames) > MAX_NAMED_FRAMES else ""
    return f"frame{'s' if len(frames) > 1 else ''} {named}{more}"


# ---------------------------------------------------------------- finished jobs, verified again


def lost_frames(recorded: Mapping[int, StoredFrame]) -> dict[int, list[str]]:
    """The recorded frames whose files are not all still there as recorded, with the paths of
    their files that are gone or changed."""
    lost: dict[int, list[str]] = {}
    for frame, item in recorded.items():
        bad = [f.path for f in item.files
               if not outputs.unchanged(outputs.Stamp(f.path, f.size, f.mtime_ns, f.inode))]
        if bad or not item.files:
            lost[frame] = bad
    return lost


def finished_jobs_lost_frames(stored: StoredBatch, store: BatchStore) -> dict[int, list[int]]:
    """Each finished job of ``stored`` with recorded frames lost since: its lost frames."""
    found: dict[int, list[int]] = {}
    for saved in stored.jobs:
        if saved.status is not JobStatus.FINISHED or not saved.frames_done:
            continue
        try:
            lost = lost_frames(store.frames(stored.id, saved.job_id))
        except StoreError:
            continue
        if lost:
            found[saved.job_id] = sorted(lost)
    return found


def _recheck_finished(job: JobState, restored: Restored, changes: BatchChanges) -> None:
    """A finished job whose recorded frames are lost renders those again (its hooks run as for
    any resumed job); the job's messages name them."""
    writer = changes.store
    store = writer.store
    if store is None:
        return
    recorded = restored.recorded.get(job.id)
    if recorded is None:
        try:
            recorded = store.frames(restored.stored.id, job.id)
        except StoreError:
            return
    lost = lost_frames(recorded)
    if not lost:
        stale = stale_movie(changes.state.recipe, job.job, recorded)
        if stale:   # every frame is there: it renders nothing, its movie is made again
            job.status, job.finished, job.cancel_requested = JobStatus.QUEUED, None, False
            job.add_message(stale)
        return
    job.status, job.finished, job.cancel_requested = JobStatus.QUEUED, None, False
    job.add_message(_lost_message(lost))
    if outputs.is_movie(job.job):
        job.add_message("A movie cannot resume mid-file: it renders again from the start")
        job.done = {}
        writer.forget(job.id)
        return
    job.done = {frame: [f.path for f in item.files] for frame, item in recorded.items()
                if frame not in lost}
    if len(recorded) < len(job.job.frames):  # frames done without a record (skipped): still done
        job.done.update((frame, []) for frame in job.job.frames
                        if frame not in recorded and frame not in job.done)
    writer.forget(job.id, lost)


def _lost_message(lost: Mapping[int, list[str]]) -> str:
    frames = sorted(lost)
    named = []
    for frame in frames[:MAX_NAMED_FRAMES]:
        paths = lost[frame]
        what = ", ".join(f"{path} {'changed' if os.path.exists(path) else 'missing'}"
                         for path in paths) or "no file recorded"
        named.append(f"frame {frame} ({what})")
    more = f" and {len(frames) - MAX_NAMED_FRAMES} more" if len(frames) > MAX_NAMED_FRAMES else ""
    return (f"Resume found {len(frames)} frame(s) of this finished job lost on disk since they "
            f"were rendered: {'; '.join(named)}{more}; only they render again")


def resumable(stored: StoredBatch, store: BatchStore) -> bool:
    """Left RUNNING (interrupted, or run by another process), with jobs to render again, or
    with frames of its FINISHED jobs lost on disk since, or their movies missing or stale."""
    return stored.status is BatchStatus.RUNNING or any(
        job.status in (JobStatus.FAILED, JobStatus.CANCELLED) for job in stored.jobs
    ) or bool(finished_jobs_lost_frames(stored, store)) or bool(finished_jobs_stale_movies(stored, store))
