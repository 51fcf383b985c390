"""What Blender's quit does to a batch: an interruption, never a cancel.

Blender 5.1 and later call ``bpy.app.handlers.exit_pre`` first. Every version then disables
all add-ons (``addon_utils.disable_all``, run by Blender's exit), so an add-on's ``unregister``
cannot tell a quit from the artist disabling it -- except by who called it: ``quitting()``
looks for that call on the stack. Python's ``atexit`` is the last resort (Blender as a Python
module). None can veto the quit. Each runs ``on_quit()``, which does its work once:

1. the running batch is paused now (``BatchService.suspend``): the frames written stay where
   they are, the store records it PAUSED, no Blender of it is left;
2. with "keep rendering in the background" (the preference, on by default) and a batch left
   paused, waiting for its start time or a queue to go on, a standalone server of this add-on is
   started detached (``handed_over``), which continues them once this Blender has ended;
   otherwise the next Blender (the panel), the dashboard and ``--resume`` offer Resume;
3. then ``bridge.shutdown`` stops the in-process server and the threads, as a disable does.

Disabling the add-on is not a quit: it still cancels the running batch. A Blender attached to
another Render+ server (``remote_service``) leaves that server's batch alone, quit or disable.
"""

from __future__ import annotations

import atexit
import sys
from dataclasses import dataclass
from types import FrameType
from typing import Any

import bpy

from . import bridge
from .remote_service import RemoteService

KEEP, PAUSE = "KEEP", "PAUSE"   # the preference's values
QUIT_CHOICES = (
    (KEEP, "Render On",
     "Keep rendering in the background: a Render+ server of this add-on takes the batch and its "
     "queue over and renders on with Blender closed (the frame in progress renders again)"),
    (PAUSE, "Pause",
     "Pause the batch: the next Blender, the dashboard or --resume continue it, rendering only "
     "the frames that are missing"),
)
SUSPEND_TIMEOUT = 15.0   # seconds a quit waits for the running Blenders to end


@dataclass
class QuitChoice:
    """The preference as the quit reads it (``atexit`` may find bpy's preferences gone)."""

    keep_rendering: bool = True
    port: int | None = None
    no_token: bool = False


_choice = QuitChoice()
_done = [False]


def set_choice(*, keep_rendering: bool, port: int | None, no_token: bool) -> None:
    """The preferences a quit acts on (called when they are applied or change)."""
    _choice.keep_rendering, _choice.port, _choice.no_token = keep_rendering, port, no_token


def on_quit(*_args: Any) -> None:
    """Blender quits: pause the batch (never cancel it), hand it over when asked, then stop."""
    if _done[0]:
        return
    _done[0] = True
    state = bridge.state()
    service = state.service
    if isinstance(service, RemoteService):   # the batch is the server's: it renders on
        bridge.shutdown()
        return
    server = state.server
    held = _queue_held(service)   # read first: the quit holds the queue it stops
    left_paused = False
    if service is not None:
        try:
            left_paused = service.suspend(timeout=SUSPEND_TIMEOUT)
        except Exception as exc:  # a quit goes on whatever happens here
            print(f"Render+: pausing the batch on quit failed: {exc}", file=sys.stderr)
    to_continue = service is not None and _something_to_continue(service, left_paused, held)
    if to_continue and _choice.keep_rendering and not bpy.app.background:
        # before the shutdown: the server waits for this Blender's end and its port anyway
        handed_over(port=server.port if server is not None else _choice.port,
                    token=server.token if server is not None else None, no_token=_choice.no_token,
                    blender=state.default_blender, blenders=state.blender_candidates,
                    continue_queue=not held, farm=state.farm if state.farm.on_farm else None)
    elif left_paused:
        print("Render+: the batch is paused; Resume continues it with only the missing frames",
              file=sys.stderr)
    bridge.shutdown(suspended=service is not None)


def _queue_held(service: Any) -> bool:
    try:
        return service is not None and bool(service.queue_view().held)
    except Exception:
        return False


def _something_to_continue(service: Any, left_paused: bool, held: bool) -> bool:
    """A batch left paused by this quit, one still ending its pause (its Blenders slow to end:
    the server finds it interrupted and resumes it), one waiting for its start time, or a queue
    that goes on (not held)."""
    batch = service.batch
    if left_paused or (batch is not None and batch.running):
        return True
    try:
        queue = service.queue_view()
    except Exception:
        return False
    return bool(queue.entries) and not held


def handed_over(**given: Any) -> None:
    """Start the standalone server that renders on with Blender closed; what it did is said on
    Blender's terminal (a quit has nowhere else to say it)."""
    from .handover_client import start_handover

    try:
        said = start_handover(**given)
    except Exception as exc:  # the batch stays PAUSED: the next Blender offers Resume
        print(f"Render+: the batch could not be handed over, it stays paused: {exc}", file=sys.stderr)
        return
    print(f"Render+: {said}", file=sys.stderr)


def quitting() -> bool:
    """Whether Blender's exit is disabling the add-ons now (not the artist disabling this one):
    ``addon_utils.disable_all`` is on the stack, which Blender calls only from its exit."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "disable_all" and frame.f_globals.get("__name__") == "addon_utils":
            return True
        frame = frame.f_back
    return False


@bpy.app.handlers.persistent
def _on_exit_pre(*_args: Any) -> None:
    on_quit()


def register() -> None:
    _done[0] = False
    atexit.register(on_quit)
    exit_pre = getattr(bpy.app.handlers, "exit_pre", None)   # Blender 5.1 and later
    if exit_pre is not None and _on_exit_pre not in exit_pre:
        exit_pre.append(_on_exit_pre)


def unregister() -> None:
    atexit.unregister(on_quit)
    exit_pre = getattr(bpy.app.handlers, "exit_pre", None)
    if exit_pre is not None and _on_exit_pre in exit_pre:
        exit_pre.remove(_on_exit_pre)
