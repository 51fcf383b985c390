"""The custom-override data-path grammar: names and literal subscripts only."""

from __future__ import annotations

import pytest

from renderplus.batch.recipe import data_path_problem, split_data_path


@pytest.mark.parametrize(("path", "steps"), [
    ("render.fps", [("attr", "render"), ("attr", "fps")]),
    ('objects["Cube"].hide_render', [("attr", "objects"), ("key", "Cube"), ("attr", "hide_render")]),
    ("view_layers[0].use", [("attr", "view_layers"), ("index", 0), ("attr", "use")]),
    ("data.materials['Mat.001'].diffuse_color",
     [("attr", "data"), ("attr", "materials"), ("key", "Mat.001"), ("attr", "diffuse_color")]),
    ("a[-1]", [("attr", "a"), ("index", -1)]),
])
def test_plain_data_paths(path: str, steps: list[tuple[str, str | int]]) -> None:
    assert split_data_path(path) == steps
    assert data_path_problem(path) is None


@pytest.mark.parametrize("path", [
    "", "render.", ".fps", "render..fps", "render.fps()", "a[b]", "a['x]", "a[\"x\\\"]\"]",
    "__class__.mro", "render.__dict__", "a[0", "a b", "a.1b", "é.x", "a + b",
])
def test_refused_data_paths(path: str) -> None:
    assert split_data_path(path) is None
    assert data_path_problem(path) is not None
