"""The small interface a render-farm engine offers the farm executor.

A farm runs a Render+ job as one farm job whose tasks are frame chunks. The executor needs only
six things from an engine, whatever its API: submit the job's tasks, poll the job's and tasks'
states, read a task's output, cancel the job, hold its waiting tasks (a pause), and describe
the farm for ``--check``; and, for a job with a movie (recipe key ``encode``), queue the encode
to run once every chunk completed and poll it (``submit_encode``, ``poll_encode``). Slurm (its
command-line tools) and Flamenco (its REST API) implement this; anything else that can do the
same can sit behind the executor.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ...frames import FrameSet

ENCODE_INDEX = -1   # the encode's task index: never a chunk's


class FarmError(Exception):
    """The farm refused or did not answer; ``str()`` says what and where."""


class UnknownFarmJob(FarmError):
    """The farm no longer knows the job (it aged out of its tables, or never existed)."""


@dataclass(frozen=True)
class FarmTask:
    """One chunk: the exact command line a node runs, and the frames it writes."""

    index: int
    frames: FrameSet
    argv: tuple[str, ...]        # blender first (the farm's binary), then its options
    log_path: str = ""           # where the engine writes the task's output, if a file
    farm_id: str = ""            # the encode's own farm id once queued (Slurm: a second job)
    check_argv: tuple[str, ...] = ()   # run after argv on the node: checks the frames it wrote


@dataclass(frozen=True)
class FarmJobSpec:
    """What the executor asks an engine to run: one farm job of ``tasks``."""

    name: str
    job_id: int
    blendfile: str
    folder: str                  # the job's staging folder on shared storage
    tasks: tuple[FarmTask, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    encode: FarmTask | None = None   # the movie, made on a node once every task completed
    job_frames: str = ""         # the whole job's frames (a re-render sends only some): progress


class TaskState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        return self in (TaskState.COMPLETED, TaskState.FAILED, TaskState.CANCELLED)


@dataclass(frozen=True)
class TaskStatus:
    index: int
    state: TaskState
    returncode: int | None = None   # the task's exit (negative: a signal), once ended
    reason: str = ""                # why it waits or why it ended, as the farm says it
    started: float | None = None    # epoch seconds, when the farm says


@dataclass(frozen=True)
class FarmJobStatus:
    tasks: tuple[TaskStatus, ...]
    where: str = ""                 # where queued tasks wait ("Slurm partition 'render' (Priority)")

    def task(self, index: int) -> TaskStatus | None:
        for task in self.tasks:
            if task.index == index:
                return task
        return None


@dataclass(frozen=True)
class FarmInfo:
    """What ``check_farm`` reports about the farm itself."""

    engine: str
    answers: bool
    detail: str = ""                            # the version, or why it does not answer
    queues: tuple[str, ...] = ()                # Slurm partitions / Flamenco job types
    renderplus_type: bool | None = None         # Render+'s own job type installed (None: n/a)


class FarmEngine(Protocol):
    """A render farm behind the farm executor. Methods may block on the network or a
    command; the executor calls them from its own watcher thread (and ``submit`` from the
    runner's)."""

    name: str                       # "slurm", "flamenco"
    blender: str | None             # the Blender binary on the nodes (None: the job's own)

    def submit(self, spec: FarmJobSpec) -> str:
        """Queue the job's tasks as one farm job; its farm id. FarmError when refused."""

    def submit_encode(self, spec: FarmJobSpec, farm_id: str) -> str:
        """Queue ``spec.encode`` to run once every task of farm job ``farm_id`` completed (and
        never otherwise); the farm id to poll and cancel it by (Slurm: a second job depending
        on the array; Flamenco: the job itself, whose last task it is). FarmError when refused."""

    def poll(self, farm_id: str, tasks: Sequence[FarmTask]) -> FarmJobStatus:
        """Every task's state. UnknownFarmJob when the farm forgot the job."""

    def poll_encode(self, encode: FarmTask) -> TaskStatus:
        """The state of the encode queued as ``encode.farm_id`` (index ``ENCODE_INDEX``).
        UnknownFarmJob when the farm forgot it."""

    def read_log(self, farm_id: str, task: FarmTask, offset: int, *,
                 final: bool = False) -> tuple[str, int]:
        """The task's output written since byte ``offset`` and the new offset: complete lines
        only, unless ``final`` (the task has ended: the rest, whatever its end)."""

    def cancel(self, farm_id: str, reason: str) -> None:
        """Ask the farm to cancel the whole job; its tasks report CANCELLED once it has."""

    def pause(self, farm_id: str, reason: str) -> None:
        """Ask the farm to start no more of the job's tasks (Slurm: hold them; Flamenco:
        pause-requested); running tasks go on. No error when nothing is left to hold."""

    def describe(self) -> FarmInfo:
        """Whether the farm answers, and what it offers; never raises."""

    def where(self) -> str:
        """Where a job of this engine goes, for messages ("Slurm partition 'render'")."""
