"""The lifecycle of the add-on's batches: the one batch slot (shared with the server), which
Blender renders, starting, cancelling and resuming a batch, and the batch a quit or crash cut
short.

Runs in Blender's main thread; what it starts goes into ``bridge.state()`` and ``bridge``'s pump
shows it. A batch keeps the ``RunOptions`` it started with (they are frozen). The Blender
preference only replaces the service's options, which later batches take, HTTP-started ones
included.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bpy

from ..batch.options import AUTO, RunOptions, choose_blender
from ..batch.paths import state_dir
from ..batch.recipe import Recipe
from ..batch.runner import Batch, stored_recipe
from ..batch.service import BatchService, ServiceError, open_store
from ..batch.store.relocate import move_store
from ..batch.view import BatchView
from . import blend_copies, bridge, farm_choice
from .addon_state import Launch, make_service
from .binary_info import BinaryInfo
from .bridge import BridgeError
from .paths import check_resolver, user_dir
from .props import ensure_uids
from .remote_batch import RemoteBatch
from .remote_service import RemoteService
from .run_io import link_by_names
from .server_finder import other_server

Service = BatchService | RemoteService


def get_service() -> Service:
    """The add-on's one batch slot, shared with its server; while another Render+ server of
    this user runs, that server's (``attach``), else one of its own. A server that ended is
    left here: the next action makes this Blender's own slot."""
    state = bridge.state()
    if isinstance(state.service, RemoteService) and state.service.gone:
        detach()
    if state.service is None:
        state.service = attach()
    if state.service is None:
        folder = state_folder()
        state.service = make_service(default_blender=state.default_blender,
                                     log_dir=folder / "log", work_dir=folder,
                                     store=_open_store(folder), continue_queue=state.continue_queue,
                                     blenders=state.blender_candidates)
        farm_choice.apply(state.service)
    return state.service


def attach() -> RemoteService | None:
    """The slot of another Render+ server of this user that runs now (handed a batch when a
    Blender quit, or started from a terminal): this Blender shows and drives its batch and
    queue instead of opening the store and a port of its own. None when there is none, or
    while this Blender serves itself."""
    state = bridge.state()
    if state.server is not None:
        return None
    record = other_server()
    if record is None:
        return None
    options = RunOptions(blender_bin=state.default_blender, blenders=state.blender_candidates)
    try:
        service = RemoteService(record, options)
    except ServiceError as exc:   # it ended meanwhile: this Blender serves itself
        print(f"Render+: {exc}", file=sys.stderr)
        return None
    print(f"Render+: {service.attached_to}", file=sys.stderr)
    bridge.ensure_pump()
    return service


def detach() -> None:
    """Forget the server this Blender was attached to (it ended)."""
    state = bridge.state()
    service, state.service = state.service, None
    if service is not None:
        service.shutdown()


def attached_to() -> str | None:
    """"Attached to the Render+ server at URL (pid N)" while attached, else None."""
    service = bridge.state().service
    return service.attached_to if isinstance(service, RemoteService) and not service.gone else None


def state_folder() -> Path:
    """Render+'s one per-user state folder (the store, logs, uploads), the server's and the
    CLI's too, so ``--history`` and ``--resume`` in a terminal see the panel's batches and a
    batch handed over when Blender quits is found; a store an earlier add-on kept in Blender's
    user folder moves there once (``store.relocate``)."""
    folder = state_dir()
    moved = move_store(user_dir("state", create=False), folder)
    if moved.sentence:
        print(f"Render+: {moved.sentence}", file=sys.stderr)
    return folder


def set_continue_queue(enabled: bool) -> None:
    """The preference "Continue the queue when Blender starts": read when the service is made
    (a queue the last Blender left waits, held, unless it is on)."""
    bridge.state().continue_queue = enabled


def _open_store(folder: Path) -> Any:
    """The durable batch store, so a batch that Blender's quit or crash cut short can be resumed
    when Blender is reopened; None (said once) when it cannot be opened."""
    store, why = open_store(folder)
    if store is None:
        print(f"Render+: batches cannot be resumed after a crash: {why}", file=sys.stderr)
    return store


# --------------------------------------------------------------------------------------------
# The Blender that renders


def set_default_blender(blender_bin: str | None) -> None:
    """The Blender that batches started from now on use when their recipe names none (the
    preference changed): the service gets new frozen options; a running batch keeps its own."""
    state = bridge.state()
    state.default_blender = blender_bin or None
    service = state.service
    if service is not None and service.options.blender_bin != state.default_blender:
        service.set_options(service.options.with_changes(blender_bin=state.default_blender))
    if not bpy.app.background:  # ask the new binary now, so Render need not wait for it
        bridge.binary_info(rendering_binary())


