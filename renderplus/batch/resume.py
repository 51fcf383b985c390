"""A batch read back from the store, and the store's side of a batch that starts running.

``restore_state`` shows a stored batch as it stood: an interrupted one CANCELLED and
``resumable``, each job with its statuses, messages and the frames it recorded (done count,
outputs, progress). ``open_record`` runs when a batch starts: it creates the batch in the store,
or takes over the stored one being resumed (its unfinished jobs queued again with only their
still verified frames counted done; a movie restarts whole), and reads each queued job's past
render time for the ETAs.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from . import outputs
from .batchstate import BatchState
from .changes import BatchChanges
from .jobstate import JobState
from .parser import JobProgress
from .store import BatchStore, StoredBatch, StoredFrame, StoreError
from .view import BatchStatus, JobStatus

AGAIN = (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.RUNNING, JobStatus.QUEUED)


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
    state.messages = list(stored.messages)
    for saved in stored.jobs:
        if not 0 <= saved.job_id < len(state.jobs):
            continue
        job = state.jobs[saved.job_id]
        job.status, job.started, job.finished = saved.status, saved.started, saved.finished
        job.messages, job.attempts = list(saved.messages), saved.attempts
        job.handle = saved.handle
        if saved.status is JobStatus.RUNNING:  # its Render+ died under it
            job.status = JobStatus.CANCELLED
            job.add_message("Interrupted: Render+ stopped while this job rendered; "
                            "resume renders its missing frames")
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


def open_record(state: BatchState, changes: BatchChanges, restored: Restored | None) -> None:
    """Create the batch in the store, or take over the stored one being resumed."""
    writer = changes.store
    if restored is None:
        writer.create(state.recipe, [job.status for job in state.jobs])
    else:
        writer.attach(restored.stored.id, restored.stored.name)
        for job in state.jobs:
            if job.status in AGAIN:
                _prepare_resume(job, restored, changes)
        changes.report("Resumed: only missing or unverified frames render again")
    writer.batch(status=BatchStatus.RUNNING, started=state.started, finished=None)
    store = writer.store
    if store is None:
        return
    for job in state.jobs:
        if job.status is not JobStatus.QUEUED:
            continue  # only a queued job's ETA uses its past render time
        with contextlib.suppress(Exception):
            past = store.job_history(state.recipe.resolve(job.job.source_file),
                                     job.job.display_name, limit=1, exclude_batch=writer.batch_id)
            if past and past[0].rendertime:
                state.past_rendertime[job.id] = past[0].rendertime


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
