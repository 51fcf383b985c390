"""The queue and the pause from the add-on's side: queue a batch behind the running or paused
one, move, drop, hold and continue queued batches, pause and continue the batch, and move or
skip the running batch's queued jobs (docs/api.md, The queue and Pause).

Runs in Blender's main thread, like ``batch_lifecycle``: each action calls the service (which
guards its own state), then asks the bridge's pump to show the result; the panels only read
what the pump wrote (``bridge.state().queue``), never the service itself. A refusal of the
service becomes a ``BridgeError`` whose sentence the operator reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..batch.recipe import Recipe
from ..batch.service import ServiceError
from . import bridge
from .addon_state import Launch
from .batch_lifecycle import get_service, set_default_blender
from .bridge import BridgeError

PAUSE_WHEN = ("now", "frame", "job")  # the engine's order: each waits less than the next


def _ask(name: str, *args: Any) -> Any:
    """Call the service's ``name`` (docs/api.md, The queue and Pause); its refusal becomes a
    sentence for the panel; the pump shows the outcome at its next tick."""
    method = getattr(get_service(), name)
    try:
        result = method(*args)
    except ServiceError as exc:
        raise BridgeError(str(exc)) from exc
    bridge.refresh_queue()
    bridge.ensure_pump()
    return result


# --------------------------------------------------------------------------------------------
# Queued batches


def enqueue_batch(recipe: Recipe, *, scene: str, uids: Sequence[int], copy_path: str,
                  blender_bin: str | None) -> Any:
    """Queue ``recipe`` behind the running or paused batch; returns its ``QueueEntry``. When
    it starts, the pump links its rows to the scene's jobs (``uids``) through its copy."""
    set_default_blender(blender_bin)
    entry = _ask("enqueue", recipe)
    bridge.state().queued_launches[entry.id] = Launch(None, scene, list(uids), copy_path)
    return entry


def move_queued(queue_id: int, position: int) -> None:
    _ask("move_queued", queue_id, max(position, 0))


def drop_queued(queue_id: int) -> None:
    _ask("drop_queued", queue_id)
    bridge.state().queued_launches.pop(queue_id, None)
    bridge.sweep_copies()  # its copy goes at once


def hold_queue() -> None:
    _ask("hold_queue")


def continue_queue() -> None:
    _ask("continue_queue")


# --------------------------------------------------------------------------------------------
# The batch: pause, continue, its queued jobs


def pause_batch(when: str) -> None:
    if when not in PAUSE_WHEN:
        raise BridgeError(f"Pause when? One of {', '.join(PAUSE_WHEN)}, not {when!r}")
    _ask("pause", when)


def continue_paused() -> None:
    """A PAUSED batch goes on where it stopped (only what is missing renders)."""
    _ask("resume")


def move_job(job_id: int, position: int) -> None:
    """Move a queued job of the batch to ``position`` among its queued jobs (0: next)."""
    _ask("move_job", job_id, max(position, 0))


def set_job_enabled(job_id: int, enabled: bool) -> None:
    """Skip a queued job of the batch (``False``), or take a skipped one back (``True``)."""
    _ask("set_job_enabled", job_id, enabled)
