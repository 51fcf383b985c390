"""The read model of a batch: status enums and frozen views, and the one spelling of the poll.

Everything that shows a batch (the server's JSON, the CLI's bars, the add-on's panel, the RSS
feed, the mail, the notifications) reads a ``BatchView``: an immutable picture of one revision
of the batch, with typed attributes. The runner builds it once per revision from per-job
``JobView`` fragments that it caches while a job does not change, so a thousand pollers cost
one build. ``to_json()`` is the only place that spells the poll's dictionary (docs/api.md, Poll,
Render+'s keys included); ``BatchView.from_json`` reads one back, so a client polling over HTTP
gets the same typed object.

The statuses are ``str`` enums: ``JobStatus.FINISHED == "FINISHED"`` holds, so JSON and older
code see plain strings. Event kinds of the stdout parser are not statuses and live in the
parser.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any


class BatchStatus(str, Enum):
    """A batch's status (the four of docs/api.md, Statuses, and ``PAUSED``: stopped on
    request, not ended; it continues in place)."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"
    PAUSED = "PAUSED"

    def __str__(self) -> str:
        return self.value

    @property
    def ended(self) -> bool:
        return self in (BatchStatus.FINISHED, BatchStatus.CANCELLED)


class JobStatus(str, Enum):
    """A job's status: the five of Render+ 1.x and ``FAILED`` (docs/api.md, Statuses)."""

    QUEUED = "QUEUED"
    DISABLED = "DISABLED"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    def __str__(self) -> str:
        return self.value

    @property
    def ended(self) -> bool:
        return self in (JobStatus.FINISHED, JobStatus.CANCELLED, JobStatus.FAILED)


@dataclass(frozen=True)
class Times:
    """Start and end of a batch or job (epoch seconds), and how long it rendered.

    ``rendering`` counts only the time it ran (a resumed batch's stretches, not the hours
    Render+ or Blender was down in between); ``rendertime`` is that once known, else the wall
    time from start to end."""

    started: float | None = None
    finished: float | None = None
    rendering: float | None = None

    @property
    def rendertime(self) -> float | None:
        if self.rendering is not None:
            return self.rendering
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    def to_json(self) -> dict[str, float | None]:
        return {"started": self.started, "finished": self.finished, "rendertime": self.rendertime}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Times:
        data = data or {}
        return cls(_float(data.get("started")), _float(data.get("finished")),
                   _float(data.get("rendertime")))


@dataclass(frozen=True)
class ProcessInfo:
    """The job's Blender process: when it started and exited, and its exit code."""

    started: float | None = None
    exited: float | None = None
    returncode: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"started": self.started, "exited": self.exited, "returncode": self.returncode}


_quote = json.encoder.encode_basestring_ascii  # json.dumps of a str, without its per-call setup
NO_TIMES = Times()
NO_PROCESS = ProcessInfo()
_BLANK_JOB = ('{"id": %d, "status": "%s", "times": {"started": null, "finished": null, '
              '"rendertime": null}, "messages": [], "progress": 0.0, "engine": {"type": null, '
              '"data": null}, "name": %s, "eta": null, "eta_runs": null, "frames_done": 0, '
              '"frames_total": %d, '
              '"outputs": [], "process": {"started": null, "exited": null, "returncode": null}, '
              '"blender": null, "movie": null, "after": []}')


