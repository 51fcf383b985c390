"""The executor protocol: where and how a job's Blender runs, behind the runner.

The runner decides *what* runs next (order, hooks, statuses, times, stats, cancel); an
executor decides *where and how*: a process per job on this machine (``local``), one Blender
for several jobs of a file, a render farm. The runner hands an executor a ``JobLaunch`` (the
Blender run ``command.py`` decided, as fields: the .blend, scene, exact frames to render (a
resume or a retry renders only some, and a farm may split them into chunks that finish out of
order), engine, output, threads, the job file; and the environment) and receives
``ExecEvent``s through one callback, from any thread; it queues them and applies them in its
own thread. A process per job executes the command's ``argv``; a session and a farm read its
fields.

Event order for one job: ``Accepted`` (the executor took it; a farm job may now wait in a
queue, and the runner shows it QUEUED with ``where``) -> ``Started`` (it renders; a session
executor sends one per job when its boundary marker arrives) -> ``Output`` lines and
``FramesWritten`` (frames known done without a line, e.g. a farm task's state) -> exactly one
``Exited``. ``cancel(job_id)`` only asks; the job is cancelled when its ``Exited`` arrives with
``cancelled=True`` (a farm confirms asynchronously, and a job may finish while being
cancelled: the ``Exited`` says which). ``pause(job_id, when)`` asks likewise; ``Exited(paused=
True)`` confirms it (stopped for a pause: its missing frames render when the batch continues).
PRE_JOB hooks run before ``submit`` (they may prepare what the job reads), POST_JOB hooks after
``Exited``, both where Render+ runs.

Capacity: an executor frees a job's place (``capacity``) and posts its ``Exited`` as one step,
under the lock ``capacity`` reads. So a free place the runner sees has its ``Exited`` in the
runner's queue already (the runner starts no job while an ``Exited`` waits there: job n has
ended, POST_JOB included, before job n+1's PRE_JOB), and once the runner handles an ``Exited``
the place is free for its retry.

A ``JobHandle`` is durable: written to the store, it lets a later Render+ re-attach to the job
or end an orphan of a dead run (after checking that the pid still names the same process).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..command import BlenderCommand
from ..frames import FrameSet


class ExecutorError(Exception):
    """The executor cannot take the job (e.g. the program cannot start); ``str()`` says why."""


@dataclass(frozen=True)
class JobLaunch:
    """Everything an executor needs to render one job."""

    job_id: int
    command: BlenderCommand
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str = ""            # the job's own temp folder (TMPDIR)

    @property
    def argv(self) -> tuple[str, ...]:
        """The command line a process per job runs."""
        return self.command.argv

    @property
    def frames(self) -> FrameSet:
        return self.command.frames


@dataclass(frozen=True)
class JobHandle:
    """Enough to find a job again after a restart: a local process or a farm job."""

    executor: str
    job_id: int
    pid: int | None = None
    pgid: int | None = None
    boot_id: str | None = None
    start_ticks: int | None = None   # the process's start time in clock ticks since boot
    argv: tuple[str, ...] = ()
    farm_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"executor": self.executor, "job_id": self.job_id, "pid": self.pid,
                "pgid": self.pgid, "boot_id": self.boot_id, "start_ticks": self.start_ticks,
                "argv": list(self.argv), "farm_id": self.farm_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobHandle:
        return cls(str(data["executor"]), int(data["job_id"]), data.get("pid"), data.get("pgid"),
                   data.get("boot_id"), data.get("start_ticks"), tuple(data.get("argv") or ()),
                   data.get("farm_id"))


@dataclass(frozen=True)
class Accepted:
    job_id: int
    handle: JobHandle
    where: str = ""              # e.g. "waiting in Slurm partition 'gpu'"


@dataclass(frozen=True)
class Started:
    job_id: int
    handle: JobHandle
    at: float


@dataclass(frozen=True)
class Output:
    job_id: int
    line: str


@dataclass(frozen=True)
class FramesWritten:
    job_id: int
    frames: FrameSet
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exited:
    job_id: int
    returncode: int
    at: float
    cancelled: bool = False      # ended because cancel() asked (confirmed)
    detail: str = ""             # what the executor knows beyond the code (e.g. a farm's reason)
    final: bool = False          # never retry (e.g. cancelled on the farm by its administrator)
    paused: bool = False         # ended because pause() asked (confirmed): the rest renders later


ExecEvent = Accepted | Started | Output | FramesWritten | Exited
EventSink = Callable[[ExecEvent], None]


class Executor(Protocol):
    """Where and how jobs run. Every method may be called from the runner's thread only,
    except ``cancel``, ``pause`` and ``close``, which any thread may call."""

    name: str

    @property
    def capacity(self) -> int:
        """How many jobs it can run at once now (the runner never submits more)."""

    def submit(self, launch: JobLaunch, sink: EventSink) -> JobHandle:
        """Take the job and return at once; events follow through ``sink``.
        Raises ExecutorError when the job cannot even be started."""

    def cancel(self, job_id: int, grace: float) -> bool:
        """Ask the job to end (SIGTERM, then SIGKILL after ``grace``); False if unknown/ended."""

    def pause(self, job_id: int, when: str, grace: float) -> bool:
        """Ask the job to stop for a pause: ``"now"`` ends its Blender at once (as ``cancel``),
        ``"frame"`` after the frame it is writing (the stop file, ``pause.ask_to_stop``);
        confirmed by ``Exited(paused=True)``. False if unknown/ended or not possible here."""

    def end_orphan(self, handle: JobHandle) -> bool:
        """End a job of a dead run from its durable handle; True when something was ended."""

    def close(self) -> None:
        """End everything still running; idempotent."""
