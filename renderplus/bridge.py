"""Where threads meet bpy: the in-process batch server, the batch, and the main-thread pump.

Threading rules (the add-on's only module where they matter):

- The server's threads and the batch runner's thread never touch ``bpy``. They change the
  ``BatchService`` / ``Batch`` state, which the engine guards with its own locks.
- Everything in this module runs in Blender's main thread: operators call start/stop/cancel,
  and ``pump()`` (a ``bpy.app.timers`` callback) reads ``Batch.revision`` and, when it moved,
  ``Batch.snapshot()``, copies what changed into ``WindowManager.renderplus_run`` and tags the
  sidebar for redraw. Nothing here blocks on a thread except ``shutdown()``.
- ``pump()`` is a plain function: timers never fire in background Blender, so tests and the
  benchmark call it directly.
"""

from __future__ import annotations

import atexit
import hashlib
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy

from .batch.recipe import Recipe
from .batch.runner import Batch, RunOptions
from .batch.service import BatchService, ServiceError
from .preferences import get_preferences, job_blender_bin
from .props import run_state

HOST = "127.0.0.1"
RUNNING_INTERVAL = 0.25  # seconds between pump ticks while a batch runs
IDLE_INTERVAL = 1.0  # while only the server runs (a batch may arrive over HTTP)
REDRAW_AREAS = frozenset({"VIEW_3D", "PREFERENCES"})
SHUTDOWN_TIMEOUT = 15.0


class BridgeError(Exception):
    """An action the add-on cannot do now; ``str()`` is a sentence to show the user."""


@dataclass
class _Launch:
    """What the add-on knows about a batch it started (HTTP-started batches have none)."""

    batch: Batch
    scene: str
    uids: list[int]
    copy_path: str


@dataclass
class _Bridge:
    service: BatchService | None = None
    server: Any = None  # the handle start_server() returns
    launch: _Launch | None = None
    seen_batch: Batch | None = None  # the batch whose state the UI shows
    seen_revision: int = -1
    batch_key: tuple[Any, ...] | None = None
    job_cache: list[Any] = field(default_factory=list)  # last job snapshot written, per job
    run_scene: str = ""
    uid_index: dict[int, int] = field(default_factory=dict)
    pump_error: str = ""


_state = _Bridge()


# --------------------------------------------------------------------------------------------
# Paths


