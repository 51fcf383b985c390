"""Where threads meet bpy: the add-on's one state, the timer pump, the answers threads hand over,
and the shutdown that waits for every thread.

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
- Attached to another Render+ server (``remote_service``), the service's batch is a
  ``RemoteBatch`` that its own polling thread keeps up to date: the pump reads it the same way.

Starting and stopping the server is ``server_lifecycle``'s job, starting, cancelling and
resuming a batch ``batch_lifecycle``'s; both run in the main thread, keep what they start in
``state()`` and call ``ensure_pump()`` so that the pump watches it. They import this module,
never the other way round.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any

import bpy

from ..batch import spawner
from ..batch.runner import Batch
from ..batch.view import BatchView
from . import blend_copies, ui_refresh
from .addon_state import AddonState
from .binary_info import BinaryInfo
from .paths import user_dir
from .props import run_state
from .remote_batch import RemoteBatch
from .remote_service import RemoteService

RUNNING_INTERVAL = 0.25  # seconds between pump ticks while a batch runs
STOPPING_INTERVAL = 0.1  # while a server stop is under way (the panel says "stopping")
IDLE_INTERVAL = 1.0  # while only the server runs (a batch may arrive over HTTP)
PROGRESS_REDRAW_INTERVAL = 1.0  # seconds: progress alone redraws the sidebar at most this often
QUEUE_READ_INTERVAL = 1.0  # seconds between reads of the queue (it may change over HTTP too)
SHUTDOWN_TIMEOUT = 15.0


class BridgeError(Exception):
    """An action the add-on cannot do now; ``str()`` is a sentence to show the user."""


_state = AddonState()  # the one instance; tests and benchmarks drive it through bridge._state


def state() -> AddonState:
    """The add-on's state now (``shutdown()`` replaces it, so never keep a reference)."""
    return _state


# --------------------------------------------------------------------------------------------
# What threads hand over


def forget_stopped_servers() -> bool:
    """Drop the server handles whose stop (in the server's own thread) is complete; True when
    one was dropped."""
    still = [handle for handle in _state.stopping if not handle.stopped]
    changed = len(still) != len(_state.stopping)
    _state.stopping = still
    return changed


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
    gone = isinstance(service, RemoteService) and service.gone  # its last view changes no more
    batch = service.batch if service is not None and not gone else None
    if batch is not None and (batch.running or batch.revision != _state.seen_revision):
        return RUNNING_INTERVAL
    if _state.redraw_pending or _queue_moves():
        return RUNNING_INTERVAL
    if _state.stopping or _state.binaries.pending:
        return STOPPING_INTERVAL
    if _state.server is not None and _state.server.running:  # a batch may arrive over HTTP
        return IDLE_INTERVAL
    if isinstance(service, RemoteService) and not service.gone:  # attached: the same
        return IDLE_INTERVAL
    return None


def _queue_moves() -> bool:
    """A queue that will start its next batch by itself (the pump must see it start)."""
    queue = _state.queue
    return queue is not None and bool(queue.entries) and not queue.held


def _pump_once() -> None:
    if not bpy.data.window_managers:
        return
    wm = bpy.data.window_managers[0]
    urgent = forget_stopped_servers()  # the panels say "stopped" now
    urgent = _state.binaries.take_finished() or urgent  # "checking..." has an answer
    service = _state.service
    attached = _attached_to(service)
    preferences = urgent or attached != _state.seen_attached   # what the Preferences window shows
    _state.seen_attached = attached
    now = time.monotonic()
    if now - _state.queue_read >= QUEUE_READ_INTERVAL:  # before the batch: see sweep_copies
        before = _state.queue
        if refresh_queue():
            if _only_times_moved(before, _state.queue):   # estimates refine as frames render
                _state.redraw_pending = True
            else:
                urgent = True
    batch = service.batch if service is not None else None
    if batch is not None and _show(batch, run_state(wm)):
        _state.redraw_pending = True
        milestones = _state.mirror.milestones
        if milestones != _state.seen_milestones:  # a status changed: a batch may have ended
            urgent = True
            refresh_queue()
            sweep_copies()
        _state.seen_milestones = milestones
    progress_due = _state.redraw_pending and now - _state.last_redraw >= PROGRESS_REDRAW_INTERVAL
    if urgent or preferences or progress_due:
        # a batch's progress and milestones: the sidebar only (the Preferences window shows
        # the server, the Blenders and the farm, not the batch)
        ui_refresh.tag_sidebars(wm, preferences=preferences)
        _state.redraw_pending = False
        _state.last_redraw = now


def _attached_to(service: Any) -> str | None:
    """The server this Blender is attached to, as the Preferences window says it."""
    return service.attached_to if isinstance(service, RemoteService) and not service.gone else None


