"""Property-based tests: mutated recipes give a Recipe or a RecipeError, never another exception.

Bounded for the suite (RENDERPLUS_FUZZ_EXAMPLES, default 60 per test, the file in well under
20 s); a longer run: ``RENDERPLUS_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest
tests/batch/recipe/test_recipe_props.py -q``.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderplus.batch.recipe import Recipe, RecipeError, parse_recipe

from .recipe_samples import SAMPLE

EXAMPLES = int(os.environ.get("RENDERPLUS_FUZZ_EXAMPLES", "60"))
LONG_RUN = "RENDERPLUS_FUZZ_EXAMPLES" in os.environ
# The suite's run is the same every time and writes nothing; a long run explores at random.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not LONG_RUN, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _with_extensions() -> dict[str, Any]:
    data = copy.deepcopy(SAMPLE)
    data["jobs"].append({"id": 1, "blend_file": "b.blend", "frames": "1-10,20,30-40x2", "skip_existing": True,
                         "blender_bin": "/opt/blender", "custom_overrides": [
                             {"path": 'objects["Cube"].hide_render', "value": True},
                             {"path": "render.fps", "value": 24}]})
    data["settings"].update(retries=2, parallel="auto", session_reuse=None, farm_chunk=5)
    data["hooks"]["PRE_BATCH"] = [{"enabled": True, "cmd": "echo hi"}]
    return data


BASES = [SAMPLE, _with_extensions(), {"version": 2.2, "jobs": [{"blend_file": "a.blend"}]}]

weird_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "", " ", "1-", "..", "-5..-1", "1-10x0", "auto", "2.2",
                     "CYCLES", "cuda+cpu", "PNG", "render.fps", "__class__", "x" * 600]),
)
huge_numbers = st.one_of(
    st.integers(min_value=-(10**500), max_value=10**500),
    st.sampled_from([10**309, -(10**309), 2**63, -1, 0, 1, 1_048_575]),
    st.floats(allow_nan=False, allow_infinity=False),
)
leaves = st.one_of(st.none(), st.booleans(), huge_numbers, weird_text)
json_values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths_of(value, (*prefix, index))
    return found


@st.composite
def mutated_recipes(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = paths_of(data)
        path = draw(st.sampled_from(paths))
        if not path:
            if draw(st.booleans()):
                data = draw(json_values)
            continue
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            key = draw(st.sampled_from(["frame_strat", "frames", "x", "retries", "\ud800"]))
            parent[key] = draw(json_values)
        else:
            parent[path[-1]] = draw(json_values)
    return data


def check_parse(source: Any) -> None:
    try:
        recipe = parse_recipe(source)
    except RecipeError as exc:
        assert exc.errors
        for issue in exc.errors:
            str(issue).encode("utf-8")  # printable on any terminal, sendable as JSON
        return
    assert isinstance(recipe, Recipe)
    for warning in recipe.warnings:
        str(warning).encode("utf-8")
    first = recipe.to_dict()
    text = json.dumps(first)  # strict JSON out: no NaN, no unpaired surrogates left
    assert parse_recipe(text).to_dict() == first


@FUZZ
@given(mutated_recipes())
def test_mutated_dicts_parse_or_raise_recipe_error(data: Any) -> None:
    check_parse(data)


@FUZZ
@given(mutated_recipes())
def test_mutated_json_text_parses_or_raises_recipe_error(data: Any) -> None:
    try:
        text = json.dumps(data)
    except ValueError:
        return
    check_parse(text)
    check_parse(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.binary(max_size=200) | st.text(alphabet='{}[]",:0123456789.-eE\\u truefalsn', max_size=200))
def test_arbitrary_bytes_and_json_like_text(source: bytes | str) -> None:
    check_parse(source)


@FUZZ
@given(st.integers(min_value=1, max_value=5000), st.sampled_from(["[", '{"a":', '["\\"', '{"[":']))
def test_any_nesting_depth(depth: int, opener: str) -> None:
    check_parse('{"version": 2.2, "jobs": [], "x": ' + opener * depth)
