"""The job's engine menu without Blender: the rendering Blender's answer (a fake BinaryInfo)
becomes the menu's items, the running Blender's engines stand in while it is being asked, and
every engine keeps the number the former fixed list gave it (saved files keep their choice)."""

from __future__ import annotations

from renderplus.addon import engine_menu, recipe_io
from renderplus.addon.binary_info import BinaryInfo

RUNNING_50 = (engine_menu.running_engines((5, 0), ["CYCLES"]), "Blender 5.0.1")


def ids(items: list[engine_menu.EngineItem]) -> list[str]:
    return [item[0] for item in items]


def test_the_running_blenders_engines_follow_its_version() -> None:
    assert engine_menu.running_engines((4, 2), ["CYCLES", ""]) == (
        "BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH", "CYCLES")
    assert engine_menu.running_engines((5, 0), []) == ("BLENDER_EEVEE", "BLENDER_WORKBENCH")
    assert engine_menu.running_engines((3, 4), ["CYCLES"])[0] == "BLENDER_EEVEE"


def test_the_binarys_answer_is_what_the_menu_offers() -> None:
    blender_43 = BinaryInfo("/opt/4.3/blender", version="4.3.2",
                            engines=("BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH", "CYCLES"))
    engines, where = engine_menu.offered_engines(blender_43, RUNNING_50)
    assert where == "Blender 4.3.2"
    assert ids(engine_menu.menu_items(engines, where)) == [
        "FILE", "CYCLES", "BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH", "OTHER"]
    blender_34 = BinaryInfo("/usr/bin/blender", version="3.4.1",
                            engines=("BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES", "LUXCORE"))
    items = engine_menu.menu_items(*engine_menu.offered_engines(blender_34, RUNNING_50))
    assert ids(items) == ["FILE", "CYCLES", "BLENDER_EEVEE", "BLENDER_WORKBENCH", "OTHER"]
    assert "Blender 3.4.1 also has LUXCORE" in items[-1][2]   # Other names what it has besides


def test_while_asked_or_when_it_cannot_say_the_running_blender_stands_in() -> None:
    assert engine_menu.offered_engines(None, RUNNING_50) == RUNNING_50
    broken = BinaryInfo("/nowhere/blender", problem="no such file")
    assert engine_menu.offered_engines(broken, RUNNING_50) == RUNNING_50
    silent = BinaryInfo("/opt/blender", version="4.3.2", engines=None)
    assert engine_menu.offered_engines(silent, RUNNING_50) == RUNNING_50


def test_a_jobs_engine_the_blender_lacks_stays_offered_and_marked() -> None:
    items = engine_menu.menu_items(*RUNNING_50, held="BLENDER_EEVEE_NEXT")
    assert ids(items) == ["FILE", "CYCLES", "BLENDER_EEVEE", "BLENDER_WORKBENCH",
                          "BLENDER_EEVEE_NEXT", "OTHER"]
    assert items[4][1] == "EEVEE Next (not in Blender 5.0.1)" and items[4][3] == 3
    assert engine_menu.held_engine(3) == "BLENDER_EEVEE_NEXT" and engine_menu.held_engine(None) is None
    assert ids(engine_menu.menu_items(*RUNNING_50, held="CYCLES")) == ids(engine_menu.menu_items(*RUNNING_50))


def test_numbers_are_the_former_lists_and_the_names_are_recipe_ios() -> None:
    """The fixed list offered FILE, CYCLES, EEVEE, EEVEE Next, Workbench, Other: a saved
    file stores that position, so each engine keeps it."""
    assert list(engine_menu.ENGINE_NUMBERS.items()) == [
        ("FILE", 0), ("CYCLES", 1), ("BLENDER_EEVEE", 2), ("BLENDER_EEVEE_NEXT", 3),
        ("BLENDER_WORKBENCH", 4), ("OTHER", 5)]
    everything = engine_menu.menu_items(recipe_io.KNOWN_ENGINES, "Blender")
    assert [(item[0], item[3]) for item in everything] == list(engine_menu.ENGINE_NUMBERS.items())
    assert set(engine_menu.ENGINE_NAMES) == set(engine_menu.ENGINE_NUMBERS)
