"""override_paths, the one set of rules by which the job script applies a custom override and the
add-on's check before Render judges it, on stand-ins for Blender's data: each bad part named,
the name meant suggested, a value of the wrong kind said as the setting's kind."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from renderplus.batch.recipe.datapath import split_data_path
from renderplus.blender_scripts import override_paths


class Properties(list[Any]):
    """``bl_rna.properties``: iterable, and subscripted by identifier."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            found = next((p for p in self if p.identifier == key), None)
            if found is None:
                raise KeyError(key)
            return found
        return super().__getitem__(key)


def prop(identifier: str, kind: str, *, length: int = 0, dimensions: tuple[int, ...] = (0, 0, 0),
         readonly: bool = False, flag: bool = False) -> SimpleNamespace:
    return SimpleNamespace(identifier=identifier, type=kind, array_length=length,
                           array_dimensions=dimensions if length else (0, 0, 0), is_array=bool(length),
                           is_readonly=readonly, is_enum_flag=flag)


class Struct:
    """An RNA struct stand-in: its settings as attributes, described by ``bl_rna``."""

    def __init__(self, props: list[SimpleNamespace], **values: Any) -> None:
        self.bl_rna = SimpleNamespace(properties=Properties([prop("rna_type", "POINTER"), *props]))
        self.__dict__.update(values)


class Items(dict[str, Any]):
    """A bpy_prop_collection stand-in: subscripted by name or index, ``keys()``."""

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


class bpy_prop_collection(Items):
    """Named as Blender's own type: the rules refuse to replace an item of one."""


def make_world() -> tuple[Struct, SimpleNamespace]:
    render = Struct([prop("fps", "INT"), prop("fps_base", "FLOAT"), prop("use_border", "BOOLEAN"),
                     prop("engine", "ENUM"), prop("filepath", "STRING")],
                    fps=24, fps_base=1.0, use_border=False, engine="CYCLES", filepath="//out/")
    cube = Struct([prop("hide_render", "BOOLEAN"), prop("location", "FLOAT", length=3),
                   prop("matrix_world", "FLOAT", length=16, dimensions=(4, 4, 0)),
                   prop("type", "ENUM", readonly=True), prop("data", "POINTER")],
                  hide_render=False, location=[0.0, 0.0, 0.0], matrix_world=[0.0] * 16, type="MESH",
                  data=None)
    layers = bpy_prop_collection({"ViewLayer": Struct([prop("use", "BOOLEAN")], use=True)})
    scene = Struct([prop("render", "POINTER"), prop("view_layers", "COLLECTION"), prop("world", "POINTER"),
                    prop("frame_start", "INT")],
                   render=render, view_layers=layers, world=None, frame_start=1)
    data = SimpleNamespace(objects=bpy_prop_collection({"Cube": cube}))
    return scene, data


def judged(path: str, value: Any, **kwargs: Any) -> str | None:
    scene, data = make_world()
    steps = split_data_path(path)
    assert steps is not None
    return override_paths.problem(scene, data, path, steps, value, **kwargs)


