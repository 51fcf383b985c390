"""Where threads meet bpy: the in-process batch server, the batch's lifecycle, the timer pump.

Threading rules (the add-on's only module where they matter):

- The server's threads and the batch runner's thread never touch ``bpy``. They change the
  ``BatchService`` / ``Batch`` state, which the engine guards with its own locks.
- Everything in this module runs in Blender's main thread and never waits for another thread
  (``shutdown()``, when the add-on is disabled, is the one exception). Stopping the server only
  asks it to stop; the pump notices when its port is free.
- ``pump()`` (a ``bpy.app.timers`` callback) reads ``Batch.revision``; only when it moved does it
  take the batch's frozen ``view()`` and hand it to ``run_io``, which writes
  ``WindowManager.renderplus_run``; then it tags the sidebar for redraw: at once for a
  milestone (a status changed), at most once a second for progress alone, since every redraw
  of any region costs a composite of the whole window (bench/bench_gui.py). ``pump()`` is a plain
  function: timers never fire in background Blender, so tests and the benchmark call it.
- A batch keeps the ``RunOptions`` it started with (they are frozen). The Blender preference
  only replaces the service's options, which later batches take, HTTP-started ones included.
"""

from __future__ import annotations

import atexit
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

import bpy

from ..batch import spawner
from ..batch.options import choose_blender
from ..batch.recipe import Recipe
from ..batch.runner import Batch
from ..batch.service import BatchService, ServiceError, open_store
from ..batch.view import BatchView
from . import ui_refresh
from .addon_state import AddonState, Launch, make_service
from .binary_info import BinaryInfo
from .paths import check_resolver
from .paths import copy_path_for as copy_path_for  # re-exported: callers and tests use bridge's
from .paths import user_dir as user_dir
from .props import run_state

HOST = "127.0.0.1"
RUNNING_INTERVAL = 0.25  # seconds between pump ticks while a batch runs
STOPPING_INTERVAL = 0.1  # while a server stop is under way (the panel says "stopping")
IDLE_INTERVAL = 1.0  # while only the server runs (a batch may arrive over HTTP)
PROGRESS_REDRAW_INTERVAL = 1.0  # seconds: progress alone redraws the sidebar at most this often
SHUTDOWN_TIMEOUT = 15.0


class BridgeError(Exception):
    """An action the add-on cannot do now; ``str()`` is a sentence to show the user."""


_state = AddonState()  # the one instance; tests and benchmarks drive it through bridge._state


# --------------------------------------------------------------------------------------------
# Service and server


def get_service() -> BatchService:
    """The add-on's one batch slot, shared with the server."""
    if _state.service is None:
        _state.service = make_service(default_blender=_state.default_blender,
                                      log_dir=user_dir("logs"), work_dir=user_dir("server"),
                                      store=_open_store())
    return _state.service


def _open_store() -> Any:
    """The durable batch store in Render+'s folder, so a batch that Blender's quit or crash cut
    short can be resumed when Blender is reopened; None (said once) when it cannot be opened."""
    store, why = open_store(user_dir("state"))
    if store is None:
        print(f"Render+: batches cannot be resumed after a crash: {why}", file=sys.stderr)
    return store


def set_default_blender(blender_bin: str | None) -> None:
    """The Blender that batches started from now on use when their recipe names none (the
    preference changed): the service gets new frozen options; a running batch keeps its own."""
    _state.default_blender = blender_bin or None
    service = _state.service
    if service is not None and service.options.blender_bin != _state.default_blender:
        service.set_options(service.options.with_changes(blender_bin=_state.default_blender))
    if not bpy.app.background:  # ask the new binary now, so Render need not wait for it
        binary_info(rendering_binary())


def start_server(port: int, *, no_token: bool = False) -> str:
    """Start the batch server on 127.0.0.1:``port`` in daemon threads; return its URL.

    The server makes its own access token unless ``no_token`` (the preference "No token on
    this machine"): then anyone on this machine may drive it."""
    if server_url() is not None:
        raise BridgeError(f"The batch server is already running at {server_url()}")
    _forget_stopped_servers()
    if any(handle.port == port for handle in _state.stopping):
        raise BridgeError(f"The batch server on port {port} is still stopping: try again in a moment")
    try:  # imported here: the server loads Bottle (installed, or the bundled wheel in 3.x)
        from ..server import start_server as start_http_server
    except ImportError as exc:
        raise BridgeError(f"The batch server is not available: {exc}") from exc
    try:
        handle = start_http_server(get_service(), host=HOST, port=port, no_token=no_token)
    except OSError as exc:
        raise BridgeError(f"Cannot start the batch server on port {port}: "
                          f"{exc.strerror or exc}") from exc
    _state.server = handle
    ensure_pump()
    return str(handle.url)