@dataclass(frozen=True)
class JobView:
    """One job as a poll shows it."""

    id: int
    status: JobStatus
    name: str = ""
    times: Times = field(default_factory=lambda: NO_TIMES)
    messages: tuple[str, ...] = ()
    progress: float = 0.0
    engine_type: str | None = None
    engine_data: Mapping[str, str] | None = None
    eta: float | None = None
    frames_done: int = 0
    frames_total: int = 0
    outputs: tuple[str, ...] = ()
    process: ProcessInfo = field(default_factory=lambda: NO_PROCESS)
    eta_runs: int | None = None   # earlier similar runs ``eta`` comes from (None: its own frames)
    blender: Mapping[str, str | None] | None = None  # {"path", "version"} once chosen (blender_pick)
    movie: Mapping[str, Any] | None = None   # the movie of an ``encode`` job (encode.MovieState)
    after: tuple[int, ...] = ()              # the jobs it waits for (the recipe's ``after``)

    @property
    def running(self) -> bool:
        return self.status is JobStatus.RUNNING

    def to_json(self) -> dict[str, Any]:
        """The poll's job entry (docs/api.md, Poll), then Render+'s keys."""
        return {
            "id": self.id,
            "status": self.status.value,
            "times": self.times.to_json(),
            "messages": list(self.messages),
            "progress": self.progress,
            "engine": {"type": self.engine_type,
                       "data": dict(self.engine_data) if self.engine_data else None},
            "name": self.name,
            "eta": self.eta,
            "eta_runs": self.eta_runs,
            "frames_done": self.frames_done,
            "frames_total": self.frames_total,
            "outputs": list(self.outputs),
            "process": self.process.to_json(),
            "blender": dict(self.blender) if self.blender else None,
            "movie": dict(self.movie) if self.movie else None,
            "after": list(self.after),
        }

    @cached_property
    def json_text(self) -> str:
        """``to_json()`` encoded once; a job nothing has happened to yet is written from a
        template (a 10,000-job recipe's first poll must not cost 10,000 encodings)."""
        if (self.status in (JobStatus.QUEUED, JobStatus.DISABLED) and not self.messages
                and self.times is NO_TIMES and self.process is NO_PROCESS and not self.outputs
                and self.engine_type is None and not self.progress and not self.frames_done
                and self.eta is None and self.blender is None and self.movie is None
                and not self.after):
            return _BLANK_JOB % (self.id, self.status.value, _quote(self.name), self.frames_total)
        return json.dumps(self.to_json())

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobView:
        engine = data.get("engine") or {}
        process = data.get("process") or {}
        return cls(
            id=int(data.get("id", 0)),
            status=_job_status(data.get("status")),
            name=str(data.get("name") or ""),
            times=Times.from_json(data.get("times")),
            messages=tuple(str(m) for m in data.get("messages") or ()),
            progress=_float(data.get("progress")) or 0.0,
            engine_type=engine.get("type"),
            engine_data=dict(engine["data"]) if engine.get("data") else None,
            eta=_float(data.get("eta")),
            eta_runs=_int(data.get("eta_runs")),
            frames_done=int(data.get("frames_done") or 0),
            frames_total=int(data.get("frames_total") or 0),
            outputs=tuple(str(p) for p in data.get("outputs") or ()),
            process=ProcessInfo(_float(process.get("started")), _float(process.get("exited")),
                                process.get("returncode")),
            blender=dict(data["blender"]) if data.get("blender") else None,
            movie=dict(data["movie"]) if data.get("movie") else None,
            after=tuple(int(i) for i in data.get("after") or ()),
        )


@dataclass(frozen=True)
class Stats:
    """Fastest, slowest and average finished job; all None unless the batch FINISHED."""

    slowest_index: int | None = None
    slowest_time: float | None = None
    fastest_index: int | None = None
    fastest_time: float | None = None
    average_time: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"slowest_index": self.slowest_index, "slowest_time": self.slowest_time,
                "fastest_index": self.fastest_index, "fastest_time": self.fastest_time,
                "average_time": self.average_time}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Stats:
        data = data or {}
        return cls(data.get("slowest_index"), _float(data.get("slowest_time")),
                   data.get("fastest_index"), _float(data.get("fastest_time")),
                   _float(data.get("average_time")))

    @classmethod
    def of(cls, jobs: Sequence[JobView]) -> Stats:
        times = [(job.times.rendertime, job.id) for job in jobs
                 if job.status is JobStatus.FINISHED and job.times.rendertime is not None]
        if not times:
            return cls()
        slowest, fastest = max(times), min(times)
        return cls(slowest[1], slowest[0], fastest[1], fastest[0],
                   sum(t for t, _ in times) / len(times))


@dataclass(frozen=True)
class HookRun:
    """One hook that ran: its phase, job (None for batch hooks), command, exit code, output."""

    phase: str
    job: int | None
    cmd: str
    returncode: int
    output: str

    def to_json(self) -> dict[str, Any]:
        return {"phase": self.phase, "job": self.job, "cmd": self.cmd,
                "returncode": self.returncode, "output": self.output}


@dataclass(frozen=True)
class PowerOffState:
    """A power action announced after the batch: which, and when (epoch seconds)."""

    action: str
    at: float

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "at": self.at}


