"""The movies of a batch's jobs (recipe key ``encode``): made once a job's frames are all there.

The job loop composes one ``JobMovies``. A job whose frames are all verified comes here
(``after_frames``) instead of ending: its render slot is let go, its movie is planned
(``encode.plan``), and, unless the movie is already newer than every frame (a resume), it waits
for the one encode that runs at a time (``encode.step.MovieMaker``); the job stays RUNNING, its
``movie`` says WAITING, ENCODING (with progress) and then DONE or FAILED, and the loop ends it
FINISHED or FAILED from ``ended``. A farm executor that makes the movie as the farm job's last
step (``makes_movies``) only relays the script's markers: ``farm_result`` reads them.

A cancel ends an encode (no partial movie is left); a pause "now" or "after the frame" ends it
too and puts the job back QUEUED: when the batch continues, its frames are all there, so only
the movie is made. Every encode problem fails the job naming it, with its frames kept; the
rest of the batch goes on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .batchstate import BatchState
from .changes import BatchChanges
from .encode import (
    ENCODE_EVENTS,
    EncodePlan,
    FfmpegMissing,
    MovieStatus,
    NoMovie,
    encode_argv,
    encode_config,
    ffmpeg,
    needs_encoding,
    plan_encode,
    stall_seconds,
)
from .encode.step import MovieEnded, MovieMaker, Sink
from .exit_status import ExitStatus
from .jobstate import JobState
from .options import RunOptions, child_environment
from .paths import TEMP_VARS, job_temp_dir
from .view import JobStatus

EndJob = Callable[[JobState, JobStatus, str], None]
PutBack = Callable[[JobState, str], None]


class JobMovies:
    """The encodes of one batch; see the module docstring. Loop thread only, but ``cancel``
    and ``stop_all`` (any thread)."""

    def __init__(self, state: BatchState, changes: BatchChanges, options: RunOptions, sink: Sink,
                 blender_for: Callable[[JobState], str]) -> None:
        self.state = state
        self.changes = changes
        self.options = options
        self.blender_for = blender_for
        self.maker = MovieMaker(sink)
        self.jobs: dict[int, JobState] = {}        # waiting for or in their encode
        self._waiting: deque[int] = deque()
        self._plans: dict[int, EncodePlan] = {}
        self._workdirs: dict[int, str] = {}

    def pending(self) -> bool:
        return bool(self.jobs)

    # ---------------------------------------------------------------- after a job's frames

    def after_frames(self, job: JobState) -> tuple[JobStatus, str] | None:
        """The job's frames are all there: None when it now waits for its movie, else how the
        job ends at once (its movie is up to date, or cannot be made: why)."""
        try:
            plan = plan_encode(self.state.recipe, job.job, job.done)
        except NoMovie as exc:
            self._set(job, status=MovieStatus.FAILED, message=str(exc))
            return JobStatus.FAILED, f"{exc}; the frames are kept"
        if not needs_encoding(plan):
            self._set(job, status=MovieStatus.DONE, path=plan.movie, progress=100.0,
                      frames=len(plan.frames), message="up to date: newer than every frame")
            return JobStatus.FINISHED, f"Its movie is up to date, not made again: {plan.movie}"
        self._set(job, status=MovieStatus.WAITING, path=plan.movie, progress=0.0, message=None)
        self.jobs[job.id] = job
        self._plans[job.id] = plan
        self._waiting.append(job.id)
        self.changes.job_message(job, f"Frames done; its movie waits for the encoder: {plan.movie}")
        return None

    def farm_result(self, job: JobState) -> tuple[JobStatus, str]:
        """A farm made the movie as its last step: what its markers said."""
        movie = job.movie
        if movie is not None and movie.status is MovieStatus.DONE:
            return JobStatus.FINISHED, made_message(movie.path, movie.label, movie.frames, movie.seconds)
        why = movie.message if movie is not None and movie.message else "the farm made no movie"
        if movie is not None and movie.status is not MovieStatus.FAILED:
            self._set(job, status=MovieStatus.FAILED, message=why)
        return JobStatus.FAILED, f"Movie not made: {why}; the frames are kept"

    def on_marker(self, job: JobState, marker: Mapping[str, Any]) -> None:
        """One of the encode script's markers (this machine's or a farm's)."""
        if marker.get("event") not in ENCODE_EVENTS or job.movie is None:
            return
        converts = job.movie.colour not in (None, "as written")
        with self.state.lock:
            job.movie = job.movie.on_marker(marker, converts=converts)
            job.revision += 1
        if marker.get("event") == "encode_ready":
            self.changes.job_message(job, f"Making its movie: {marker.get('frames')} frames at "
                                          f"{marker.get('fps'):g} fps, colour {marker.get('colour')}, "
                                          f"{marker.get('sound')}")
        self.state.changed()

    # ---------------------------------------------------------------- the encodes

    def pump(self, end_job: EndJob, put_back: PutBack, pausing: bool) -> None:
        """Start the next waiting encode when none runs; a cancel or a pause under way deals
        with the waiting ones instead."""
        while self._waiting:
            job_id = self._waiting[0]
            job = self.jobs[job_id]
            if job.cancel_requested or self.state.cancel_asked.is_set():
                self._drop(job_id)
                self._set(job, status=MovieStatus.CANCELLED, message="cancelled before it was made")
                end_job(job, JobStatus.CANCELLED, "Cancelled while its movie waited")
                continue
            if pausing:
                self._drop(job_id)
                self._set(job, status=MovieStatus.WAITING, progress=0.0)
                put_back(job, "Paused before its movie was made: only the movie is made when "
                              "the batch continues")
                continue
            if self.maker.busy:
                return
            self._waiting.popleft()
            problem = self._start(job)
            if problem:
                self._drop(job_id)
                self._set(job, status=MovieStatus.FAILED, message=problem)
                end_job(job, JobStatus.FAILED, f"Movie not made: {problem}; the frames are kept")

    def _start(self, job: JobState) -> str | None:
        plan = self._plans[job.id]
        env_now = {**os.environ, **self.options.env}
        try:
            encoder = ffmpeg(env_now)
        except FfmpegMissing as exc:
            return str(exc)
        lacks = encoder.lacks(plan.format)
        if lacks:
            return lacks
        workdir = self._workdirs[job.id] = job_temp_dir(job.id, "movie")
        config_path = os.path.join(workdir, "encode.json")
        config = encode_config(self.state.recipe, job.job, movie=plan.movie, ffmpeg=encoder.path,
                               workdir=workdir, paths=plan.paths, stall_seconds=stall_seconds(env_now))
        Path(config_path).write_text(_json(config), encoding="utf-8")
        argv = encode_argv(self.state.recipe, job.job, blender=self.blender_for(job),
                           config_path=config_path)
        env = child_environment(self.options, dict.fromkeys(TEMP_VARS, workdir))
        self.changes.log.write(f"$ {' '.join(argv)}")
        try:
            self.maker.start(job.id, argv, env, workdir, plan.partial)
        except OSError as exc:
            return f"Cannot start Blender to make the movie ({argv[0]}): {exc.strerror or exc}"
        self._set(job, status=MovieStatus.ENCODING, progress=0.0)
        return None

    def ended(self, event: MovieEnded, end_job: EndJob, put_back: PutBack) -> None:
        """An encode ended: the job ends (FINISHED, FAILED, CANCELLED) or is put back (a pause)."""
        job = self.jobs.get(event.job_id)
        if job is None:
            return
        self._drop(event.job_id)
        movie = job.movie
        assert movie is not None
        if event.stopped == "pause":
            self._set(job, status=MovieStatus.WAITING, progress=0.0)
            put_back(job, "Paused while its movie was made (no partial movie left): only the "
                          "movie is made when the batch continues")
        elif event.stopped or job.cancel_requested or self.state.cancel_asked.is_set():
            self._set(job, status=MovieStatus.CANCELLED, message="cancelled: no partial movie left")
            end_job(job, JobStatus.CANCELLED, "Cancelled while its movie was made (no partial "
                                              "movie left)")
        elif event.returncode == 0 and movie.status is MovieStatus.DONE:
            end_job(job, JobStatus.FINISHED, made_message(movie.path, movie.label, movie.frames,
                                                          movie.seconds))
        else:
            why = movie.message if movie.status is MovieStatus.FAILED and movie.message else (
                f"its Blender exited with code {event.returncode}"
                f"{' (' + ExitStatus.of(event.returncode).describe() + ')' if event.returncode else ''}"
                " before the movie was made")
            self._set(job, status=MovieStatus.FAILED, message=why)
            end_job(job, JobStatus.FAILED, f"Movie not made: {why}; the frames are kept")

    # ---------------------------------------------------------------- stopping (any thread)

    def cancel(self, job_id: int) -> bool:
        """Cancel one job's movie: a running encode ends, a waiting one is dropped by ``pump``."""
        with self.state.lock:
            job = self.jobs.get(job_id)
            if job is None:
                return False
            job.cancel_requested = True
        self.maker.stop(job_id, "cancel", self.options.kill_grace)
        return True

    def stop_all(self, why: str) -> None:
        """A cancel or a pause of the batch: the running encode ends (waiting ones: ``pump``)."""
        with self.state.lock:
            running = [job_id for job_id in self.jobs if self.maker.running(job_id)]
        for job_id in running:
            self.maker.stop(job_id, why, self.options.kill_grace)

    def close(self) -> None:
        self.maker.close(self.options.kill_grace)

    # ---------------------------------------------------------------- helpers

    def _drop(self, job_id: int) -> None:
        self.jobs.pop(job_id, None)
        self._plans.pop(job_id, None)
        with contextlib.suppress(ValueError):
            self._waiting.remove(job_id)
        workdir = self._workdirs.pop(job_id, None)
        if workdir and self.options.cleanup:
            shutil.rmtree(workdir, ignore_errors=True)

    def _set(self, job: JobState, **changes: Any) -> None:
        if job.movie is None:
            return
        with self.state.lock:
            job.movie = replace(job.movie, **changes)
            job.revision += 1
        self.state.changed()


def made_message(path: str | None, label: str, frames: int | None, seconds: float | None) -> str:
    length = f", {seconds:.1f} s" if seconds is not None else ""
    count = f", {frames} frames" if frames else ""
    return f"Movie made: {path} ({label}{count}{length})"


def _json(config: Mapping[str, Any]) -> str:
    import json
    return json.dumps(config, indent=1)
