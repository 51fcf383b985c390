"""Runs a batch: each enabled job as a background Blender process, one after another.

Threading: ``run()`` works in one thread (``start()`` makes it a daemon thread); every other
method may be called from any thread at any time. All state lives behind ``self._lock``;
``revision`` goes up on every change, so pollers and the add-on's UI pump can tell cheaply
whether anything moved. Callbacks given to ``subscribe`` run in the runner thread, outside the
lock, and must be quick.

A job FAILS when a PRE_JOB hook fails, its .blend is missing, Blender exits non-zero (an
``Error:`` that stops the render, a missing scene/camera/world/layer reported by the override
script), or Blender exits 0 without writing every frame it was asked for. A failed job never
stops the batch; a cancelled batch marks the jobs it did not reach CANCELLED.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .around import BatchWatchers
from .command import build_argv, format_argv, write_override_config
from .logfile import DEFAULT_LOG_DIR, BatchLog
from .parser import JobProgress
from .process import OwnedProcess
from .recipe import Hook, Job, Recipe

log = logging.getLogger("renderplus.batch")

WAITING, RUNNING, FINISHED, CANCELLED = "WAITING", "RUNNING", "FINISHED", "CANCELLED"
QUEUED, DISABLED, FAILED = "QUEUED", "DISABLED", "FAILED"


@dataclass
class RunOptions:
    """How a batch runs, beyond what its recipe says."""

    cleanup: bool = True                 # remove each job's temp folder afterwards
    write_log: bool | None = None        # None: the recipe's settings.write_log
    log_dir: str | None = None           # default: the server's log folder
    debug: bool = False                  # log every Blender line at DEBUG level
    kill_grace: float = 5.0              # seconds between SIGTERM and SIGKILL on cancel
    blender_bin: str | None = None       # used when the recipe names none
    poweroff_grace: float = 60.0         # announced delay before a power action
    power_runner: Callable[[Sequence[str]], Any] | None = None  # tests inject a fake
    env: dict[str, str] | None = None    # extra environment for jobs and hooks


def resolve_blender_bin(recipe: Recipe, name: str) -> str:
    """A path is made absolute against the recipe; a bare name (``blender``) is looked up
    on PATH, as a shell would."""
    if os.sep in name or (os.altsep and os.altsep in name) or name.startswith("~"):
        return recipe.resolve(name)
    return shutil.which(name) or name


def _times(started: float | None = None, finished: float | None = None) -> dict[str, float | None]:
    return {"started": started, "finished": finished,
            "rendertime": (finished - started) if started is not None and finished is not None else None}


@dataclass
class _JobState:
    job: Job
    status: str
    started: float | None = None
    finished: float | None = None
    messages: list[str] = field(default_factory=list)
    progress: JobProgress | None = None
    process_started: float | None = None
    process_exited: float | None = None
    returncode: int | None = None
    revision: int = 0
    cached: dict[str, Any] | None = None
    cached_revision: int = -1

    def entry(self, now: float) -> dict[str, Any]:
        """This job's poll entry; rebuilt only when it changed (or while running, for the ETA)."""
        if self.cached is not None and self.cached_revision == self.revision and self.status != RUNNING:
            return self.cached
        progress = self.progress
        percent = round(progress.progress, 4) if progress else (100.0 if self.status == FINISHED else 0)
        eta = None
        if self.status == RUNNING and progress is not None and self.started is not None:
            done = progress.progress
            if done > 0.5:
                elapsed = now - self.started
                eta = round(elapsed * (100.0 - done) / done, 1)
        entry = {
            "id": self.job.id,
            "status": self.status,
            "times": _times(self.started, self.finished),
            "messages": list(self.messages),
            "progress": percent,
            "engine": {"type": progress.engine_type if progress else None,
                       "data": dict(progress.data) if progress and progress.data else None},
            "name": self.job.display_name,
            "eta": eta,
            "frames_done": progress.frames_done if progress else 0,
            "frames_total": len(self.job.frames),
            "outputs": list(progress.saved_files) if progress else [],
            "process": {"started": self.process_started, "exited": self.process_exited,
                        "returncode": self.returncode},
        }
        self.cached, self.cached_revision = entry, self.revision
        return entry