def _show(batch: Batch | RemoteBatch, run: Any) -> bool:
    """Hand the batch's view to run_io when its revision moved; True when something was written."""
    if batch is not _state.shown_batch or len(run.jobs) != len(batch.recipe.jobs):
        launch = _launch_of(batch)
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


def _launch_of(batch: Batch | RemoteBatch) -> Any:
    """What the add-on knows of ``batch`` when the panel started or queued it (a queued one
    that has started becomes ``state().launch``); None for a batch posted over HTTP."""
    launch = _state.launch
    if launch is not None and (launch.batch is batch or launch.started_as(batch)):
        launch.batch = batch  # the same batch again (continued, resumed): the same rows
        return launch
    for queue_id, queued in list(_state.queued_launches.items()):
        if queued.started_as(batch):
            del _state.queued_launches[queue_id]
            queued.batch = batch
            _state.launch, _state.followed_job = queued, None
            return queued
    return None


def _only_times_moved(before: Any, after: Any) -> bool:
    """The same queue (batches, order, hold) whose estimates moved: progress, not a milestone."""
    if before is None or after is None:
        return False
    return before.held == after.held and \
        [entry.id for entry in before.entries] == [entry.id for entry in after.entries]


def refresh_queue() -> bool:
    """Read the service's queue for the panels (they never ask the service themselves); True
    when it changed."""
    service = _state.service
    _state.queue_read = time.monotonic()
    queue = service.queue_view() if service is not None else None
    changed = queue != _state.queue
    _state.queue = queue
    if queue is not None:  # forget the launches of batches dropped from the queue elsewhere
        queued = {entry.id for entry in queue.entries}
        for queue_id in [key for key in _state.queued_launches if key not in queued]:
            launch = _state.queued_launches[queue_id]
            batch = service.batch if service is not None else None
            if batch is None or not launch.started_as(batch):
                del _state.queued_launches[queue_id]
    return changed


def sweep_copies(also_keep: set[str] | frozenset[str] = frozenset()) -> list[Any]:
    """Remove the saved copies of the batches that ended (``blend_copies``): the current batch
    keeps its copy while it may render again (PAUSED, resumable, or with FAILED or CANCELLED
    jobs to retry: ``blend_copies.may_render_again``), a queued one until it leaves the queue.
    The queue is read before the batch: a hand-over in between then keeps both. ``also_keep``:
    copies kept this once (at start, the last stored batch's, while it can be retried)."""
    service = _state.service
    if isinstance(service, RemoteService):   # the server's batches: their copies are its own
        return []
    queue = _state.queue
    queued_ids = [entry.id for entry in queue.entries] if queue is not None else []
    batch = service.batch if service is not None else None
    folder = user_dir("copies", create=False)
    keep = set(_state.copies_of_others) | set(also_keep)  # another Render+ (a server) renders it
    if batch is not None and blend_copies.may_render_again(batch.view()):
        keep |= blend_copies.copies_in(batch.recipe, folder)
    try:
        return list(blend_copies.sweep(folder, keep=keep, queued_ids=queued_ids))
    except OSError as exc:  # a folder that cannot be read: try again at the next batch's end
        print(f"Render+: could not clean the saved copies in {folder}: {exc}", file=sys.stderr)
        return []


def _follow_running_job(batch: Batch | RemoteBatch, view: BatchView) -> None:
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


def shutdown(*, suspended: bool = False) -> None:
    """Stop the server and any running batch, and wait for their threads (add-on disabled:
    no thread may outlive the classes it could call back into). A quit pauses the batch first
    (``quit_lifecycle``, ``suspended``): its service is left as it left it (a batch waiting for
    its start time stays waiting)."""
    global _state
    state, _state = _state, AddonState()
    for handle in [state.server, *state.stopping]:
        if handle is None:
            continue
        try:
            handle.stop()
        except Exception as exc:  # never let a failing stop keep the add-on half-registered
            print(f"Render+: stopping the batch server failed: {exc}", file=sys.stderr)
    if state.service is not None and not suspended:
        state.service.shutdown(timeout=SHUTDOWN_TIMEOUT)
    state.binaries.shutdown(timeout=SHUTDOWN_TIMEOUT)
    # The engine forks every child from one long-lived thread; a disabled add-on ends it (a
    # later spawn starts a new one), else each disable/enable cycle would leave one behind.
    spawner.shutdown()


def register() -> None:
    bpy.app.handlers.load_post.append(_on_load_post)


def unregister() -> None:
    shutdown()
    if _on_load_post in bpy.app.handlers.load_post:
        bpy.app.handlers.load_post.remove(_on_load_post)
    if bpy.app.timers.is_registered(pump):
        bpy.app.timers.unregister(pump)