def set_blender_candidates(paths: tuple[str, ...]) -> None:
    """The Blenders "auto" chooses from (this Blender first, then the preference's list): the
    service's options for the batches started from now on."""
    state = bridge.state()
    state.blender_candidates = paths
    service = state.service
    if service is not None and service.options.blenders != paths:
        service.set_options(service.options.with_changes(blenders=paths))


def rendering_binary() -> str:
    """The Blender that jobs of the add-on's batches render with (the recipe names none)."""
    return addon_blender(bridge.state().default_blender)


def rendering_binary_info() -> BinaryInfo | None:
    """What the rendering Blender said it has (None while a thread asks it): the engine menu's
    engines and the check before Render."""
    return bridge.binary_info(rendering_binary())


def addon_blender(default: str | None) -> str:
    """The Blender the add-on's own checks ask for ``default``: for "auto", this Blender (the
    jobs of the open file render a copy it saved, so "auto" gives them this one; nothing is
    looked up on the main thread), else ``choose_blender``'s answer."""
    if default == AUTO:
        return bpy.app.binary_path or (bridge.state().blender_candidates[:1] or ("blender",))[0]
    return choose_blender(None, default)


def check_arguments(scene: Any, binary: BinaryInfo | None, abspath: Any = None) -> dict[str, Any]:
    """What ``job_checks`` needs, for jobs of ``scene``: the file's data, what the rendering
    ``binary`` said (None while it is being asked), how paths resolve (default: as this file's)
    and the version the copy is saved with."""
    major, minor = bpy.app.version[:2]
    return {"data": bpy.data, "default_scene": scene, "abspath": abspath or check_resolver(),
            "binary": binary, "file_version": major * 100 + minor}


# --------------------------------------------------------------------------------------------
# Start, cancel


def batch_running() -> bool:
    service = bridge.state().service
    return service is not None and service.running


def batch_paused() -> bool:
    """The current batch is PAUSED: no Blender runs, it waits for Continue (or Cancel)."""
    service = bridge.state().service
    return service is not None and service.paused


def batch_busy() -> bool:
    """A batch runs or is paused: Render queues the next one instead of starting it."""
    return batch_running() or batch_paused()


def start_batch(recipe: Recipe, *, scene: str, uids: Sequence[int], copy_path: str,
                blender_bin: str | None) -> Batch | RemoteBatch:
    """Start ``recipe`` with ``blender_bin`` as its default Blender (frozen into the batch's
    options right before it starts); ``uids`` maps its jobs to the scene's jobs."""
    service = get_service()
    set_default_blender(blender_bin)
    try:
        service.load_recipe(recipe)
        batch = service.start()
    except ServiceError as exc:
        raise BridgeError(str(exc)) from exc
    state = bridge.state()
    state.launch = Launch(batch, scene, list(uids), copy_path, recipe)
    state.followed_job = None
    state.interrupted = None
    bridge.ensure_pump()
    return batch


def cancel_batch() -> None:
    _cancel(current_job_only=False)


def cancel_current_job() -> None:
    _cancel(current_job_only=True)


def _cancel(*, current_job_only: bool) -> None:
    service = bridge.state().service
    if service is None:
        raise BridgeError("Not running a batch right now")
    try:
        service.cancel_current_job() if current_job_only else service.cancel()
    except ServiceError as exc:
        raise BridgeError(str(exc)) from exc


def shows_batch() -> bool:
    """The run state is a batch's of this session. (The window manager's run state is saved
    in the .blend: after a restart it still says how a batch ended, with no jobs or times.)"""
    return bridge.state().shown_batch is not None


def job_state_index(scene_name: str, uid: int) -> int | None:
    """Index in ``renderplus_run.jobs`` of the scene job ``uid`` in the shown batch, if any."""
    return bridge.state().mirror.index_of(scene_name, uid)


# --------------------------------------------------------------------------------------------
# The interrupted batch


def refresh_interrupted() -> BatchView | None:
    """Look for a batch that a quit or crash cut short (the durable store's); the panel offers
    to resume it."""
    service = get_service()
    view, owned = None, None
    if not batch_busy():
        try:
            view = service.interrupted_view()
            owned = None if view is not None else service.owned_elsewhere()
        except Exception as exc:  # a broken store must not keep the add-on from loading
            print(f"Render+: could not read the interrupted batch: {exc}", file=sys.stderr)
    state = bridge.state()
    state.interrupted, state.owned_elsewhere = view, owned or ""
    state.copies_of_others = _copies_rendered_elsewhere(service) if owned else set()
    return view


