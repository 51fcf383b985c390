"""The add-on's "Render on" preference: this machine, a Slurm partition or a Flamenco Manager.

It is a preference of the add-on's batch slot, as ``--farm`` is the standalone server's: the
slot's ``BatchService`` gets the ``FarmChoice``'s executor factory (each batch started from then
on, from the panel or over HTTP through the add-on's server, renders on the farm) and its farm
status (``/test``'s ``farm``). A choice that cannot work (no shared storage folder, a folder
that does not exist, an address that is not a Manager's) is kept as a sentence: the preferences
and the panel show it in red, Render refuses with it, and meanwhile the slot renders on this
machine and ``/test`` says why the farm is not used.
"""

from __future__ import annotations

import os
from typing import Any

import bpy

from ..batch.executors.farm.choice import FLAMENCO, LOCAL, SLURM, FarmChoice, FarmChoiceError
from ..batch.service import BatchService
from . import bridge
from .text_fit import LineWidth
from .ui_run import draw_wrapped

RENDER_ON = (
    (LOCAL, "This Machine", "Render every job here, with the Blender chosen below"),
    (SLURM, "Slurm", "Submit each job to a Slurm cluster as an array job of frame chunks "
     "(its command-line tools must work on this machine)"),
    (FLAMENCO, "Flamenco Manager", "Submit each job to a Flamenco Manager (Render+'s job type "
     "installed beside it)"),
)
_NAMES = {key: name for key, name, _ in RENDER_ON}


def choice_of(prefs: Any) -> tuple[FarmChoice, str]:
    """The preference as a ``FarmChoice`` and "", or this machine and the sentence that says why
    the farm chosen cannot be used."""
    where = prefs.render_on if prefs is not None else LOCAL
    if where == LOCAL:
        return FarmChoice(), ""
    storage = os.path.expanduser(bpy.path.abspath(prefs.farm_storage.strip()))
    try:
        choice = FarmChoice(where, partition=prefs.farm_partition.strip() or None,
                            url=prefs.farm_url.strip(), storage=storage.rstrip("/") or storage,
                            blender=prefs.farm_blender.strip() or None)
    except FarmChoiceError as exc:
        return FarmChoice(), f"Render on {_NAMES[where]}: {exc}"
    if not os.path.isdir(choice.storage):
        return FarmChoice(), (f"Render on {_NAMES[where]}: the shared storage folder "
                              f"{choice.storage} does not exist")
    return choice, ""


def hand_over(prefs: Any) -> None:
    """The preference changed (or the add-on started): batches started from now on render where
    it says; a running batch keeps its executor."""
    state = bridge.state()
    state.farm, state.farm_problem = choice_of(prefs)
    state.farm_wanted = prefs.render_on if prefs is not None else LOCAL
    apply(state.service)


def apply(service: object) -> None:
    """Give the add-on's own batch slot the chosen farm (a slot of another server, attached to,
    renders where that server was told)."""
    if not isinstance(service, BatchService):
        return
    state = bridge.state()
    choice, problem, wanted = state.farm, state.farm_problem, state.farm_wanted
    service.executor_factory = choice.executor_factory()
    if problem:   # /test's farm keys, saying why the farm chosen is not used
        service.farm_status = lambda: {"engine": wanted, "answers": False, "detail": problem,
                                       "queues": [], "renderplus_type": None, "assets": {}, "ok": False}
    else:
        service.farm_status = choice.status if choice.on_farm else None


def problem() -> str:
    """Why the chosen farm cannot be used ("" when it can, or when this machine renders)."""
    return str(bridge.state().farm_problem)


def where() -> str:
    """Where the add-on's batches render, in words."""
    return bridge.state().farm.describe()


def draw_preferences(layout: bpy.types.UILayout, prefs: Any) -> None:
    """The "Render on" box of the preferences: the choice, its fields, and what it gives."""
    box = layout.box()
    box.row().prop(prefs, "render_on", expand=True)
    if prefs.render_on == SLURM:
        box.prop(prefs, "farm_partition")
    if prefs.render_on == FLAMENCO:
        box.prop(prefs, "farm_url")
    if prefs.render_on != LOCAL:
        box.prop(prefs, "farm_storage")
    if prefs.render_on == SLURM:
        box.prop(prefs, "farm_blender")
    draw_where(box)


def draw_where(layout: bpy.types.UILayout, width: int | LineWidth = 60) -> None:
    """Under Render: the farm the batch goes to, or in red why it cannot (nothing while this
    machine renders); ``width``: the room for a line (``ui_run.wrap_width``, or characters)."""
    state = bridge.state()
    if state.farm_problem:
        col = layout.column()
        col.alert = True
        draw_wrapped(col, state.farm_problem, width, icon="ERROR")
    elif state.farm.on_farm:
        draw_wrapped(layout, f"Renders on {state.farm.describe()}", width, icon="NETWORK_DRIVE")
