"""The job's Engine property's items: the engines of the Blender that will render.

Blender calls ``job_engine_items`` whenever the menu is drawn or the value is read, so it never
waits: the rendering Blender's engines come from ``bridge.binary_info`` (asked in a thread;
the pump redraws when the answer comes), and until then, or when that Blender cannot say, the
running Blender's. Blender keeps only pointers into the returned list's strings, so every
list handed out stays referenced here (one per distinct menu: a handful).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import bpy

from .engine_menu import (
    EngineItem,
    held_engine,
    menu_items,
    offered_engines,
    running_engines,
    stored_values,
)

if TYPE_CHECKING:
    from .binary_info import BinaryInfo

_MENUS: dict[tuple[tuple[str, ...], str, str | None], list[EngineItem]] = {}
_rendering_blender: Callable[[], BinaryInfo | None] | None = None


def this_blender() -> tuple[tuple[str, ...], str]:
    """The running Blender's engines and its name ("Blender 5.0.1")."""
    registered = [getattr(cls, "bl_idname", "") for cls in _subclasses(bpy.types.RenderEngine)
                  if getattr(cls, "is_registered", False)]
    major, minor = bpy.app.version[:2]
    return running_engines((major, minor), registered), f"Blender {bpy.app.version_string}"


def ask_rendering_blender(answer: Callable[[], BinaryInfo | None] | None) -> None:
    """Who says what the rendering Blender has (``batch_lifecycle.rendering_binary_info``,
    handed over by ``register``: it imports ``props``, which imports this module); None: none."""
    global _rendering_blender
    _rendering_blender = answer


def rendering_engines() -> tuple[tuple[str, ...], str]:
    """The engines of the Blender the add-on's batches render with, and its name; the running
    Blender's while that one is being asked, or when it cannot list them."""
    answer = _rendering_blender
    return offered_engines(answer() if answer is not None else None, this_blender())


def job_engine_items(job: Any, context: Any) -> list[EngineItem]:
    """``RenderPlusJob.engine``'s items (Blender's ``EnumProperty`` callback)."""
    try:
        engines, where = rendering_engines()
    except Exception:   # never an empty menu: the running Blender's engines
        engines, where = this_blender()
    values = stored_values(job)
    held = held_engine(values.get("engine") if values is not None else None)
    key = (engines, where, held)
    items = _MENUS.get(key)
    if items is None:
        items = _MENUS[key] = menu_items(engines, where, held)
    return items


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    todo: list[type] = list(cls.__subclasses__())
    while todo:
        sub = todo.pop()
        found.append(sub)
        todo.extend(sub.__subclasses__())
    return found
