"""The typed rows the store hands out and takes in: frozen dataclasses, no SQL."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..executors.base import JobHandle
from ..spawner import boot_id, pid_exists, start_ticks
from ..view import BatchStatus, JobStatus

if TYPE_CHECKING:
    from .claims import Claim


@dataclass(frozen=True)
class Owner:
    """The Render+ process that runs a batch: pid plus boot id and start time, because a pid
    alone is reused after a reboot or a long uptime."""

    pid: int
    boot_id: str | None = None
    start_ticks: int | None = None

    @classmethod
    def current(cls) -> Owner:
        """This process."""
        pid = os.getpid()
        return cls(pid, boot_id(), start_ticks(pid))

    def alive(self) -> bool:
        """True while the recorded process still runs (same boot, same start time).

        Without /proc (not Linux) only the pid can be checked, which errs towards "alive":
        a batch is never taken for interrupted while its owner may still run it."""
        if self.boot_id is None or self.start_ticks is None:
            return pid_exists(self.pid)
        return self.boot_id == boot_id() and start_ticks(self.pid) == self.start_ticks


@dataclass(frozen=True)
class NewJob:
    """A job as ``create_batch`` records it; ``job_id`` is its index in the recipe."""

    job_id: int
    name: str
    source_file: str = ""          # the .blend, for job_history()
    status: JobStatus = JobStatus.QUEUED


@dataclass(frozen=True)
class FrameFile:
    """One file written for a frame, as it was when verified (size, mtime and inode tell a
    later run whether it is still the same file)."""

    path: str
    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True)
class StoredFrame:
    """A frame recorded as written and verified: its main output and any File Output node
    files (a frame counts as done only while all of them still verify)."""

    frame: int
    files: tuple[FrameFile, ...]


@dataclass(frozen=True)
class StoredJob:
    job_id: int
    name: str
    source_file: str
    status: JobStatus
    started: float | None
    finished: float | None
    messages: tuple[str, ...]
    attempts: int
    handle: JobHandle | None
    peak_mem_mb: float | None
    rendertime: float | None
    frames_done: int               # frames recorded by add_frame


@dataclass(frozen=True)
class StoredBatch:
    """Everything the store knows of one batch: enough to rebuild its view or resume it."""

    id: int
    name: str
    recipe_json: str
    base_dir: str
    status: BatchStatus
    created: float
    started: float | None
    finished: float | None
    messages: tuple[str, ...]
    owner: Owner | None            # the process that last ran it (kept for the record)
    jobs: tuple[StoredJob, ...]
    claim: Claim | None = None     # its owner now (store/claims.py), None when unclaimed
    run_order: tuple[int, ...] | None = None   # the jobs still to start, in order (None: by id)
    rendering: float | None = None   # seconds it rendered (None: recorded before Render+ kept it)
    start_at: float | None = None  # WAITING for its start: when it starts (batch/schedule.py)
    paused_by: str | None = None   # PAUSED by its window: "window"; by hand: None

    @property
    def interrupted(self) -> bool:
        """RUNNING, but no live process owns it (killed, crashed, rebooted) and none is
        about to take it over (a hand-over waiting for its successor)."""
        return self.status is BatchStatus.RUNNING and not self.owned

    @property
    def owned(self) -> bool:
        """A live process owns it, or a successor it was handed to is awaited."""
        if self.claim is not None:
            return self.claim.busy()
        return self.owner is not None and self.owner.alive()   # a run recorded before claims


@dataclass(frozen=True)
class BatchSummary:
    """One line of the history (``GET /batches``, ``--history``)."""

    id: int
    name: str
    status: BatchStatus
    created: float
    started: float | None
    finished: float | None
    jobs: int
    failed: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": self.status.value,
                "created": self.created, "started": self.started, "finished": self.finished,
                "jobs": self.jobs, "failed": self.failed}


@dataclass(frozen=True)
class PastRun:
    """An ended run of the same job of the same .blend in an earlier batch (ETAs, memory)."""

    batch_id: int
    job_id: int
    status: JobStatus              # FINISHED or FAILED (an out-of-memory failure has a peak too)
    finished: float | None
    rendertime: float | None
    peak_mem_mb: float | None
    frames_done: int