def stop_server() -> bool:
    """Ask the server to stop and return at once (its own thread lets requests in flight end
    and frees the port; the pump notices). False when it was not running."""
    handle, _state.server = _state.server, None
    if handle is None:
        return False
    handle.request_stop()
    if not handle.stopped:
        _state.stopping.append(handle)
        ensure_pump()
    return True


def server_url() -> str | None:
    """The running server's URL; None when stopped or stopping."""
    handle = _state.server
    return str(handle.url) if handle is not None and handle.running else None


def dashboard_url() -> str | None:
    """The running server's dashboard with its access token (None when stopped)."""
    handle = _state.server
    if handle is None or not handle.running:
        return None
    return handle.dashboard_url


def server_token() -> str | None:
    """The running server's access token; None when it has none (or is stopped)."""
    handle = _state.server
    return handle.token if handle is not None and handle.running and handle.token else None


def server_port() -> int | None:
    handle = _state.server
    return int(handle.port) if handle is not None and handle.running else None


def server_stopping() -> bool:
    """A stop was asked for and the port is not free yet."""
    _forget_stopped_servers()
    return bool(_state.stopping)


def _forget_stopped_servers() -> bool:
    """Drop the handles whose stop is complete; True when one was dropped."""
    still = [handle for handle in _state.stopping if not handle.stopped]
    changed = len(still) != len(_state.stopping)
    _state.stopping = still
    return changed


# --------------------------------------------------------------------------------------------
# Batches


def batch_running() -> bool:
    return _state.service is not None and _state.service.running


def start_batch(recipe: Recipe, *, scene: str, uids: Sequence[int], copy_path: str,
                blender_bin: str | None) -> Batch:
    """Start ``recipe`` with ``blender_bin`` as its default Blender (frozen into the batch's
    options right before it starts); ``uids`` maps its jobs to the scene's jobs."""
    service = get_service()
    set_default_blender(blender_bin)
    try:
        service.load_recipe(recipe)
        batch = service.start()
    except ServiceError as exc:
        raise BridgeError(str(exc)) from exc
    _state.launch = Launch(batch, scene, list(uids), copy_path)
    _state.followed_job = None
    _state.interrupted = None
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


def rendering_binary() -> str:
    """The Blender that jobs of the add-on's batches render with (the recipe names none)."""
    return choose_blender(None, _state.default_blender)


def check_arguments(scene: Any, binary: BinaryInfo | None, abspath: Any = None) -> dict[str, Any]:
    """What ``job_checks`` needs, for jobs of ``scene``: the file's data, what the rendering
    ``binary`` said (None while it is being asked), how paths resolve (default: as this file's)
    and the version the copy is saved with."""
    major, minor = bpy.app.version[:2]
    return {"data": bpy.data, "default_scene": scene, "abspath": abspath or check_resolver(),
            "binary": binary, "file_version": major * 100 + minor}


def binary_info(binary: str) -> BinaryInfo | None:
    """What ``binary`` can render with and its version; None while a thread asks it (the pump
    redraws the panels when the answer comes)."""
    info = _state.binaries.get(binary)
    if info is None:
        ensure_pump()
    return info


def wait_binary_info(binary: str, timeout: float) -> BinaryInfo | None:
    """``binary_info``, waiting up to ``timeout`` s for an answer under way (Render pressed
    within a second or two of choosing the binary)."""
    return _state.binaries.wait(binary, timeout)


def refresh_interrupted() -> BatchView | None:
    """Look for a batch that a quit or crash cut short (the durable store's); the panel offers
    to resume it."""
    service = get_service()
    view = None
    if not service.running:
        try:
            view = service.interrupted_view()
        except Exception as exc:  # a broken store must not keep the add-on from loading
            print(f"Render+: could not read the interrupted batch: {exc}", file=sys.stderr)
    _state.interrupted = view
    return view


def interrupted_batch() -> BatchView | None:
    """The interrupted batch found last (no store access: the panels call this on every draw)."""
    return None if batch_running() else _state.interrupted


def can_resume() -> bool:
    return get_service().store is not None


def resume_batch() -> Batch:
    """Resume the interrupted batch: only its missing frames render again."""
    try:
        batch = get_service().resume()
    except ServiceError as exc:
        raise BridgeError(str(exc)) from exc
    _state.interrupted = None
    _state.launch = None
    ensure_pump()
    return batch


