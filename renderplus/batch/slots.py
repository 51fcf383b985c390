"""How many jobs render at once, and what each slot gets: threads, a GPU, enough memory.

``settings.parallel`` (an extension; default 1, Render+ 1.0's one-after-another) or ``"auto"``.
What ``"auto"`` picks, from the benchmark (bench/RESULTS.md): CPU jobs get 2 slots on a machine
with 2 or more cores, so one job's Blender start-up and file load hide behind the other's
render (6 tiny jobs in 2 slots took 0.61 of the one-slot time on 2 cores); GPU jobs get one
slot per GPU (the numbers ``--list-gpus`` prints). CPU slots split the cores: each job without
its own ``threads`` gets ``-t cores/slots`` (and ``LP_NUM_THREADS`` for EEVEE and Workbench
on a software OpenGL). A GPU slot's job renders on exactly that slot's device.

A job never starts beside others while the machine's free memory is below what it needed last
time or below the configured floor; an idle batch never waits (the job starts alone).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .recipe import Job, Recipe

GPU_DEVICES = ("CUDA", "OPTIX", "HIP", "ONEAPI", "METAL")
AUTO = "auto"


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def is_gpu_job(job: Job) -> bool:
    return job.cycles.device.upper() in GPU_DEVICES


def slot_count(recipe: Recipe, gpu_count: int | None = None, cores: int | None = None) -> int:
    """The number of slots the recipe asks for (``"auto"`` resolved as the module says)."""
    parallel = getattr(recipe.settings, "parallel", 1)
    if parallel != AUTO:
        return max(1, int(parallel))
    enabled = recipe.enabled_jobs
    if enabled and all(is_gpu_job(job) for job in enabled):
        return max(1, gpu_count or 1)
    return 2 if (cores or cpu_count()) >= 2 else 1


@dataclass(frozen=True)
class SlotPlan:
    """What one job gets in its slot."""

    index: int
    threads: int | None       # -t for the job (None: the job's own, or Blender's default)
    gpu_index: int | None     # the one GPU it renders on (None: the file's/Blender's choice)
    env: dict[str, str]


def plan_slot(job: Job, index: int, slots: int, cores: int | None = None) -> SlotPlan:
    if slots <= 1:
        return SlotPlan(index, None, None, {})
    cores = cores or cpu_count()
    threads = job.threads or max(1, cores // slots)
    env: dict[str, str] = {}
    if job.engine.upper().startswith(("BLENDER_EEVEE", "BLENDER_WORKBENCH")) or not job.engine:
        env["LP_NUM_THREADS"] = str(threads)  # Mesa's llvmpipe, the software OpenGL
    gpu = index if is_gpu_job(job) else None
    return SlotPlan(index, threads if not is_gpu_job(job) else job.threads or None, gpu, env)


def available_memory_mb(meminfo: str = "/proc/meminfo") -> float | None:
    """MemAvailable in MiB (Linux), or None when unknown."""
    try:
        with open(meminfo, encoding="ascii") as stream:
            for line in stream:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def memory_wait_reason(needed_mb: float, floor_mb: float, running: Sequence[int],
                       free_mb: float | None) -> str | None:
    """Why a job must wait before starting beside ``running`` jobs, or None to start now."""
    if not running or free_mb is None:
        return None  # an idle batch never waits
    want = max(needed_mb, floor_mb)
    if free_mb >= want:
        return None
    why = f"it needed {needed_mb:.0f} MB last time" if needed_mb > floor_mb else \
        f"the floor is {floor_mb:.0f} MB"
    return f"only {free_mb:.0f} MB of memory free and {why}"


class SlotPool:
    """Which of the batch's slots each running job holds (a slot decides threads and GPU):
    the lowest free one is taken, and given back when the job no longer runs."""

    def __init__(self, recipe: Recipe, count: int) -> None:
        self.recipe = recipe
        self.count = count
        self._free = list(range(count))
        self._of: dict[int, int] = {}

    def take(self, job_id: int) -> SlotPlan:
        index = self._free.pop(0) if self._free else 0
        self._of[job_id] = index
        return plan_slot(self.recipe.jobs[job_id], index, self.count)

    def release(self, job_id: int) -> None:
        index = self._of.pop(job_id, None)
        if index is not None:
            self._free.append(index)
            self._free.sort()


class MemoryGate:
    """Whether the next job must wait for free memory before it starts beside the running
    ones (``memory_wait_reason``); a job that waits is said once in the batch's messages."""

    def __init__(self, recipe: Recipe, needed_mb: Callable[[str, str], float] | None,
                 floor_mb: float, report: Callable[[str], None]) -> None:
        self.recipe, self.needed_mb, self.floor_mb, self.report = recipe, needed_mb, floor_mb, report
        self._noted: int | None = None

    def must_wait(self, job: Job, running: Sequence[int]) -> bool:
        if not running:
            return False  # an idle batch never waits: no history query, no /proc read
        needed = self.needed_mb(self.recipe.resolve(job.source_file),
                                job.display_name) if self.needed_mb else 0.0
        reason = memory_wait_reason(needed, self.floor_mb, running, available_memory_mb())
        if reason is None:
            return False
        if self._noted != job.id:
            self._noted = job.id
            self.report(f"Job {job.id} ({job.display_name}) waits for a running job to end: "
                        f"{reason}")
        return True


# Engines whose images a shared Blender session was proven to render pixel-identical to a
# process per job, on every Blender version the suite has (tests/versions/test_matrix_session.py,
# docs/blender.md); ``session_reuse: null`` means "on for these". EEVEE is proven under both ids.
SESSION_PROVEN_ENGINES = ("CYCLES", "BLENDER_WORKBENCH", "BLENDER_EEVEE", "BLENDER_EEVEE_NEXT")


def uses_session(recipe: Recipe, slots: int) -> bool:
    """Whether consecutive jobs of one file render in one Blender session: the recipe's
    ``settings.session_reuse`` (true/false), or by default only when every enabled job names
    an engine proven identical; never beside parallel slots (a session is one slot)."""
    if slots != 1:
        return False
    wanted = getattr(recipe.settings, "session_reuse", None)
    if wanted is not None:
        return bool(wanted)
    enabled = recipe.enabled_jobs
    return bool(enabled) and all(job.engine.upper() in SESSION_PROVEN_ENGINES for job in enabled)


def session_fits(recipe: Recipe, job: Job) -> bool:
    """Whether ``job`` may render in the batch's session (``uses_session`` said it has one):
    always when the recipe asks for sessions, else only for an engine proven identical (a job
    added to a running batch may name another)."""
    if getattr(recipe.settings, "session_reuse", None):
        return True
    return job.engine.upper() in SESSION_PROVEN_ENGINES
