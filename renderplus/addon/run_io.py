"""A batch's read model -> the run-state properties the panels draw (the mirror of recipe_io).

``recipe_io`` turns what the user edits into a recipe for the engine; this module turns what the
engine reports back, a frozen ``BatchView``, into ``WindowManager.renderplus_run``. Like
``recipe_io`` it imports no ``bpy``: it writes the attributes of whatever it is given, so plain
Python tests can check it with stand-in objects.

What the panels must redraw at once: ``RunMirror.milestones`` counts the changes an artist waits
for (a new batch, the batch's or a job's status); the pump redraws for those at once and for the
rest (progress, times) at most once a second.

Why a cache: setting an RNA property costs far more than comparing two frozen objects, and the
runner hands out the *same* ``JobView`` object while a job does not change. ``RunMirror``
remembers the last view it wrote for each job and skips jobs that did not move, so a tick of a
100-job batch rewrites the one job that renders, not a hundred.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..batch.durations import format_duration
from ..batch.schedule import say_when
from ..batch.view import BatchStatus, BatchView, JobView

if TYPE_CHECKING:
    from ..batch.recipe import Recipe
    from .props import RenderPlusJobState, RenderPlusRun

UNKNOWN = -1.0  # what the float properties hold for "no time yet" (the panels hide it, or say
# "estimating" while the job or batch runs)
ETA_MIN_PROGRESS = 2.0  # percent: an ETA from less says little (EEVEE compiling shaders)
ETA_MIN_ELAPSED = 5.0  # seconds since the start, for the same reason
ETA_WEIGHT = 0.3  # how far one new estimate moves the smoothed finish time
ETA_MAX_STEP = 0.5  # ... at most this share of the time left (plus ETA_SLACK seconds)
ETA_SLACK = 2.0


def clock(timestamp: float | None) -> str:
    """``14:03:59`` in local time; empty when there is no time yet."""
    return time.strftime("%H:%M:%S", time.localtime(timestamp)) if timestamp else ""


def moment(timestamp: float | None) -> str:
    """``22:00`` within the next day, else with its date; empty for None."""
    return say_when(timestamp, time.time()) if timestamp is not None else ""


def seconds(value: float | None) -> float:
    """A duration for a float property: ``UNKNOWN`` stands for None."""
    return float(value) if value is not None else UNKNOWN


def engine_detail(data: Mapping[str, str] | None) -> str:
    """One line from the engine's progress data (``Frame 3 | Sample 12/64``); keys vary by engine."""
    if not data:
        return ""
    parts = []
    if data.get("frame"):
        parts.append(f"Frame {data['frame']}")
    if data.get("samples_done") and data.get("samples_todo"):
        parts.append(f"Sample {data['samples_done']}/{data['samples_todo']}")
    if not parts and data.get("elapsed"):
        parts.append(f"{data['elapsed']} elapsed")
    return " | ".join(parts)