@dataclass(frozen=True)
class BatchView:
    """A whole batch at one revision. Build with the runner's ``Batch.view()``."""

    status: BatchStatus
    jobs: tuple[JobView, ...] = ()
    name: str = ""
    times: Times = field(default_factory=Times)
    stats: Stats = field(default_factory=Stats)
    messages: tuple[str, ...] = ()
    current_job: int | None = None
    running_jobs: tuple[int, ...] = ()
    progress: float = 0.0
    eta: float | None = None
    hooks: tuple[HookRun, ...] = ()
    poweroff: PowerOffState | None = None
    resumable: bool = False
    revision: int = 0
    pausing: str | None = None      # "now" / "frame" / "job" while a pause is under way
    order: tuple[int, ...] = ()   # every job id in run order (``order.run_order``)
    starts_at: float | None = None     # a WAITING batch's start time (``start_at``)
    continues_at: float | None = None  # a batch paused by its window: the window's next start

    @property
    def running(self) -> bool:
        return self.status is BatchStatus.RUNNING

    @property
    def paused(self) -> bool:
        return self.status is BatchStatus.PAUSED

    @property
    def failed(self) -> int:
        return sum(1 for job in self.jobs if job.status is JobStatus.FAILED)

    @property
    def enabled_jobs(self) -> tuple[JobView, ...]:
        return tuple(job for job in self.jobs if job.status is not JobStatus.DISABLED)

    def count(self, status: JobStatus) -> int:
        return sum(1 for job in self.jobs if job.status is status)

    def job(self, job_id: int) -> JobView:
        """One job; IndexError when ``job_id`` is out of range."""
        if not 0 <= job_id < len(self.jobs):
            raise IndexError(job_id)
        return self.jobs[job_id]

    def to_json(self, *, jobs: bool = True) -> dict[str, Any]:
        """The poll (docs/api.md, Poll): the 1.x keys, then Render+'s (docs/engine-api.md)."""
        data: dict[str, Any] = {
            "status": self.status.value,
            "times": self.times.to_json(),
            "stats": self.stats.to_json(),
            "messages": list(self.messages),
            "jobs": [job.to_json() for job in self.jobs] if jobs else [],
            "current_job": self.current_job,
            "name": self.name,
            "progress": self.progress,
            "eta": self.eta,
            "failed": self.failed,
            "hooks": [hook.to_json() for hook in self.hooks],
            "poweroff": self.poweroff.to_json() if self.poweroff else None,
            "running": list(self.running_jobs),
            "order": list(self.order),
            "starts_at": self.starts_at,
        }
        if self.resumable:
            data["resumable"] = True
        if self.pausing:
            data["pausing"] = self.pausing
        if self.continues_at is not None:
            data["continues_at"] = self.continues_at
        return data

    @cached_property
    def json_bytes(self) -> bytes:
        """``to_json()`` encoded once per view, each job's part reused from its cached
        ``json_text``: what a busy server sends to every poller."""
        slot = uuid.uuid4().hex
        data = self.to_json(jobs=False)
        data["jobs"] = slot
        head = json.dumps(data)
        jobs = "[" + ", ".join(job.json_text for job in self.jobs) + "]"
        return head.replace(f'"{slot}"', jobs, 1).encode()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchView:
        """Read a poll response (e.g. over HTTP) back into a view; tolerant of missing keys."""
        power = data.get("poweroff")
        jobs = tuple(JobView.from_json(job) for job in data.get("jobs") or ())
        current = data.get("current_job")
        running = data.get("running")
        if running is None:
            running = [current] if current is not None else []
        return cls(
            status=_batch_status(data.get("status")),
            jobs=jobs,
            name=str(data.get("name") or ""),
            times=Times.from_json(data.get("times")),
            stats=Stats.from_json(data.get("stats")),
            messages=tuple(str(m) for m in data.get("messages") or ()),
            current_job=current,
            running_jobs=tuple(int(i) for i in running),
            progress=_float(data.get("progress")) or 0.0,
            eta=_float(data.get("eta")),
            hooks=tuple(HookRun(str(h.get("phase")), h.get("job"), str(h.get("cmd") or ""),
                                int(h.get("returncode") or 0), str(h.get("output") or ""))
                        for h in data.get("hooks") or ()),
            poweroff=(PowerOffState(str(power.get("action")), float(power.get("at") or 0))
                      if isinstance(power, Mapping) else None),
            resumable=bool(data.get("resumable")),
            pausing=data.get("pausing") if isinstance(data.get("pausing"), str) else None,
            order=tuple(int(i) for i in data.get("order") or ()),
            starts_at=_float(data.get("starts_at")),
            continues_at=_float(data.get("continues_at")),
        )


def batch_progress(jobs: Sequence[JobView]) -> float:
    """The batch's 0-100 progress: the mean over enabled jobs."""
    enabled = [job.progress for job in jobs if job.status is not JobStatus.DISABLED]
    return round(sum(enabled) / len(enabled), 4) if enabled else 0.0


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _job_status(value: Any) -> JobStatus:
    try:
        return JobStatus(value)
    except ValueError:
        return JobStatus.QUEUED


def _batch_status(value: Any) -> BatchStatus:
    try:
        return BatchStatus(value)
    except ValueError:
        return BatchStatus.WAITING