@pytest.mark.parametrize(("path", "value"), [
    ("render.fps", 12), ("render.fps", True), ("render.fps_base", 1), ("render.fps_base", 1.001),
    ("render.use_border", 1), ("render.engine", "BLENDER_EEVEE"), ("render.filepath", "/tmp/x"),
    ('data.objects["Cube"].location', [1, 2, 3]), ('bpy.data.objects["Cube"].hide_render', True),
    ('view_layers["ViewLayer"].use', False), ("view_layers[0].use", False), ("scene.frame_start", 3),
    ('bpy.context.scene.render.fps', 30), ('data.objects["Cube"].location[2]', 1.0),
    ('data.objects["Cube"]["custom"]', 3),  # a custom property is made when it is not there
])
def test_a_path_that_leads_to_a_setting_taking_the_value_passes(path: str, value: Any) -> None:
    assert judged(path, value) is None


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("render.fpz", 12, "override 'render.fpz': the scene's render has no 'fpz' (did you mean 'fps'?)"),
    ("rendr.fps", 12, "override 'rendr.fps': the scene has no 'rendr' (did you mean 'render'?)"),
    ('data.objects["Cbe"].hide_render', True,
     """override 'data.objects["Cbe"].hide_render': bpy.data.objects has no 'Cbe' (did you mean 'Cube'?)"""),
    ('data.objects["Lamp"].hide_render', True,
     """override 'data.objects["Lamp"].hide_render': bpy.data.objects has no 'Lamp' (there are: 'Cube')"""),
    ("view_layers[2].use", True,
     "override 'view_layers[2].use': the scene's view_layers has no item [2] (it has 1)"),
    ("world.color", [1, 1, 1], "override 'world.color': the scene's world is not set (None)"),
    ('render["x"].y', 1,
     """override 'render["x"].y': the scene's render is not a collection: it has no ['x']"""),
    ('data.objects["Cube"]', 1,
     """override 'data.objects["Cube"]': bpy.data.objects["Cube"] is an item of a list, not a """
     "setting: name one of its settings after it"),
    ('data.objects["Cube"].location[3]', 1.0,
     """override 'data.objects["Cube"].location[3]': bpy.data.objects["Cube"].location has no """
     "item [3] (it has 3)"),
])
def test_the_part_that_leads_nowhere_is_named(path: str, value: Any, expected: str) -> None:
    assert judged(path, value) == expected


@pytest.mark.parametrize(("path", "value", "expected"), [
    ("render.fps", "24", "override 'render.fps' = '24': fps takes a whole number (a value in quotes is "
                         "text: write it without them)"),
    ("render.use_border", "true", "use_border takes true or false (a value in quotes is text"),
    ("render.fps", 2.5, "override 'render.fps' = 2.5: fps takes a whole number"),
    ("render.fps", "", "override 'render.fps' = '': fps takes a whole number (the value is empty)"),
    ("render.use_border", 2, "override 'render.use_border' = 2: use_border takes true or false"),
    ("render.filepath", 24, "override 'render.filepath' = 24: filepath takes text (to give text that looks "
                            'like a number, put it in quotes: "24")'),
    ("render.engine", 3, "override 'render.engine' = 3: engine takes one of its options' names as text"),
    ("render.fps", [1, 2], "override 'render.fps' = [1, 2]: fps takes a whole number, not a list"),
    ('data.objects["Cube"].location', [1, 2],
     """override 'data.objects["Cube"].location' = [1, 2]: location takes a list of 3 (a number each)"""),
    ('data.objects["Cube"].location', [1, "a", 2],
     """override 'data.objects["Cube"].location' = [1, 'a', 2]: location takes a number in each """
     "place, not 'a'"),
    ('data.objects["Cube"].matrix_world', [0] * 16, "matrix_world takes 4 x 4 numbers, which an override's "
                                                   "flat list cannot give"),
    ('data.objects["Cube"].type', "EMPTY", "type is read-only"),
    ('data.objects["Cube"].data', "Mesh", "data holds a data-block, which an override cannot replace"),
    ("view_layers", 1, "view_layers is a list, which an override cannot replace"),
])
def test_a_value_of_the_wrong_kind_is_said_as_the_settings_kind(path: str, value: Any, expected: str) -> None:
    found = judged(path, value)
    assert found is not None and expected in found, found


def test_for_another_blender_only_the_files_data_is_judged() -> None:
    """Setting names and kinds differ between Blender versions; objects and items do not."""
    assert judged("render.fpz", 12, settings=False) is None
    assert judged("render.fps", "abc", settings=False) is None
    assert judged('data.objects["Cbe"].hide_render', True, settings=False) is not None


def test_the_job_scripts_roots_are_the_checks() -> None:
    scene, data = make_world()
    for path, root, rest in [("render.fps", scene, 2), ("data.objects", data, 1),
                             ("bpy.data.objects", data, 1), ("scene.render.fps", scene, 2),
                             ("bpy.context.scene.render", scene, 1)]:
        steps = split_data_path(path)
        assert steps is not None
        found, _label, left = override_paths.start(scene, data, steps)
        assert found is root and len(left) == rest, path


def test_text_that_is_no_number_gets_no_hint_about_quotes() -> None:
    assert judged("render.fps", "abc") == "override 'render.fps' = 'abc': fps takes a whole number"