def _copies_rendered_elsewhere(service: Service) -> set[str]:
    """The saved copies the store's last batch renders while another Render+ runs it (a server
    that took it over): the sweep must leave them, though this Blender made them."""
    try:
        stored = service.store.latest() if service.store is not None else None
        recipe = stored_recipe(stored) if stored is not None else None
    except Exception as exc:  # a broken store or recipe: nothing known to keep
        print(f"Render+: could not read the last batch's recipe: {exc}", file=sys.stderr)
        return set()
    return blend_copies.copies_in(recipe, user_dir("copies", create=False)) if recipe else set()


def _copies_to_retry(service: Service) -> set[str]:
    """The copies of the store's last batch when it ended with FAILED or CANCELLED jobs: ``GET
    /batch/resume`` renders those from them after a restart too (a newer batch's start sweeps
    them)."""
    try:
        stored = service.store.latest() if service.store is not None else None
        if stored is None or not any(job.status in blend_copies.RETRYABLE for job in stored.jobs):
            return set()
        recipe = stored_recipe(stored)
    except Exception as exc:  # a broken store or recipe: nothing known to keep
        print(f"Render+: could not read the last batch's recipe: {exc}", file=sys.stderr)
        return set()
    return blend_copies.copies_in(recipe, user_dir("copies", create=False))


def owned_elsewhere() -> str:
    """Who else runs the store's last batch (found last; no store access on a draw)."""
    return "" if batch_busy() else bridge.state().owned_elsewhere


def show_last_batch() -> None:
    """At start, with no batch to resume: show how the store's last batch ended (one a server
    finished after Blender quit, handing it over), so the panel has its results and times."""
    if bridge.state().interrupted is not None or bridge.state().owned_elsewhere:
        return
    try:
        shown = get_service().show_last_ended()
    except Exception as exc:  # a broken store must not keep the add-on from loading
        print(f"Render+: could not read the last batch: {exc}", file=sys.stderr)
        return
    if shown is not None:
        bridge.ensure_pump()


def interrupted_batch() -> BatchView | None:
    """The interrupted batch found last (no store access: the panels call this on every draw)."""
    return None if batch_busy() else bridge.state().interrupted


def clean_left_over_copies() -> None:
    """At start: remove the saved copies of batches that ended (or that a quit left behind and
    are not resumable), keeping those of the interrupted, paused and queued ones."""
    service = get_service()
    bridge.refresh_queue()
    if isinstance(service, RemoteService):   # the copies belong to the server's batches
        return
    removed = bridge.sweep_copies(also_keep=_copies_to_retry(service))
    if removed:
        print(f"Render+: removed {len(removed)} saved copy(ies) of ended batches", file=sys.stderr)


def can_resume() -> bool:
    return get_service().store is not None


def resume_batch(scene: Any = None) -> Batch | RemoteBatch:
    """Resume the interrupted batch: only its missing frames render again. With ``scene``, its
    jobs that carry the batch's job names show the resumed batch's states (status, times, why
    one failed, its frames), as they did for the batch the panel started."""
    try:
        batch = get_service().resume()
    except ServiceError as exc:
        refresh_interrupted()   # owned by another Render+: the panel says by whom, no Resume
        raise BridgeError(str(exc)) from exc
    state = bridge.state()
    state.interrupted, state.owned_elsewhere = None, ""
    state.copies_of_others = set()  # this Blender runs that batch now
    state.launch = _resumed_launch(batch, scene)
    bridge.ensure_pump()
    return batch


def _resumed_launch(batch: Batch | RemoteBatch, scene: Any) -> Launch | None:
    """What links a resumed batch's jobs to ``scene``'s jobs (by name); None without a match."""
    settings = getattr(scene, "renderplus", None)
    if settings is None:
        return None
    ensure_uids(settings)  # the file may have been saved before the batch gave its jobs uids
    uids = link_by_names([job.name for job in batch.recipe.jobs],
                         [(job.name, job.uid) for job in settings.jobs])
    if not uids:
        return None
    copies = blend_copies.copies_in(batch.recipe, user_dir("copies", create=False))
    copy_path = next(iter(copies)) if len(copies) == 1 else ""
    return Launch(batch, scene.name, uids, copy_path, batch.recipe)
