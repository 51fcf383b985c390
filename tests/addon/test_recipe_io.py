"""recipe_io without Blender: override values keep their JSON types through the text field, and
engine ids map to the (choice, typed id) pair of the properties and back."""

from __future__ import annotations

import pytest

from renderplus.addon import recipe_io


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
