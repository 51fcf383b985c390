"""The farm executor: a Render+ job becomes one farm job whose tasks are frame chunks.

``submit`` stages the job on shared storage (``staging``), splits its frames into chunks of
``chunk_size`` (a movie is one task: it cannot be split), gives every chunk the command a local
run would run with the node's files and the chunk's frames (``tasks``), and hands their argvs to
the engine (Slurm, Flamenco). One watcher thread polls
every farm job it follows and turns what the farm says into the runner's events
(``watch.FarmWatch``). A cancel asks the farm; only the farm's answer ends the job. The job's
manifest (its tasks and their logs) is kept in the staging folder under the farm id, so a
restarted Render+ can ``reattach`` to a farm job from its durable ``JobHandle``, and learn from
``fate`` whether a pause left it paused (nothing of it on the farm: resubmit only the missing
frames), still pausing (re-attach: the pause goes on) or lost.

A job with a movie (recipe key ``encode``; the executor is given the batch's recipe to read it)
gets the encode as the farm job's last step, so the frames never travel back: an encode job
file (``encode.json``: the frames found where the render wrote them, the movie named beside
them or at ``encode.output``, the node's FFmpeg) and the encode's command line on the staged
.blend and script, queued to start once every chunk completed (``FarmEngine.submit_encode``).
Its farm id is kept in the manifest beside the tasks'; the watcher relays its lines and ends
the job after it (``watch``). ``makes_movies`` tells the job loop not to encode again here.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import os
import tempfile
from typing import Any

from ...command import BlenderCommand, frame_args
from ...encode import encode_argv, encode_config, movie_output
from ...frames import FrameSet
from ...outputs import MOVIE_FORMATS
from ...paths import TEMP_VARS
from ...recipe import Job, Recipe
from ...script_paths import ENCODE_SCRIPT
from ..base import Accepted, EventSink, ExecEvent, ExecutorError, Exited, JobHandle, JobLaunch
from .base import (
    ENCODE_INDEX,
    FarmEngine,
    FarmError,
    FarmJobSpec,
    FarmTask,
    TaskState,
    UnknownFarmJob,
)
from .manifest import Manifests, encode_of, frames_of, pause_asked, tasks_of
from .staging import (
    SharedStorage,
    scene_is_movie,
    stage_blend,
    stage_script,
    write_chunk_config,
)
from .tasks import check_command, chunk_command, chunk_frames
from .watch import FarmWatch

log = logging.getLogger("renderplus.farm")

DEFAULT_CHUNK = 10
PAUSE_WHEN = ("now", "frame")


class FarmFate(enum.Enum):
    """What became of a farm job of an earlier Render+ run (``FarmExecutor.fate``)."""

    RUNNING = "running"     # tasks run or wait, no pause asked: re-attach
    PAUSING = "pausing"     # a pause was asked and tasks still run or are held: re-attach
    PAUSED = "paused"       # paused: nothing of it runs or waits; resubmit its missing frames
    ENDED = "ended"         # every task ended, no pause asked: its frames say what was done
    LOST = "lost"           # neither the farm nor the staging folder knows it


class FarmExecutor:
    """Jobs on a render farm behind ``engine``; see the module docstring. ``recipe``: the
    batch's, whose jobs' ``encode`` the farm carries out (None: no movies made here)."""

    def __init__(self, engine: FarmEngine, storage: SharedStorage, *,
                 chunk_size: int = DEFAULT_CHUNK, max_jobs: int = 16, poll_interval: float = 1.0,
                 pack: str = "auto", lost_after: float = 300.0,
                 recipe: Recipe | None = None) -> None:
        if chunk_size < 1 or max_jobs < 1:
            raise ValueError("chunk_size and max_jobs must be at least 1")
        self.engine = engine
        self.storage = storage
        self.name = f"farm:{engine.name}"
        self.chunk_size = chunk_size
        self.max_jobs = max_jobs
        self.pack = pack
        self.recipe = recipe
        self._watch = FarmWatch(engine, poll_interval=poll_interval, lost_after=lost_after)
        self._manifests = Manifests(storage.staging_dir, engine.name)
        self._closed = False

    @property
    def checks_frames(self) -> bool:
        """True: each task checks the frames it wrote on the node, right after its Blender
        (the recipe's ``validate``, on an engine whose task script can run it: Slurm); the job
        loop takes the node's ``frame_checked`` markers for those frames' verdicts."""
        return (self.recipe is not None and self.recipe.settings.validate is not None
                and bool(getattr(self.engine, "runs_frame_checks", False)))

    @property
    def makes_movies(self) -> bool:
        """True: a job's movie is the farm job's last step (the job loop encodes none here).
        It needs the recipe (to read each job's ``encode``) and an engine that can queue it."""
        return self.recipe is not None and hasattr(self.engine, "submit_encode")

    @property
    def capacity(self) -> int:
        return 0 if self._closed else self.max_jobs - self._watch.count

    # ------------------------------------------------------------------ the protocol

    def submit(self, launch: JobLaunch, sink: EventSink) -> JobHandle:
        if self._closed:
            raise ExecutorError("the executor is closed")
        if self._watch.count >= self.max_jobs:
            raise ExecutorError("the farm executor follows as many jobs as it may")
        try:
            spec = self._stage(launch)
            farm_id = self.engine.submit(spec)
        except (FarmError, OSError, ValueError) as exc:
            raise ExecutorError(f"the farm did not take the job: {exc}") from exc
        encode = self._queue_encode(spec, farm_id)
        handle = JobHandle(self.name, launch.job_id, argv=launch.argv, farm_id=farm_id)
        self._manifests.write_new(farm_id, launch.job_id, launch.frames, spec, encode)
        # The ready marker names the whole job's frames (a frame rendered again after its check
        # failed is one of them): progress counts the frames done before, as a local run does.
        frames = FrameSet.parse(spec.job_frames) if spec.job_frames else launch.frames
        where = self._watch.follow(handle, spec.tasks, frames, self._recording(farm_id, sink),
                                   encode=encode)
        sink(Accepted(launch.job_id, handle, where))
        return handle

    def _queue_encode(self, spec: FarmJobSpec, farm_id: str) -> FarmTask | None:
        """The encode queued after the farm job (with its farm id); a farm that refuses it gets
        the job cancelled too: frames without their movie are not what was asked."""
        if spec.encode is None:
            return None
        try:
            return dataclasses.replace(spec.encode, farm_id=self.engine.submit_encode(spec, farm_id))
        except (FarmError, OSError) as exc:
            try:
                self.engine.cancel(farm_id, "Render+ could not queue its movie")
            except FarmError as cancel_error:
                log.warning("cancel of farm job %s failed: %s", farm_id, cancel_error)
            raise ExecutorError(f"the farm did not take the job's movie: {exc}") from exc

    def cancel(self, job_id: int, grace: float) -> bool:
        return self._watch.cancel(job_id)

    def pause(self, job_id: int, when: str, grace: float) -> bool:
        """"now" cancels the farm job; "frame" lets its running tasks (chunks) finish and starts
        no more. The pause is written to the manifest before the farm is asked, so a restarted
        Render+ knows the job was pausing (``fate``)."""
        if when not in PAUSE_WHEN:
            raise ValueError(f"unknown pause {when!r}: one of {', '.join(PAUSE_WHEN)}")
        handle = self._watch.handle(job_id)
        if handle is None or not handle.farm_id:
            return False
        self._manifests.record_pause(handle.farm_id, when)
        return self._watch.pause(job_id, when)

    def fate(self, handle: JobHandle) -> FarmFate:
        """What became of a farm job submitted before Render+ restarted (see ``FarmFate``): the
        manifest says whether a pause was asked or confirmed, the farm whether tasks remain."""
        manifest = self._manifests.read(handle.farm_id) if handle.farm_id else None
        if manifest is None:
            return FarmFate.LOST
        asked = pause_asked(manifest)
        try:
            assert handle.farm_id is not None
            status = self.engine.poll(handle.farm_id, tasks_of(manifest))
        except UnknownFarmJob:  # aged out of the farm's tables
            return FarmFate.PAUSED if asked else FarmFate.LOST
        except FarmError as exc:
            raise ExecutorError(f"cannot ask the farm about job {handle.farm_id}: {exc}") from exc
        if status.tasks and all(task.state.ended for task in status.tasks):
            completed = all(t.state is TaskState.COMPLETED for t in status.tasks)
            if completed and self._encode_goes_on(encode_of(manifest)):
                return FarmFate.PAUSING if asked else FarmFate.RUNNING
            if asked is None or completed:
                return FarmFate.ENDED
            return FarmFate.PAUSED
        return FarmFate.PAUSING if asked else FarmFate.RUNNING

    def _encode_goes_on(self, encode: FarmTask | None) -> bool:
        """Whether the job's encode still waits or runs on the farm."""
        if encode is None or not encode.farm_id:
            return False
        try:
            return not self.engine.poll_encode(encode).state.ended
        except UnknownFarmJob:
            return False
        except FarmError as exc:
            raise ExecutorError(f"cannot ask the farm about encode {encode.farm_id}: {exc}") from exc

    def finish_pause(self, handle: JobHandle, sink: EventSink) -> bool:
        """A job of a batch a dead Render+ left PAUSED (its pause may not have ended on the
        farm): ``PAUSING`` re-attaches and the pause goes on; ``RUNNING`` (the dead run never
        reached the farm's pause) is paused "frame" first. Either way its running tasks finish,
        the held rest is cancelled and ``sink`` hears ``Exited(paused=True)``: True. ``PAUSED``,
        ``ENDED``, ``LOST``: nothing of it is on the farm, nothing is sent: False."""
        fate = self.fate(handle)
        if fate not in (FarmFate.PAUSING, FarmFate.RUNNING):
            return False
        if fate is FarmFate.RUNNING:
            assert handle.farm_id is not None
            self._manifests.record_pause(handle.farm_id, "frame")
        self.reattach(handle, sink)
        return True

    def end_orphan(self, handle: JobHandle) -> bool:
        """Cancel a dead run's farm job if the farm still runs some of it."""
        if not handle.farm_id:
            return False
        manifest = self._manifests.read(handle.farm_id)
        tasks = tasks_of(manifest) if manifest else ()
        encode = encode_of(manifest) if manifest else None
        reason = "ended by Render+: its batch is gone"
        ended = self._end_orphan_encode(encode, reason) if encode is not None else False
        try:
            status = self.engine.poll(handle.farm_id, tasks)
            if all(task.state.ended for task in status.tasks):
                return ended
            self.engine.cancel(handle.farm_id, reason)
        except FarmError:
            return ended
        return True

    def _end_orphan_encode(self, encode: FarmTask, reason: str) -> bool:
        """Cancel a dead run's encode if it still waits or runs (Flamenco: its job, whose
        last task it is)."""
        if not encode.farm_id:
            return False
        try:
            if self.engine.poll_encode(encode).state.ended:
                return False
            self.engine.cancel(encode.farm_id, reason)
        except FarmError:
            return False
        return True

    def reattach(self, handle: JobHandle, sink: EventSink) -> None:
        """Follow a farm job submitted before Render+ restarted; events go to ``sink`` as if
        it had just been submitted (its output and frames from the start). A pause asked before
        goes on (held again, the rest cancelled once no task runs; ``Exited(paused=True)``).
        ExecutorError when the handle names no farm job this staging folder knows."""
        if not handle.farm_id:
            raise ExecutorError(f"job {handle.job_id}'s handle names no farm job")
        manifest = self._manifests.read(handle.farm_id)
        if manifest is None:
            raise ExecutorError(f"no manifest for farm job {handle.farm_id} in "
                                f"{self.storage.staging_dir}")
        where = self._watch.follow(handle, tasks_of(manifest), frames_of(manifest),
                                   self._recording(handle.farm_id, sink),
                                   pause_when=pause_asked(manifest), encode=encode_of(manifest))
        sink(Accepted(handle.job_id, handle, where))

    def detach(self) -> None:
        """Stop following every farm job without cancelling it (Render+ shuts down and the
        farm goes on; ``reattach`` later)."""
        self._closed = True
        self._watch.stop()

    def close(self) -> None:
        """Cancel every farm job this executor follows (the protocol's "end everything")."""
        self._closed = True
        self._watch.cancel_all()

    # ------------------------------------------------------------------ staging

    def _stage(self, launch: JobLaunch) -> FarmJobSpec:
        command = launch.command
        folder = tempfile.mkdtemp(prefix=f"job{launch.job_id}-", dir=self._jobs_dir())
        staged = stage_blend(command.blend, self.storage, folder, self.pack)
        script = stage_script(command.script, folder)
        with open(command.config, encoding="utf-8") as stream:
            template: dict[str, Any] = json.load(stream)
        output = command.output
        if output and not output.startswith("//") and not self.storage.sees(os.path.dirname(output) or "/"):
            raise FarmError(f"the output {output} is not on shared storage: farm nodes could "
                            "not write it")
        movie = self._is_movie(command, staged.original)
        chunks = [command.frames] if movie else chunk_frames(command.frames, self.chunk_size)
        blender = getattr(self.engine, "blender", None) or command.blender
        output_base = os.path.dirname(os.path.abspath(staged.original)) if staged.packed else None
        tasks = []
        for index, frames in enumerate(chunks):
            config = os.path.join(folder, f"chunk-{index}.json")
            runs = None if frame_args(frames) is not None else [list(run) for run in frames.runs]
            write_chunk_config(template, frames.to_spec(), runs, config)
            chunk = chunk_command(command, frames, blender=blender, blendfile=staged.path,
                                  script=script, config=config, output_base=output_base)
            log_path = os.path.join(folder, f"task-{index}.log")
            check: tuple[str, ...] = ()
            if self.checks_frames and not movie:
                assert self.recipe is not None and self.recipe.settings.validate is not None
                check = check_command(self.recipe.settings.validate, blender=blender,
                                      scripts_dir=os.path.dirname(script), log=log_path)
            tasks.append(FarmTask(index, frames, chunk.argv, log_path, check_argv=check))
        job = self._encode_job(launch.job_id)
        encode = None
        if job is not None:
            assert self.recipe is not None
            node_output = chunk_command(command, command.frames, blender=blender, blendfile=staged.path,
                                        script=script, config="", output_base=output_base).output
            encode = self._encode_task(self.recipe, job, folder, blender=blender, blend=staged.path,
                                       script=script, output=node_output)
        # The job's temp folder is on this machine: a farm node makes its own.
        env = {key: value for key, value in launch.env.items() if key not in TEMP_VARS}
        job_frames = template.get("frames")
        return FarmJobSpec(f"renderplus-job{launch.job_id}", launch.job_id, staged.path, folder,
                           tuple(tasks), env, encode,
                           job_frames=job_frames if isinstance(job_frames, str) else "")

    def _encode_job(self, job_id: int) -> Job | None:
        """The recipe's job ``job_id`` when its movie is to be made on the farm."""
        if not self.makes_movies:
            return None
        assert self.recipe is not None
        job = next((j for j in self.recipe.jobs if j.id == job_id), None)
        return job if job is not None and job.encode is not None else None

    def _encode_task(self, recipe: Recipe, job: Job, folder: str, *, blender: str, blend: str,
                     script: str, output: str) -> FarmTask:
        """The encode a node runs after every chunk: its job file says to find the frames
        where the render wrote them (the node's paths) and to name the movie there."""
        workdir = os.path.join(folder, "encode")
        os.makedirs(workdir, exist_ok=True)
        ffmpeg = getattr(self.engine, "ffmpeg", None) or "ffmpeg"
        config = encode_config(recipe, job, movie="", ffmpeg=ffmpeg, workdir=workdir, paths=None)
        config["output"] = movie_output(recipe, job)
        config_path = os.path.join(folder, "encode.json")
        with open(config_path, "w", encoding="utf-8") as stream:
            json.dump(config, stream, indent=1)
        staged_script = os.path.join(os.path.dirname(script), ENCODE_SCRIPT.name)
        argv = encode_argv(recipe, job, blender=blender, config_path=config_path, blend=blend,
                           script=staged_script, output=output)
        return FarmTask(ENCODE_INDEX, job.frames, tuple(argv), os.path.join(folder, "encode.log"))

    def _is_movie(self, command: BlenderCommand, blend: str) -> bool:
        if command.format:
            return command.format in MOVIE_FORMATS
        return scene_is_movie(blend, command.scene)

    def _jobs_dir(self) -> str:
        path = os.path.join(self.storage.staging_dir, "jobs")
        os.makedirs(path, exist_ok=True)
        return path

    # ------------------------------------------------------------------ manifests

    def _recording(self, farm_id: str, sink: EventSink) -> EventSink:
        """``sink``, after writing a confirmed pause to the manifest (before the runner learns
        of it: the store never shows the job paused while the manifest says otherwise)."""
        def record(event: ExecEvent) -> None:
            if isinstance(event, Exited) and event.paused:
                self._manifests.record_paused(farm_id)
            sink(event)
        return record
