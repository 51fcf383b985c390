"""The session executor: one Blender renders consecutive jobs of the same .blend.

Starting Blender costs 1.5 s a job (docs/blender.md, Start-up cost); a session pays it once. At most one
session lives (capacity 1): a job goes to it when it runs the same Blender binary on the same
file with the same process-wide options (``-t``, ``--cycles-device``, environment); otherwise the
idle session is ended (its stdin closed, so Blender quits) and a new one starts with
``blender -b FILE [-t N] --python blender_scripts/session.py -- --renderplus-session``. Each job
is one JSON line on the session's stdin (``session_job``: what the job's own command sets); the
session script prints ``job_start`` / ``job_end`` markers around the job's output, and this
module turns them into ``Started`` and ``Exited(code)`` for that job and every line between into
its ``Output``. Its first job renders the file Blender loaded at start-up; later jobs reload it.

Cancelling a job ends the whole session (SIGTERM to its group, SIGKILL after the grace) and
confirms that job with ``Exited(cancelled=True)``; the next job starts a new session. A pause
"now" ends the session likewise (``Exited(paused=True)``); "after the frame" creates the job's
stop file (named in its job line), and the session script ends the session after that frame;
``end_idle`` ends an idle session (a paused batch leaves no Blender). A session that dies fails
only the job it was on. The session has its own TMPDIR (a job's temp folder is
removed when the job ends); a crash report Blender leaves there is moved into the job's folder,
where the runner looks for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import spawner
from ..markers import MARKER_PREFIX, PAUSED_EXIT_CODE, parse_marker
from ..paths import TEMP_VARS, job_temp_dir
from ..pause import STOP_FILE_VAR, ask_to_stop, stronger
from ..process import OwnedProcess
from ..script_paths import SESSION_SCRIPT
from .base import (
    Accepted,
    EventSink,
    ExecutorError,
    Exited,
    JobHandle,
    JobLaunch,
    Output,
    Started,
)
from .session_job import SessionJob, session_job

NAME = "session"
SESSION_FLAG = "--renderplus-session"
JOB_START, JOB_END = "job_start", "job_end"
RESETS = ("reload", "restore")
MAX_EARLY_LINES = 2000         # lines kept for a job until its job_start marker arrives


@dataclass
class _Job:
    launch: JobLaunch
    sink: EventSink
    handle: JobHandle
    started: bool = False
    cancelled: bool = False
    paused: str | None = None      # the strongest pause asked of it
    early: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.launch.job_id


@dataclass
class _Session:
    key: tuple[Any, ...]
    process: OwnedProcess
    tmpdir: str
    boot: str | None
    ticks: int | None
    current: _Job | None = None
    stdin_lock: threading.Lock = field(default_factory=threading.Lock)
    gone: threading.Event = field(default_factory=threading.Event)   # its process has ended

    def send(self, line: str) -> None:
        with self.stdin_lock:
            stream = self.process.popen.stdin
            if stream is None or stream.closed:
                raise BrokenPipeError("the session's stdin is closed")
            stream.write(line.encode("utf-8"))
            stream.flush()

    def close_stdin(self) -> None:
        with self.stdin_lock, contextlib.suppress(OSError):
            if self.process.popen.stdin is not None:
                self.process.popen.stdin.close()

    @property
    def alive(self) -> bool:
        return self.process.popen.poll() is None and not self.process.terminated


class SessionExecutor:
    """One Blender for consecutive jobs of a file; see the module docstring.

    ``reset``: how a later job gets the file back: ``"reload"`` (from disk; the default) or
    ``"restore"`` (set back what the previous job changed; kept for measurement).
    ``persistent_data``: Cycles keeps the scene's data between jobs (only with ``"restore"``:
    a reload frees it)."""

    name = NAME

    def __init__(self, reset: str = "reload", persistent_data: bool = False,
                 grace: float = 5.0) -> None:
        if reset not in RESETS:
            raise ValueError(f"reset must be one of {', '.join(RESETS)} (got {reset!r})")
        self.reset, self.persistent_data, self.grace = reset, persistent_data, grace
        self._lock = threading.Lock()
        self._session: _Session | None = None          # the one new jobs go to
        self._sessions: list[_Session] = []            # every session process still alive
        self._inflight: set[int] = set()
        self._closed = False

    @property
    def capacity(self) -> int:
        with self._lock:
            return 0 if self._closed or self._inflight else 1

    def submit(self, launch: JobLaunch, sink: EventSink) -> JobHandle:
        split = session_job(launch.command)
        key = self._key(split, launch.env)
        with self._lock:
            if self._closed:
                raise ExecutorError("the executor is closed")
            if self._inflight:
                raise ExecutorError("the session is busy with another job")
            session = self._session
            if session is not None and (session.key != key or not session.alive):
                self._session, stale = None, session
            else:
                stale = None
        if stale is not None:
            self._retire(stale)
            session = None
        if session is None:
            session = self._start(split, key, launch)
        handle = JobHandle(NAME, launch.job_id, pid=session.process.pid, pgid=session.process.pid,
                           boot_id=session.boot, start_ticks=session.ticks,
                           argv=session.process.argv)
        job = _Job(launch, sink, handle)
        with self._lock:
            session.current = job
            self._inflight.add(job.id)
            sink(Accepted(job.id, handle))  # under the lock: before anything the reader sends
        line = json.dumps({"job": job.id, **split.job,
                           "stop_file": launch.env.get(STOP_FILE_VAR)}) + "\n"
        try:
            session.send(line)
        except OSError:
            session.process.terminate(self.grace)  # it died: the reader reports this job's exit
        return handle

    def cancel(self, job_id: int, grace: float) -> bool:
        with self._lock:
            session = next((s for s in self._sessions
                            if s.current is not None and s.current.id == job_id), None)
            if session is None or session.current is None:
                return False
            session.current.cancelled = True
            if self._session is session:
                self._session = None
        session.process.terminate(grace)
        return True

    def pause(self, job_id: int, when: str, grace: float) -> bool:
        """"now": the session ends (as for a cancel); "frame": the job's stop file, after which
        the session script ends the session. Either way no next job goes to this session."""
        with self._lock:
            session = next((s for s in self._sessions
                            if s.current is not None and s.current.id == job_id), None)
            if session is None or session.current is None or session.current.cancelled:
                return False
            job = session.current
            job.paused = stronger(job.paused, when)
            if self._session is session:
                self._session = None
        if when == "now":
            session.process.terminate(grace)
            return True
        return ask_to_stop(job.launch.env)

    def end_idle(self, timeout: float | None = None) -> None:
        """End every session no job runs in and wait until they are gone (a paused batch
        leaves no Blender running); the executor takes jobs again afterwards."""
        grace = self.grace if timeout is None else timeout
        with self._lock:
            self._session = None
            idle = [s for s in self._sessions if s.current is None]
        for session in idle:
            self._retire(session, grace)
        for session in idle:
            session.gone.wait(2 * grace + 1.0)

    def end_orphan(self, handle: JobHandle) -> bool:
        """SIGKILL the recorded session's group, if its leader is still the recorded process."""
        return spawner.end_recorded_group(handle.pid, handle.pgid, handle.boot_id,
                                          handle.start_ticks, handle.argv)

    def close(self, grace: float | None = None) -> None:
        grace = self.grace if grace is None else grace
        with self._lock:
            self._closed = True
            self._session = None
            sessions = list(self._sessions)
            busy = [s for s in sessions if s.current is not None]
            for session in busy:
                assert session.current is not None
                session.current.cancelled = True
        for session in sessions:
            if session in busy:
                session.process.terminate(grace)
            else:
                self._retire(session, grace)

    # ---------------------------------------------------------------- sessions

    def _key(self, split: SessionJob, env: Mapping[str, str]) -> tuple[Any, ...]:
        kept_env = tuple(sorted((k, v) for k, v in env.items()
                                if k not in TEMP_VARS and k != STOP_FILE_VAR))
        return (split.blender, os.path.realpath(split.blend), split.process_args,
                split.script_args, kept_env)

    def session_argv(self, split: SessionJob) -> list[str]:
        return [split.blender, "-b", split.blend, *split.process_args,
                "--python-exit-code", "1", "--python", str(SESSION_SCRIPT), "--", SESSION_FLAG,
                "--reset", self.reset, *(["--persistent-data"] if self.persistent_data else []),
                *split.script_args]

    def _start(self, split: SessionJob, key: tuple[Any, ...], launch: JobLaunch) -> _Session:
        tmpdir = job_temp_dir(launch.job_id, "session")
        env = dict(launch.env or os.environ)
        env.update(dict.fromkeys(TEMP_VARS, tmpdir))
        env.pop(STOP_FILE_VAR, None)   # each job's own comes in its job line
        argv = self.session_argv(split)
        try:
            process = spawner.spawn(argv, env=env, cwd=tmpdir, stdin_pipe=True)
        except OSError as exc:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise ExecutorError(f"Cannot start {argv[0]}: {exc.strerror or exc}") from exc
        session = _Session(key, process, tmpdir, spawner.boot_id(), spawner.start_ticks(process.pid))
        with self._lock:
            self._session = session
            self._sessions.append(session)
        threading.Thread(target=self._read, args=(session,), name=f"renderplus-session{process.pid}",
                         daemon=True).start()
        return session

    def _retire(self, session: _Session, grace: float | None = None) -> None:
        """End an idle session: closing its stdin lets Blender quit; a group kill if it hangs."""
        grace = self.grace if grace is None else grace
        session.close_stdin()
        timer = threading.Timer(grace, session.process.terminate, args=(grace,))
        timer.daemon = True
        timer.start()

    # ---------------------------------------------------------------- the reader

    def _read(self, session: _Session) -> None:
        try:
            for line in session.process.lines():
                self._on_line(session, line)
        finally:
            code = session.process.wait()
            session.close_stdin()
            with self._lock:
                job, session.current = session.current, None
                if self._session is session:
                    self._session = None
                self._sessions.remove(session)
            session.gone.set()
            if job is not None:
                _keep_crash_reports(session.tmpdir, job.launch.workdir)
            shutil.rmtree(session.tmpdir, ignore_errors=True)
            if job is not None:
                self._begin(job)
                self._end(job, self._exited(job, session, code))

    def _exited(self, job: _Job, session: _Session, code: int) -> Exited:
        """The end of the job a session was on when the session ended."""
        cancelled = job.cancelled and session.process.terminated
        paused = not cancelled and job.paused is not None and (
            code == PAUSED_EXIT_CODE or (job.paused == "now" and session.process.terminated))
        # Before its job_start marker the session was loading the job's file: Blender's own
        # message says what was wrong with it; once rendering, say what ended.
        detail = "" if job.cancelled or paused or not job.started else \
            f"the Blender session (pid {session.process.pid}) ended"
        return Exited(job.id, code, time.time(), cancelled=cancelled, detail=detail, paused=paused)

    def _on_line(self, session: _Session, line: str) -> None:
        marker = parse_marker(line) if line.startswith(MARKER_PREFIX) else None
        event = marker.get("event") if marker else None
        with self._lock:
            job = session.current
            if job is None:
                return  # between jobs: nobody to tell
            ended = event == JOB_END and marker is not None and marker.get("job") == job.id
            if ended:
                session.current = None  # a cancel now finds nothing to end
        if ended:
            assert marker is not None
            self._begin(job)
            code = marker.get("code")
            self._end(job, Exited(job.id, code if isinstance(code, int) else 1, time.time(),
                                  cancelled=job.cancelled))
        elif event == JOB_START and marker is not None and marker.get("job") == job.id:
            self._begin(job)
        elif event not in (JOB_START, JOB_END):
            if job.started:
                job.sink(Output(job.id, line))
            elif len(job.early) < MAX_EARLY_LINES:
                job.early.append(line)

    def _end(self, job: _Job, exited: Exited) -> None:
        """Free the job's capacity and post its ``Exited`` as one step (base.py, Capacity): a
        runner that sees the session free finds the end in its queue, and once it has handled
        that end, the session takes its next job (a retry) at once."""
        with self._lock:
            self._inflight.discard(job.id)
            job.sink(exited)

    def _begin(self, job: _Job) -> None:
        """``Started`` once per job, then the lines that came before it (start-up, load)."""
        if job.started:
            return
        job.started = True
        job.sink(Started(job.id, job.handle, time.time()))
        for line in job.early:
            job.sink(Output(job.id, line))
        job.early.clear()


def _keep_crash_reports(tmpdir: str, workdir: str) -> None:
    """Blender writes its crash report into TMPDIR: move it where the runner looks for it."""
    if not workdir or not os.path.isdir(workdir):
        return
    for report in Path(tmpdir).glob("*.crash.txt"):
        with contextlib.suppress(OSError):
            shutil.move(str(report), os.path.join(workdir, report.name))