class EtaSmoother:
    """A time-left that does not jump (the engine's raw ETA went 3 s -> 512 s -> 8 s while EEVEE
    compiled shaders): None ("estimating") until enough progress and time passed, then the
    *finish time* is smoothed, each estimate moving it part of the way and never by more than
    half the time left, so the countdown runs steadily between estimates."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._finish: float | None = None

    def update(self, eta: float | None, progress: float, started: float | None,
               from_history: bool = False) -> float | None:
        """``from_history``: the figure rests on earlier similar runs, so it means something
        from the start (no wait for progress)."""
        now = self._clock()
        if eta is None or eta < 0:
            return None
        if not from_history and (progress < ETA_MIN_PROGRESS or started is None
                                 or now - started < ETA_MIN_ELAPSED):
            return None
        target = now + eta
        if self._finish is None:
            self._finish = target
        else:
            left = max(self._finish - now, 0.0)
            step = ETA_WEIGHT * (target - self._finish)
            limit = ETA_MAX_STEP * left + ETA_SLACK
            self._finish += max(-limit, min(limit, step))
        return max(self._finish - now, 0.0)


class RunMirror:
    """Writes views of one batch into a ``RenderPlusRun``, each job only when its view changed.

    ``reset`` starts a new batch (or rewrites everything after a file load); ``write`` copies
    one view; ``index_of`` links a scene job (by uid) to its row, for the job list.
    """

    def __init__(self) -> None:
        self._written: list[JobView | None] = []
        self._batch_key: tuple[Any, ...] | None = None
        self._scene = ""
        self._uid_index: dict[int, int] = {}
        self._batch_eta = EtaSmoother()
        self._job_etas: dict[int, EtaSmoother] = {}
        self.milestones = 0  # grows on a new batch and on every batch or job status change

    def reset(self, run: RenderPlusRun, recipe: Recipe, *, scene: str = "",
              uids: Sequence[int] = (), copy_path: str = "") -> None:
        """One row per recipe job; ``uids`` (same order) link rows to the scene's jobs, when
        the batch was started from ``scene`` (a batch posted over HTTP has neither)."""
        jobs = recipe.jobs
        if len(uids) != len(jobs):
            uids = [0] * len(jobs)
        run.scene = scene
        run.copy_path = copy_path
        run.batch_name = recipe.name
        run.revision = -1
        run.jobs.clear()
        for job, uid in zip(jobs, uids, strict=True):
            state = run.jobs.add()
            state.name = job.display_name
            state.uid = uid
            state.job_id = job.id
        self._written = [None] * len(jobs)
        self._batch_key = None
        self._scene = scene
        self._uid_index = {uid: index for index, uid in enumerate(uids) if uid}
        self._batch_eta = EtaSmoother()
        self._job_etas = {}
        self.milestones += 1

    def index_of(self, scene: str, uid: int) -> int | None:
        """The row of the scene job ``uid`` in the shown batch, or None when it has none."""
        if scene != self._scene:
            return None
        return self._uid_index.get(uid)

    def write(self, run: RenderPlusRun, view: BatchView) -> int:
        """Copy ``view`` into ``run``; returns how many job rows were rewritten."""
        self._write_batch(run, view)
        rewritten = 0
        states = run.jobs
        for index, job in enumerate(view.jobs[:len(self._written)]):
            last = self._written[index]
            if last is job or last == job:  # the same object while the job did not change
                continue
            self._written[index] = job
            if last is None or last.status is not job.status:
                self.milestones += 1
            eta = job.eta
            if job.running:
                smoother = self._job_etas.setdefault(index, EtaSmoother())
                eta = smoother.update(job.eta, job.progress, job.times.started,
                                      from_history=job.eta_runs is not None)
            write_job(states[index], job, eta)
            rewritten += 1
        run.revision = view.revision
        return rewritten

    def _write_batch(self, run: RenderPlusRun, view: BatchView) -> None:
        order, pausing = run_order(view), view.pausing or ""
        key = (view.status, view.progress, view.current_job, view.eta, view.failed, view.times,
               view.stats, view.poweroff, view.messages, view.running_jobs, order, pausing,
               view.starts_at, view.continues_at)
        if key == self._batch_key:
            return
        if self._batch_key is None or self._batch_key[0] is not view.status:
            self.milestones += 1
        eta = view.eta
        if view.running:
            history = any(job.eta_runs is not None for job in view.jobs)
            eta = self._batch_eta.update(view.eta, view.progress, view.times.started,
                                         from_history=history)
        self._batch_key = key
        stats = view.stats
        run.status = view.status.value
        # a batch that finished is done, whatever its failed jobs got to (they stay 0 %)
        run.progress_value = 100.0 if view.status is BatchStatus.FINISHED else view.progress
        run.current_job = view.current_job if view.current_job is not None else -1
        run.eta = seconds(eta)
        run.running_jobs = ",".join(str(job_id) for job_id in view.running_jobs)
        run.order = ",".join(str(job_id) for job_id in order)
        run.pausing = pausing
        run.failed = view.failed
        run.starts_at = moment(view.starts_at)
        run.continues_at = moment(view.continues_at)
        run.started = clock(view.times.started)
        run.finished = clock(view.times.finished)
        run.rendertime = seconds(view.times.rendertime)
        run.average_time = seconds(stats.average_time)
        run.fastest_time = seconds(stats.fastest_time)
        run.slowest_time = seconds(stats.slowest_time)
        run.fastest_index = stats.fastest_index if stats.fastest_index is not None else -1
        run.slowest_index = stats.slowest_index if stats.slowest_index is not None else -1
        power = view.poweroff
        run.poweroff = f"{power.action} at {clock(power.at)}" if power is not None else ""
        run.messages = "\n".join(view.messages)


def run_order(view: BatchView) -> tuple[int, ...]:
    """Every job id in run order (the poll's ``order``: docs/api.md, Poll)."""
    return tuple(view.order)


def write_job(state: RenderPlusJobState, job: JobView, eta: float | None) -> None:
    """One job's row from its view; ``eta``: the time left to show (smoothed while it runs)."""
    state.status = job.status.value
    state.progress_value = job.progress
    state.started = clock(job.times.started)
    state.finished = clock(job.times.finished)
    state.rendertime = seconds(job.times.rendertime)
    state.eta = seconds(eta)
    state.eta_runs = job.eta_runs if job.eta_runs is not None else -1
    state.frames_done = job.frames_done
    state.frames_total = job.frames_total
    state.engine_type = job.engine_type or ""
    state.blender = blender_said(job.blender)
    state.detail = engine_detail(job.engine_data)
    state.messages = "\n".join(job.messages)
    state.output_count = len(job.outputs)
    last = job.outputs[-1] if job.outputs else ""
    state.last_output = last
    state.output_folder = os.path.dirname(last)
    state.first_output = job.outputs[0] if job.outputs else ""
    write_movie(state, job.movie)


def write_movie(state: RenderPlusJobState, movie: Mapping[str, Any] | None) -> None:
    """The job's movie (the poll's ``movie``: docs/api.md, Poll) into its row; an empty status
    when the job makes none. The panel words it (``movie_text``)."""
    movie = movie or {}
    state.movie_status = str(movie.get("status") or "")
    state.movie_path = str(movie.get("path") or "")
    state.movie_label = str(movie.get("label") or movie.get("format") or "")
    state.movie_progress = _number(movie.get("progress"), 0.0)
    state.movie_seconds = _number(movie.get("seconds"), UNKNOWN)
    state.movie_message = str(movie.get("message") or "")


def _number(value: Any, default: float) -> float:
    """A float from the poll, or ``default`` for null (and anything not a number)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def blender_said(chosen: Mapping[str, str | None] | None) -> str:
    """``Blender 5.2.2 (/opt/blender-5.2/blender)`` from the poll's ``blender``; "" before."""
    if not chosen or not chosen.get("path"):
        return ""
    version = chosen.get("version")
    return f"Blender {version} ({chosen['path']})" if version else f"Blender at {chosen['path']}"


def queued_job_ids(run: Any) -> list[int]:
    """The ids of the batch's queued jobs in the order they will start, from what the pump
    wrote (``run.order``, ``run.jobs``): what the panel lists and the move operators count."""
    status = {state.job_id: state.status for state in run.jobs}
    order = [int(text) for text in run.order.split(",") if text] or sorted(status)
    return [job_id for job_id in order if status.get(job_id) == "QUEUED"]


def link_by_names(names: Sequence[str], scene_jobs: Sequence[tuple[str, int]]) -> list[int]:
    """The scene job uids for a batch's jobs (``names``, in order) matched by name, each scene
    job at most once (0: none); [] when none matched. A resumed batch was started by an
    earlier session: the scene's jobs still carry its names, not the link the start made."""
    free = list(scene_jobs)
    uids = []
    for name in names:
        found = next((pair for pair in free if pair[0] == name), None)
        if found is not None:
            free.remove(found)
        uids.append(found[1] if found is not None else 0)
    return uids if any(uids) else []


def results_title(status: str, finished: str, rendertime: float) -> str:
    """The results box's first line: "Finished at 14:03:59 in 3 min 05 s"; without a time
    (a batch cancelled before it started has none), "Cancelled"."""
    title = status.title()
    if finished:
        title += f" at {finished}"
    if rendertime >= 0:
        title += f" in {format_duration(rendertime)}"
    return title


def failures_line(messages: str, failed: int, total: int) -> tuple[str, str]:
    """The results box's one line about failed jobs, and the batch's messages without the
    engine's sentence that says the same ("1 of 4 jobs failed"), so it is said once."""
    if not failed:
        return "", messages
    said = f"{failed} of {total} job{'s' if total != 1 else ''} failed"
    lines = messages.split("\n") if messages else []
    return said, "\n".join(line for line in lines if line != said)