def user_dir(*parts: str, create: bool = True) -> Path:
    """A folder for Render+'s own files (copies, logs, uploads); ``create`` makes it."""
    package = __package__ or "renderplus"
    if package.startswith("bl_ext.") and hasattr(bpy.utils, "extension_path_user"):
        root = bpy.utils.extension_path_user(package, create=create)
    else:  # legacy add-on (Blender 3.x)
        root = bpy.utils.user_resource("CONFIG", path="renderplus", create=create)
    path = Path(root, *parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def copy_path_for(blend_path: str, *, create: bool = True) -> Path:
    """Where "Render Batch" saves the copy it renders: one per source file, in Render+'s folder."""
    stem = Path(blend_path).stem if blend_path else "untitled"
    digest = hashlib.sha1(blend_path.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return user_dir("copies", create=create) / f"{stem}-{digest}.blend"


# --------------------------------------------------------------------------------------------
# Service and server


def get_service() -> BatchService:
    """The add-on's one batch slot (shared with the server), using the preferred Blender."""
    if _state.service is None:
        options = RunOptions(log_dir=str(user_dir("logs")))
        _state.service = BatchService(options, work_dir=user_dir("server"))
    _state.service.options.blender_bin = job_blender_bin(get_preferences()) or None
    return _state.service


def start_server(port: int) -> str:
    """Start the batch server on 127.0.0.1:``port`` in daemon threads; return its URL."""
    if server_url() is not None:
        raise BridgeError(f"The batch server is already running at {server_url()}")
    try:  # imported here: the server loads Bottle (installed, or the bundled wheel in 3.x)
        from .server import start_server as start_http_server
    except ImportError as exc:
        raise BridgeError(f"The batch server is not available: {exc}") from exc
    try:
        handle = start_http_server(get_service(), host=HOST, port=port)
    except OSError as exc:
        raise BridgeError(f"Cannot start the batch server on port {port}: "
                          f"{exc.strerror or exc}") from exc
    _state.server = handle
    ensure_pump()
    return str(handle.url)


def stop_server() -> bool:
    """Stop the server (returns once its port is free); False when it was not running."""
    handle, _state.server = _state.server, None
    if handle is None:
        return False
    handle.stop()
    return True


def server_url() -> str | None:
    handle = _state.server
    return str(handle.url) if handle is not None and handle.running else None


def server_port() -> int | None:
    handle = _state.server
    return int(handle.port) if handle is not None and handle.running else None


# --------------------------------------------------------------------------------------------
# Batches


def batch_running() -> bool:
    return _state.service is not None and _state.service.running


def start_batch(recipe: Recipe, *, scene: str, uids: Sequence[int], copy_path: str) -> Batch:
    """Load ``recipe`` into the batch slot and start it; ``uids`` maps its jobs to the scene's."""
    service = get_service()
    try:
        service.load_recipe(recipe)
        batch = service.start()
    except ServiceError as exc:
        raise BridgeError(str(exc)) from exc
    _state.launch = _Launch(batch, scene, list(uids), copy_path)
    ensure_pump()
    return batch


def cancel_batch() -> None:
    _cancel(current_job_only=False)


def cancel_current_job() -> None:
    _cancel(current_job_only=True)


def _cancel(*, current_job_only: bool) -> None:
    service = _state.service
    if service is None:
        raise BridgeError("Not running a batch right now")
    try:
        service.cancel_current_job() if current_job_only else service.cancel()
    except ServiceError as exc:
        raise BridgeError(str(exc)) from exc


def job_state_index(scene_name: str, uid: int) -> int | None:
    """Index in ``renderplus_run.jobs`` of the scene job ``uid`` in the shown batch, if any."""
    if scene_name != _state.run_scene:
        return None
    return _state.uid_index.get(uid)


# --------------------------------------------------------------------------------------------
# The pump


def ensure_pump() -> None:
    """Register the pump timer unless it is registered already."""
    if not bpy.app.timers.is_registered(pump):
        bpy.app.timers.register(pump, first_interval=0.0, persistent=True)


def pump() -> float | None:
    """One tick: copy the batch's new state (if any) into ``WindowManager.renderplus_run``.

    Returns the delay until the next tick, or None when there is nothing left to watch (Blender
    drops the timer; starting a batch or the server registers it again).
    """
    try:
        _pump_once()
    except Exception:  # a timer that raises is dropped by Blender: keep watching, say why once
        message = traceback.format_exc()
        if message != _state.pump_error:
            _state.pump_error = message
            print(f"Render+: the progress display failed:\n{message}", file=sys.stderr)
    return _next_interval()


def _next_interval() -> float | None:
    service = _state.service
    batch = service.batch if service is not None else None
    if batch is not None and (batch.running or batch.revision != _state.seen_revision):
        return RUNNING_INTERVAL
    if server_url() is not None:
        return IDLE_INTERVAL
    return None


def _pump_once() -> None:
    service = _state.service
    batch = service.batch if service is not None else None
    if batch is None or not bpy.data.window_managers:
        return
    wm = bpy.data.window_managers[0]
    run = run_state(wm)
    if batch is not _state.seen_batch or len(run.jobs) != len(batch.recipe.jobs):
        _reset_run(run, batch)
    revision = batch.revision  # read before the snapshot: a later change shows next tick
    if revision == _state.seen_revision:
        return
    snapshot = batch.snapshot()
    _copy_batch(run, snapshot)
    _copy_jobs(run, snapshot.get("jobs") or [])
    run.revision = revision
    _state.seen_revision = revision
    _tag_redraw(wm)


def _reset_run(run: Any, batch: Batch) -> None:
    """A new batch: rebuild the per-job state list, linked to the scene's jobs when known."""
    launch = _state.launch if _state.launch is not None and _state.launch.batch is batch else None
    jobs = batch.recipe.jobs
    uids = launch.uids if launch is not None and len(launch.uids) == len(jobs) else [0] * len(jobs)
    run.scene = launch.scene if launch is not None else ""
    run.copy_path = launch.copy_path if launch is not None else ""
    run.batch_name = batch.recipe.name
    run.jobs.clear()
    for job, uid in zip(jobs, uids, strict=True):
        state = run.jobs.add()
        state.name = job.display_name
        state.uid = uid
        state.job_id = job.id
    _state.seen_batch = batch
    _state.seen_revision = -1
    _state.batch_key = None
    _state.job_cache = [None] * len(jobs)
    _state.run_scene = run.scene
    _state.uid_index = {uid: index for index, uid in enumerate(uids) if uid}


def _clock(timestamp: Any) -> str:
    return time.strftime("%H:%M:%S", time.localtime(timestamp)) if timestamp else ""


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else -1.0


def _copy_batch(run: Any, snap: dict[str, Any]) -> None:
    times = snap.get("times") or {}
    stats = snap.get("stats") or {}
    poweroff = snap.get("poweroff")
    key = (snap.get("status"), snap.get("progress"), snap.get("current_job"), snap.get("eta"),
           snap.get("failed"), tuple(sorted(times.items())), tuple(sorted(stats.items())),
           str(poweroff), tuple(snap.get("messages") or ()))
    if key == _state.batch_key:
        return
    _state.batch_key = key
    run.status = str(snap.get("status") or "")
    run.progress_value = float(snap.get("progress") or 0.0)
    current = snap.get("current_job")
    run.current_job = current if isinstance(current, int) else -1
    run.eta = _seconds(snap.get("eta"))
    run.failed = int(snap.get("failed") or 0)
    run.started = _clock(times.get("started"))
    run.finished = _clock(times.get("finished"))
    run.rendertime = _seconds(times.get("rendertime"))
    run.average_time = _seconds(stats.get("average_time"))
    run.fastest_time = _seconds(stats.get("fastest_time"))
    run.slowest_time = _seconds(stats.get("slowest_time"))
    fastest, slowest = stats.get("fastest_index"), stats.get("slowest_index")
    run.fastest_index = fastest if isinstance(fastest, int) else -1
    run.slowest_index = slowest if isinstance(slowest, int) else -1
    run.poweroff = (f"{poweroff.get('action', '')} at {_clock(poweroff.get('at'))}"
                    if isinstance(poweroff, dict) else "")
    run.messages = "\n".join(str(m) for m in snap.get("messages") or ())


def _copy_jobs(run: Any, jobs: list[dict[str, Any]]) -> None:
    cache = _state.job_cache
    states = run.jobs
    for index, snap in enumerate(jobs[:len(cache)]):
        if snap == cache[index]:  # a deep compare in C: most jobs do not change between ticks
            continue
        cache[index] = snap
        state = states[index]
        times = snap.get("times") or {}
        engine = snap.get("engine") or {}
        state.status = str(snap.get("status") or "")
        state.progress_value = float(snap.get("progress") or 0.0)
        state.started = _clock(times.get("started"))
        state.finished = _clock(times.get("finished"))
        state.rendertime = _seconds(times.get("rendertime"))
        state.eta = _seconds(snap.get("eta"))
        state.frames_done = int(snap.get("frames_done") or 0)
        state.frames_total = int(snap.get("frames_total") or 0)
        state.engine_type = str(engine.get("type") or "")
        state.detail = _detail(engine.get("data"))
        state.messages = "\n".join(str(m) for m in snap.get("messages") or ())


def _detail(data: Any) -> str:
    """A one-line summary of the engine's progress data (keys depend on the engine)."""
    if not isinstance(data, dict):
        return ""
    parts = []
    if data.get("frame"):
        parts.append(f"Frame {data['frame']}")
    if data.get("samples_done") and data.get("samples_todo"):
        parts.append(f"Sample {data['samples_done']}/{data['samples_todo']}")
    if not parts and data.get("elapsed"):
        parts.append(f"{data['elapsed']} elapsed")
    return " | ".join(parts)


def _tag_redraw(wm: Any) -> None:
    for window in wm.windows:
        screen = window.screen
        if screen is None:
            continue
        for area in screen.areas:
            if area.type in REDRAW_AREAS:
                area.tag_redraw()


@bpy.app.handlers.persistent
def _on_load_post(*_args: Any) -> None:
    """A file was opened: the window manager may be new, so let the pump write everything again."""
    _state.seen_batch = None
    if _state.service is not None and _state.service.batch is not None:
        ensure_pump()


# --------------------------------------------------------------------------------------------
# Lifetime


def shutdown() -> None:
    """Stop the server and any running batch, and wait for their threads (add-on disabled)."""
    global _state
    state, _state = _state, _Bridge()
    if state.server is not None:
        try:
            state.server.stop()
        except Exception as exc:  # never let a failing stop keep the add-on half-registered
            print(f"Render+: stopping the batch server failed: {exc}", file=sys.stderr)
    if state.service is not None:
        state.service.shutdown(timeout=SHUTDOWN_TIMEOUT)


def register() -> None:
    bpy.app.handlers.load_post.append(_on_load_post)
    atexit.register(shutdown)
    prefs = get_preferences()
    if prefs is not None and prefs.server_autostart:
        try:
            start_server(prefs.server_port)
        except BridgeError as exc:
            print(f"Render+: {exc}", file=sys.stderr)


def unregister() -> None:
    shutdown()
    atexit.unregister(shutdown)
    if _on_load_post in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_on_load_post)
    if bpy.app.timers.is_registered(pump):
        bpy.app.timers.unregister(pump)
