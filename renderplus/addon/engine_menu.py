"""The job's engine menu: the engines of the Blender that will render, by stable numbers.

EEVEE is ``BLENDER_EEVEE_NEXT`` only in 4.2-4.5, so the menu offers what the rendering Blender
said it has (``binary_info``), or, while that is still being asked, what the running Blender
has. Blender stores an enum's *number* in the .blend: every engine keeps the number it had in
the former fixed list, so files saved before read the same choice. A job that holds an engine
the rendering Blender lacks keeps it (the menu shows it, marked), and the check before Render
names the problem. No ``bpy`` here: the property's callback is in ``engine_items``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..batch.parser.engines import eevee_id

if TYPE_CHECKING:
    from .binary_info import BinaryInfo

ENGINE_FROM_FILE = "FILE"  # keeps what the .blend says
ENGINE_OTHER = "OTHER"     # a third-party engine, by the id the user types
KNOWN_ENGINES = ("CYCLES", "BLENDER_EEVEE", "BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH")
EngineItem = tuple[str, str, str, int]  # identifier, name, description, number

ENGINE_NUMBERS = {ENGINE_FROM_FILE: 0, "CYCLES": 1, "BLENDER_EEVEE": 2, "BLENDER_EEVEE_NEXT": 3,
                  "BLENDER_WORKBENCH": 4, ENGINE_OTHER: 5}
ENGINE_NAMES = {
    ENGINE_FROM_FILE: ("From File", "Render with the engine saved in the scene"),
    "CYCLES": ("Cycles", "Cycles path tracer"),
    "BLENDER_EEVEE": ("EEVEE", "EEVEE (its id in Blender 2.80-4.1 and 5.0+)"),
    "BLENDER_EEVEE_NEXT": ("EEVEE Next", "EEVEE in Blender 4.2-4.5"),
    "BLENDER_WORKBENCH": ("Workbench", "Workbench"),
    ENGINE_OTHER: ("Other", "Another render engine, by its id"),
}
BUILT_IN = ("BLENDER_WORKBENCH",)  # besides EEVEE, in every Blender; Cycles is an add-on


def running_engines(version: tuple[int, int], registered: Iterable[str]) -> tuple[str, ...]:
    """The running Blender's engines: EEVEE under this version's id, Workbench, and the
    engines Python registered (Cycles is one: it can be turned off)."""
    return (eevee_id(version), *BUILT_IN, *(name for name in registered if name))


def offered_engines(info: BinaryInfo | None,
                    running: tuple[tuple[str, ...], str]) -> tuple[tuple[str, ...], str]:
    """The engines the menu offers and whose they are ("Blender 4.3.2"): the rendering
    Blender's answer, or ``running`` (the running Blender's) while it is being asked (None),
    when it cannot render, or when it would not list its engines."""
    if info is None or info.problem or not info.engines:
        return running
    return info.engines, f"Blender {info.version}" if info.version else "the rendering Blender"


def menu_items(engines: Sequence[str], where: str, held: str | None = None) -> list[EngineItem]:
    """The menu for a job: From File, the known engines of ``engines`` (the order of the
    former list), ``held`` (the job's engine) when the Blender lacks it, then Other, whose
    description names the Blender's further engines (``where``: "Blender 4.3.2")."""
    items = [_item(ENGINE_FROM_FILE)]
    items += [_item(engine) for engine in KNOWN_ENGINES if engine in engines]
    if held in KNOWN_ENGINES and held not in engines:
        name, _ = ENGINE_NAMES[held]
        items.append((held, f"{name} (not in {where})", f"{where} has no {name}: the check before "
                      f"Render names the engine to use instead", ENGINE_NUMBERS[held]))
    others = [engine for engine in engines if engine not in KNOWN_ENGINES]
    name, description = ENGINE_NAMES[ENGINE_OTHER]
    if others:
        description += f" ({where} also has {', '.join(others)})"
    items.append((ENGINE_OTHER, name, description, ENGINE_NUMBERS[ENGINE_OTHER]))
    return items


def held_engine(number: int | None) -> str | None:
    """The engine a job's stored number names (None: the property was never set)."""
    if number is None:
        return None
    return next((engine for engine, n in ENGINE_NUMBERS.items() if n == number), None)


def _item(engine: str) -> EngineItem:
    name, description = ENGINE_NAMES[engine]
    return engine, name, description, ENGINE_NUMBERS[engine]


def stored_values(group: Any) -> Any:
    """Where Blender keeps a PropertyGroup's values (5.0 moved them out of ``group[...]``);
    None when nothing is stored yet."""
    getter = getattr(group, "bl_system_properties_get", None)
    return getter() if getter is not None else group


def store_engine(job: Any, engine: str) -> None:
    """Set a job's engine even where the menu does not offer it now (an imported recipe, a
    copied job): its number is written as Blender stores it, the menu then shows it marked."""
    try:
        job.engine = engine
    except TypeError:
        store_number(job, "engine", ENGINE_NUMBERS[engine])


def store_number(group: Any, key: str, number: int) -> None:
    """Write an enum property's number as Blender stores it, past its items callback."""
    getter = getattr(group, "bl_system_properties_get", None)
    values = getter(do_create=True) if getter is not None else group
    values[key] = number