def job_state_index(scene_name: str, uid: int) -> int | None:
    """Index in ``renderplus_run.jobs`` of the scene job ``uid`` in the shown batch, if any."""
    return _state.mirror.index_of(scene_name, uid)


# --------------------------------------------------------------------------------------------
# The pump


def ensure_pump() -> None:
    """Register the pump timer unless it is registered already."""
    if not bpy.app.timers.is_registered(pump):
        bpy.app.timers.register(pump, first_interval=0.0, persistent=True)


def pump() -> float | None:
    """One tick: show the batch's new state (if any) and notice a server stop that completed.

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
    if _state.redraw_pending:
        return RUNNING_INTERVAL
    if _state.stopping or _state.binaries.pending:
        return STOPPING_INTERVAL
    if server_url() is not None:
        return IDLE_INTERVAL
    return None


def _pump_once() -> None:
    if not bpy.data.window_managers:
        return
    wm = bpy.data.window_managers[0]
    urgent = _forget_stopped_servers()  # the panels say "stopped" now
    urgent = _state.binaries.take_finished() or urgent  # "checking..." has an answer
    service = _state.service
    batch = service.batch if service is not None else None
    if batch is not None and _show(batch, run_state(wm)):
        _state.redraw_pending = True
        milestones = _state.mirror.milestones
        urgent = urgent or milestones != _state.seen_milestones
        _state.seen_milestones = milestones
    now = time.monotonic()
    if urgent or (_state.redraw_pending and now - _state.last_redraw >= PROGRESS_REDRAW_INTERVAL):
        ui_refresh.tag_sidebars(wm)
        _state.redraw_pending = False
        _state.last_redraw = now


def _show(batch: Batch, run: Any) -> bool:
    """Hand the batch's view to run_io when its revision moved; True when something was written."""
    if batch is not _state.shown_batch or len(run.jobs) != len(batch.recipe.jobs):
        launch = _state.launch if _state.launch is not None and _state.launch.batch is batch else None
        if launch is not None:
            _state.mirror.reset(run, batch.recipe, scene=launch.scene, uids=launch.uids,
                                copy_path=launch.copy_path)
        else:
            _state.mirror.reset(run, batch.recipe)
        _state.shown_batch = batch
        _state.seen_revision = -1
    if batch.revision == _state.seen_revision:
        return False
    view = batch.view()  # built once per revision and shared with the server's pollers
    _state.mirror.write(run, view)
    _state.seen_revision = view.revision
    _follow_running_job(batch, view)
    return True


def _follow_running_job(batch: Batch, view: BatchView) -> None:
    """Select the job that started rendering in the job list, once per job (the artist may
    select another one meanwhile)."""
    current, launch = view.current_job, _state.launch
    if current is None or current == _state.followed_job or launch is None or launch.batch is not batch:
        return
    _state.followed_job = current
    if 0 <= current < len(launch.uids):
        ui_refresh.select_job(launch.scene, launch.uids[current])


@bpy.app.handlers.persistent
def _on_load_post(*_args: Any) -> None:
    """A file was opened: the window manager may be new, so let the pump write everything again."""
    _state.shown_batch = None
    if _state.service is not None and _state.service.batch is not None:
        ensure_pump()


# --------------------------------------------------------------------------------------------
# Lifetime


def shutdown() -> None:
    """Stop the server and any running batch, and wait for their threads (add-on disabled:
    no thread may outlive the classes it could call back into)."""
    global _state
    state, _state = _state, AddonState()
    for handle in [state.server, *state.stopping]:
        if handle is None:
            continue
        try:
            handle.stop()
        except Exception as exc:  # never let a failing stop keep the add-on half-registered
            print(f"Render+: stopping the batch server failed: {exc}", file=sys.stderr)
    if state.service is not None:
        state.service.shutdown(timeout=SHUTDOWN_TIMEOUT)
    state.binaries.shutdown(timeout=SHUTDOWN_TIMEOUT)
    # The engine forks every child from one long-lived thread; a disabled add-on ends it (a
    # later spawn starts a new one), else each disable/enable cycle would leave one behind.
    spawner.shutdown()


def register() -> None:
    bpy.app.handlers.load_post.append(_on_load_post)
    atexit.register(shutdown)


def unregister() -> None:
    shutdown()
    atexit.unregister(shutdown)
    if _on_load_post in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_on_load_post)
    if bpy.app.timers.is_registered(pump):
        bpy.app.timers.unregister(pump)