class Batch:
    """One run of a recipe. See the module docstring for the threading rules."""

    def __init__(self, recipe: Recipe, options: RunOptions | None = None) -> None:
        self.recipe = recipe
        self.options = options or RunOptions()
        self._lock = threading.RLock()
        self._status = WAITING
        self._started: float | None = None
        self._finished: float | None = None
        self._messages: list[str] = []
        self._jobs = [_JobState(job, QUEUED if job.enabled else DISABLED) for job in recipe.jobs]
        self._current: int | None = None
        self._revision = 0
        self._subscribers: list[Callable[[], None]] = []
        self._cancel_batch = threading.Event()
        self._cancel_job = threading.Event()
        self._process: OwnedProcess | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._hook_results: list[dict[str, Any]] = []
        self._json_cache: tuple[tuple[int, int], str] | None = None
        self._watchers: BatchWatchers | None = None
        self.log = BatchLog()

    # ---------------------------------------------------------------- public API

    @property
    def status(self) -> str:
        return self._status

    @property
    def running(self) -> bool:
        return self._status == RUNNING

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def failed_jobs(self) -> int:
        return sum(1 for state in self._jobs if state.status == FAILED)

    @property
    def blender_bin(self) -> str:
        if self.recipe.blender_bin:
            return resolve_blender_bin(self.recipe, self.recipe.blender_bin)
        return self.options.blender_bin or shutil.which("blender") or "blender"

    def subscribe(self, callback: Callable[[], None]) -> None:
        self._subscribers.append(callback)

    def start(self) -> None:
        """Run the batch in a daemon thread and return at once."""
        with self._lock:
            if self._thread is not None or self._status != WAITING:
                raise RuntimeError("this batch was already started")
            self._status = RUNNING  # visible as running before the thread gets going
            self._thread = threading.Thread(target=self.run, name="renderplus-batch", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the batch has ended; False on timeout."""
        return self._done.wait(timeout)

    def cancel(self) -> bool:
        """Cancel the batch (and a power-off still pending after it); False if nothing to cancel."""
        with self._lock:
            if self._status == RUNNING:
                self._cancel_batch.set()
                self._stop_process()
                return True
        watchers = self._watchers
        return watchers is not None and watchers.cancel_poweroff()

    @property
    def poweroff_pending(self) -> bool:
        watchers = self._watchers
        return watchers is not None and watchers.poweroff_pending

    def wait_poweroff(self, timeout: float | None = None) -> bool:
        """Block until a pending power action ran or was called off (a CLI about to exit)."""
        watchers = self._watchers
        return True if watchers is None else watchers.wait_poweroff(timeout)

    def cancel_current_job(self) -> bool:
        """Cancel the job that is rendering; the batch goes on with the next one."""
        with self._lock:
            if self._status != RUNNING or self._current is None:
                return False
            self._cancel_job.set()
            self._stop_process()
            return True

    def snapshot(self) -> dict[str, Any]:
        """The spec's poll response (plus the extras listed in docs/engine-api.md)."""
        with self._lock:
            now = time.time()
            jobs = [state.entry(now) for state in self._jobs]
            enabled = [e["progress"] for e in jobs if e["status"] != DISABLED]
            progress = sum(enabled) / len(enabled) if enabled else 0.0
            watchers = self._watchers
            return {
                "status": self._status,
                "times": _times(self._started, self._finished),
                "stats": self._stats(),
                "messages": list(self._messages),
                "jobs": jobs,
                "current_job": self._current,
                "name": self.recipe.name,
                "progress": round(progress, 4),
                "eta": self._batch_eta(now),
                "failed": self.failed_jobs,
                "hooks": list(self._hook_results),
                "poweroff": watchers.poweroff_state if watchers is not None else None,
            }

    def snapshot_json(self) -> str:
        """``snapshot()`` as JSON, cached per revision (what a busy server sends)."""
        with self._lock:
            # While running, only the ETAs move without a revision: a second-old ETA is fine.
            key = (self._revision, int(time.time()) if self._status == RUNNING else 0)
            cache = self._json_cache
            if cache is not None and cache[0] == key:
                return cache[1]
            text = json.dumps(self.snapshot())
            self._json_cache = (key, text)
            return text

    def job_snapshot(self, job_id: int) -> dict[str, Any]:
        """One job's poll entry; IndexError when ``job_id`` is out of range."""
        if not 0 <= job_id < len(self._jobs):
            raise IndexError(job_id)
        with self._lock:
            return dict(self._jobs[job_id].entry(time.time()))

    # ---------------------------------------------------------------- the run

    def run(self) -> str:
        """Run every enabled job in order in this thread; returns the final status."""
        with self._lock:
            if self._done.is_set() or (self._thread is None and self._status != WAITING):
                raise RuntimeError("this batch was already run")
            self._status = RUNNING
            self._started = time.time()
        self._open_log()
        self._watchers = BatchWatchers(self.recipe, self.report,
                                       power_runner=self.options.power_runner,
                                       poweroff_grace=self.options.poweroff_grace,
                                       on_change=self._changed)
        self._changed(job_state_changed=True)
        try:
            self._run_hooks("PRE_BATCH", self.recipe.hooks.get("PRE_BATCH", []), None)
            for state in self._jobs:
                if state.status == DISABLED:
                    continue
                if self._cancel_batch.is_set():
                    self._set_status(state, CANCELLED)
                    continue
                self._run_job(state)
            if not self._cancel_batch.is_set():
                self._run_hooks("POST_BATCH", self.recipe.hooks.get("POST_BATCH", []), None)
        except Exception as exc:  # a bug must not leave a batch RUNNING forever
            log.exception("batch crashed")
            self.report(f"Internal error, batch stopped: {exc!r}")
            self._cancel_batch.set()
            for state in self._jobs:
                if state.status in (QUEUED, RUNNING):
                    self._set_status(state, CANCELLED)
        finally:
            self._finish()
        return self._status

    def report(self, message: str) -> None:
        """Add a batch message (hooks, notifications, power-off report through this)."""
        with self._lock:
            self._messages.append(message)
        self.log.write(f"[message] {message}")
        log.info("%s", message)
        self._changed()

    # ---------------------------------------------------------------- internals

    def _finish(self) -> None:
        cancelled = self._cancel_batch.is_set()
        with self._lock:
            self._finished = time.time()
            self._current = None
            self._status = CANCELLED if cancelled else FINISHED
            failed = self.failed_jobs
        if failed:
            total = sum(1 for s in self._jobs if s.status != DISABLED)
            self.report(f"{failed} of {total} job{'s' if total != 1 else ''} failed")
        self._changed(job_state_changed=True)
        self.log.section(f"batch {self._status}")
        self.log.write(json.dumps(self.snapshot(), indent=2))
        watchers = self._watchers
        if watchers is not None:
            watchers.batch_ended(self.snapshot())
        self.log.close()
        self._done.set()

    def _open_log(self) -> None:
        wanted = self.options.write_log
        if wanted is None:
            wanted = self.recipe.settings.write_log
        if not wanted:
            return
        directory = Path(self.options.log_dir) if self.options.log_dir else DEFAULT_LOG_DIR
        try:
            self.log = BatchLog.open(directory)
        except OSError as exc:
            self.report(f"Cannot write the log in {directory}: {exc.strerror or exc}")
            return
        self.log.section(f"batch {self.recipe.name!r} started")
        self.log.write(self.recipe.to_json(redact=True))

    def _stats(self) -> dict[str, Any]:
        empty = {"slowest_index": None, "slowest_time": None, "fastest_index": None,
                 "fastest_time": None, "average_time": None}
        if self._status != FINISHED:
            return empty
        times = [(s.finished - s.started, s.job.id) for s in self._jobs
                 if s.status == FINISHED and s.started is not None and s.finished is not None]
        if not times:
            return empty
        slowest, fastest = max(times), min(times)
        return {"slowest_index": slowest[1], "slowest_time": slowest[0],
                "fastest_index": fastest[1], "fastest_time": fastest[0],
                "average_time": sum(t for t, _ in times) / len(times)}

    def _batch_eta(self, now: float) -> float | None:
        if self._status != RUNNING:
            return None
        durations = [s.finished - s.started for s in self._jobs
                     if s.status == FINISHED and s.started is not None and s.finished is not None]
        current = self._jobs[self._current] if self._current is not None else None
        current_eta = None
        if current is not None and current.started is not None and current.progress is not None:
            done = current.progress.progress
            if done > 0.5:
                current_eta = (now - current.started) * (100.0 - done) / done
                if not durations:
                    durations = [(now - current.started) * 100.0 / done]
        if not durations:
            return None
        average = sum(durations) / len(durations)
        queued = sum(1 for s in self._jobs if s.status == QUEUED)
        return round(queued * average + (current_eta or 0.0), 1)

    def _changed(self, *, job_state_changed: bool = False) -> None:
        with self._lock:
            self._revision += 1
        for callback in list(self._subscribers):
            try:
                callback()
            except Exception:
                log.exception("batch subscriber failed")
        watchers = self._watchers
        if job_state_changed and watchers is not None:
            watchers.job_changed(self.snapshot())

    def _set_status(self, state: _JobState, status: str, message: str | None = None) -> None:
        with self._lock:
            state.status = status
            now = time.time()
            if status == RUNNING:
                state.started = now
            elif status in (FINISHED, FAILED, CANCELLED) and state.started is not None:
                state.finished = now
            if message:
                state.messages.append(message)
            state.revision += 1
        if message:
            self.log.write(f"[job {state.job.id}] {message}")
        self._changed(job_state_changed=True)

    def _add_job_message(self, state: _JobState, message: str) -> None:
        with self._lock:
            state.messages.append(message)
            state.revision += 1
        self.log.write(f"[job {state.job.id}] {message}")
        self._changed()

    def _stop_process(self) -> None:
        process = self._process
        if process is not None:
            process.terminate(self.options.kill_grace)

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        if self.options.env:
            env.update(self.options.env)
        env.update(extra)
        return env

    def _run_job(self, state: _JobState) -> None:
        job = self.recipe.jobs[state.job.id]
        self._cancel_job.clear()
        with self._lock:
            self._current = job.id
            state.progress = JobProgress(frames=job.frames, engine=job.engine)
        self._set_status(state, RUNNING)
        self.log.section(f"job {job.id} {job.display_name!r}")
        if not self._run_hooks("PRE_JOB", job.hooks.get("PRE_JOB", []), state):
            self._set_status(state, FAILED, "PRE_JOB hook failed: job not rendered")
            self._run_post_job(state)
            return
        source = self.recipe.resolve(job.source_file)
        if not os.path.isfile(source):
            self._set_status(state, FAILED, f"Blend file not found: {source}")
            self._run_post_job(state)
            return
        if self._cancel_batch.is_set() or self._cancel_job.is_set():
            self._set_status(state, CANCELLED)
            return
        tmpdir = tempfile.mkdtemp(prefix=f"renderplus-job{job.id}-")
        try:
            outcome, message = self._render(job, state, tmpdir)
        finally:
            if self.options.cleanup:
                shutil.rmtree(tmpdir, ignore_errors=True)
            else:
                self.log.write(f"[job {job.id}] temp folder kept: {tmpdir}")
        self._set_status(state, outcome, message)
        if outcome != CANCELLED:
            self._run_post_job(state)

    def _run_post_job(self, state: _JobState) -> None:
        if not self._cancel_batch.is_set():
            self._run_hooks("POST_JOB", state.job.hooks.get("POST_JOB", []), state)

    def _render(self, job: Job, state: _JobState, tmpdir: str) -> tuple[str, str | None]:
        config = os.path.join(tmpdir, f"renderplus_job{job.id}.json")
        write_override_config(self.recipe, job, config)
        argv = build_argv(self.recipe, job, blender_bin=self.blender_bin, config_path=config)
        self.log.write(f"$ {format_argv(argv)}")
        env = self._environment({"TMPDIR": tmpdir, "TEMP": tmpdir, "TMP": tmpdir})
        try:
            with self._lock:
                if self._cancel_batch.is_set() or self._cancel_job.is_set():
                    return CANCELLED, None
                process = OwnedProcess(argv, env=env)
                self._process = process
                state.process_started = time.time()
        except OSError as exc:
            return FAILED, f"Cannot start Blender ({self.blender_bin}): {exc.strerror or exc}"
        progress = state.progress
        assert progress is not None
        debug = self.options.debug
        try:
            for line in process.lines():
                self.log.write(line)
                if debug:
                    log.debug("[job %d] %s", job.id, line)
                with self._lock:
                    changed = progress.feed(line)
                    if changed:
                        state.revision += 1
                if changed:
                    self._changed()
        finally:
            code = process.wait()
            with self._lock:
                self._process = None
                state.process_exited, state.returncode = time.time(), code
                state.revision += 1
        self.log.write(f"[job {job.id}] Blender exited with code {code}")
        return self._outcome(job, progress, code, process.terminated)

    def _outcome(self, job: Job, progress: JobProgress, code: int,
                 terminated: bool) -> tuple[str, str | None]:
        if terminated and (self._cancel_batch.is_set() or self._cancel_job.is_set()):
            return CANCELLED, "Cancelled while rendering"
        if code != 0:
            detail = "; ".join(progress.errors[-3:]) if progress.errors else "no error message"
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            return FAILED, f"Blender failed ({how}): {detail}"
        missing = [path for path in progress.saved_files if not os.path.exists(path)]
        if missing:
            return FAILED, f"Output file missing after render: {missing[0]}"
        expected = len(job.frames)
        if progress.frames_done < expected:
            detail = f" ({'; '.join(progress.errors[-3:])})" if progress.errors else ""
            return FAILED, (f"Blender exited without writing every frame: "
                            f"{progress.frames_done} of {expected} written{detail}")
        return FINISHED, None

    def _run_hooks(self, phase: str, hooks: list[Hook], state: _JobState | None) -> bool:
        """Run the enabled hooks of ``phase`` in order; False when one failed."""
        ok = True
        for hook in hooks:
            if not hook.enabled:
                continue
            if self._cancel_batch.is_set():
                return False
            env = self._hook_env(phase, state)
            self.log.write(f"[{phase}] $ {hook.cmd}")
            try:
                with self._lock:
                    process = OwnedProcess(hook.cmd, env=env)
                    self._process = process
                output = []
                for line in process.lines():
                    output.append(line)
                    self.log.write(f"[{phase}] {line}")
                code = process.wait()
            except OSError as exc:
                code, output = -1, [f"cannot run: {exc.strerror or exc}"]
            finally:
                with self._lock:
                    self._process = None
            result = {"phase": phase, "job": state.job.id if state else None, "cmd": hook.cmd,
                      "returncode": code, "output": "\n".join(output)[-4000:]}
            with self._lock:
                self._hook_results.append(result)
            if code != 0:
                ok = False
                message = f"{phase} hook failed (exit code {code}): {hook.cmd}"
                tail = output[-1] if output else ""
                if tail:
                    message += f" -> {tail}"
                if state is not None:
                    self._add_job_message(state, message)
                else:
                    self.report(message)
            else:
                self._changed()
        return ok

    def _hook_env(self, phase: str, state: _JobState | None) -> dict[str, str]:
        extra = {"RENDERPLUS_HOOK": phase, "RENDERPLUS_BATCH": self.recipe.name}
        if state is not None:
            job = state.job
            extra.update({
                "RENDERPLUS_JOB_ID": str(job.id),
                "RENDERPLUS_JOB_NAME": job.display_name,
                "RENDERPLUS_JOB_STATUS": state.status,
                "RENDERPLUS_BLEND_FILE": self.recipe.resolve(job.source_file),
                "RENDERPLUS_OUTPUTS": os.pathsep.join(state.progress.saved_files
                                                      if state.progress else []),
            })
        return self._environment(extra)
