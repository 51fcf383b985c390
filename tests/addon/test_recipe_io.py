"""recipe_io without Blender: override values keep their JSON types through the text field,
engine ids map to the (choice, typed id) pair of the properties and back, and a recipe file's
relative paths resolve as the CLI resolves them."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path
from typing import Any

import pytest

from renderplus.addon import recipe_io
from renderplus.batch.recipe import recipe_base_dir
from renderplus.cli import common as cli_common


@pytest.mark.parametrize("text", ["24", "true", "[1, 2.5]", "plain words", '"24"', "null", "{}", " 3 "])
def test_override_values_read_back_as_they_were_written(text: str) -> None:
    value = recipe_io.value_from_text(text)
    assert recipe_io.value_from_text(recipe_io.text_from_value(value)) == value


def test_override_values_get_their_json_types() -> None:
    assert recipe_io.value_from_text("24") == 24 and recipe_io.value_from_text("false") is False
    assert recipe_io.value_from_text("[1, 2]") == [1, 2]
    assert recipe_io.value_from_text('"24"') == "24" and recipe_io.value_from_text("null") == "null"
    assert recipe_io.text_from_value("24") == '"24"'  # a number-looking text stays text


def test_engine_choices_round_trip() -> None:
    for engine in ("", "CYCLES", "BLENDER_EEVEE_NEXT", "LUXCORE"):
        assert recipe_io.engine_id(*recipe_io.engine_choice(engine)) == engine
    assert recipe_io.engine_choice("LUXCORE") == ("OTHER", "LUXCORE")


def test_a_symlinked_recipe_resolves_against_its_real_folder_in_the_addon_and_the_cli(tmp_path: Path) -> None:
    project = tmp_path / "project"
    elsewhere = tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    recipe_file = project / "shots.json"
    recipe_file.write_text(json.dumps({"version": 2.2, "jobs": [{"blend_file": "shots.blend"}]}))
    link = elsewhere / "linked.json"
    link.symlink_to(recipe_file)

    from_addon = recipe_io.load_recipe_file(str(link))
    from_cli = cli_common.load_recipe_file(str(link))
    assert from_addon.base_dir == from_cli.base_dir == recipe_base_dir(str(link))
    assert from_addon.resolve("shots.blend") == str(project.resolve() / "shots.blend")
    assert from_cli.resolve("shots.blend") == from_addon.resolve("shots.blend")


def test_a_recipes_window_and_start_time_fill_the_panels_fields() -> None:
    from types import SimpleNamespace

    from renderplus.batch.recipe import parse_recipe

    def imported(extra: dict[str, Any], now: float = 0.0) -> tuple[Any, list[str]]:
        settings: Any = SimpleNamespace(use_window=True, window_start="", window_end="",
                                   use_start_at=True, start_at="")
        recipe = parse_recipe({"version": 2.2, "jobs": [{"blend_file": "/a.blend"}], **extra})
        return settings, recipe_io.apply_schedule(recipe, settings, now)

    settings, notes = imported({"settings": {"window": {"start": "22:30", "end": "6:00"}},
                                "start_at": "21:00"})
    assert (settings.use_window, settings.window_start, settings.window_end) == (True, "22:30", "06:00")
    assert (settings.use_start_at, settings.start_at, notes) == (True, "21:00", [])
    settings, notes = imported({})
    assert not settings.use_window and not settings.use_start_at and notes == []
    moment = 2_000_000_000.0
    settings, notes = imported({"start_at": moment}, now=moment - 60)
    assert settings.use_start_at and settings.start_at == time.strftime("%H:%M", time.localtime(moment))
    assert "imported as the next" in notes[0]
    settings, notes = imported({"start_at": moment}, now=moment + 60)
    assert not settings.use_start_at and "has passed" in notes[0]


def test_after_jobs_field_reads_as_the_recipes_after_and_back() -> None:
    assert recipe_io.after_ids("") == [] and recipe_io.after_ids(" 0, 2 3,") == [0, 2, 3]
    assert recipe_io.after_ids("1, x, -2, ²") == [1, "x", "-2", "²"]   # the validator names them
    assert recipe_io.after_text([0, 2]) == "0, 2"


def test_after_jobs_keep_naming_the_same_jobs_when_the_list_changes() -> None:
    def removed(index: int) -> Any:
        return lambda n: None if n == index else n - 1 if n > index else n
    assert recipe_io.renumbered_after("0, 2, 3", removed(2)) == "0, 2"
    assert recipe_io.renumbered_after("1, 0", lambda n: 1 - n if n < 2 else n) == "0, 1"   # swapped
    assert recipe_io.renumbered_after("4, what", lambda n: n + 1) == "5, what"


def test_the_session_choices_are_the_ones_recipe_io_maps() -> None:
    """props_batch.py imports bpy, so its session items are read from its source."""
    tree = ast.parse((Path(recipe_io.__file__).parent / "props_batch.py").read_text(encoding="utf-8"))
    (names,) = [node.value for node in tree.body if isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Tuple)
                and all(isinstance(t, ast.Name) and t.id.startswith("SESSION_")
                        for t in node.targets[0].elts)]
    assert isinstance(names, ast.Tuple)
    assert sorted(ast.literal_eval(names)) == sorted(recipe_io.SESSION_REUSE)


def test_batch_options_are_written_only_when_they_differ_from_the_engines_defaults() -> None:
    from types import SimpleNamespace

    def options(**changed: Any) -> Any:
        return SimpleNamespace(**{"skip_existing": False, "retries": 1, "parallel_auto": False,
                                  "parallel": 1, "session_reuse": "AUTO", **changed})

    assert recipe_io.batch_options_dict(options()) == {}
    assert recipe_io.batch_options_dict(options(retries=0, parallel=4, session_reuse="PER_JOB")) == {
        "retries": 0, "parallel": 4, "session_reuse": False}
    assert recipe_io.batch_options_dict(options(parallel_auto=True, parallel=4)) == {"parallel": "auto"}
