"""Where a custom override's data path leads, and why it cannot be set, said in words.

One set of rules for two places: the job script applies overrides with them inside the rendering
Blender, and the add-on's check before Render resolves each override against the open file with
the very same functions, so the check refuses what the job would fail on and names the bad part
("render has no 'fpz' (did you mean 'fps'?)", "fps takes a whole number"). A path is a list of
steps (``batch/recipe/datapath.py``: ``("attr", "render")``, ``("key", "Cube")``,
``("index", 0)``); nothing is evaluated, each step is one getattr or one subscript.

No bpy import: the caller hands in the scene and ``bpy.data``, and a setting's kind is read from
its RNA description (``bl_rna.properties``) when the object has one. Runs in Render+'s Python
and in Blender's own (2.80 to 5.x, Python 3.7): standard library only.
"""

from __future__ import annotations

import difflib
import json
from typing import Any, Sequence

Step = Sequence[Any]  # ("attr", name) | ("key", "Cube") | ("index", 0), a tuple or a JSON list
LISTED = 8  # names a message lists when none is close


class OverrideProblem(Exception):
    """An override that cannot be applied: ``str()`` is the sentence, without the path.
    ``setting``: a setting's name is unknown (Blender's settings differ between versions; the
    file's data, its objects and custom properties, do not)."""

    def __init__(self, message: str, setting: bool = False) -> None:
        super().__init__(message)
        self.setting = setting


def start(scene: Any, data: Any, steps: Sequence[Step]) -> tuple[Any, str, list[Step]]:
    """The object a path starts at, its name in messages and the steps left. Paths start at
    the scene; ``data.`` (or ``bpy.data.``) starts at ``bpy.data``, and a leading ``scene.`` or
    ``bpy.context.scene.`` is allowed."""
    steps = list(steps)
    words = [value for kind, value in steps[:3] if kind == "attr"]
    if words[:2] == ["bpy", "data"] and len(steps) > 2:
        return data, "bpy.data", steps[2:]
    if words[:1] == ["data"] and len(steps) > 1:
        return data, "bpy.data", steps[1:]
    if words[:3] == ["bpy", "context", "scene"] and len(steps) > 3:
        return scene, "the scene", steps[3:]
    if words[:1] == ["scene"] and len(steps) > 1:
        return scene, "the scene", steps[1:]
    return scene, "the scene", steps


def step_text(kind: str, value: Any) -> str:
    """A step as a path writes it: ``.render``, ``["Cube"]``, ``[0]``."""
    if kind == "attr":
        return "." + str(value)
    return "[" + (str(value) if kind == "index" else '"' + str(value) + '"') + "]"


def where(root: str, walked: Sequence[Step]) -> str:
    """The object reached so far, named for a message: ``the scene``, ``the scene's render``,
    ``bpy.data.objects["Cube"]``."""
    text = "".join(step_text(kind, value) for kind, value in walked)
    if not text:
        return root
    if root == "the scene":
        return "the scene's " + text.lstrip(".")
    return root + text


def walk(root: Any, label: str, steps: Sequence[Step]) -> Any:
    """The object that holds the path's last step (all steps but the last followed), or
    ``OverrideProblem`` naming the first step that leads nowhere."""
    target = root
    for number, (kind, value) in enumerate(steps[:-1]):
        place = where(label, steps[:number])
        if target is None:
            raise OverrideProblem(f"{place} is not set (None)")
        try:
            target = target[value] if kind != "attr" else getattr(target, value)
        except (AttributeError, KeyError, IndexError, TypeError):
            raise OverrideProblem(missing(target, place, kind, value), kind == "attr") from None
    if target is None and steps[:-1]:
        raise OverrideProblem(f"{where(label, steps[:-1])} is not set (None)")
    return target


def missing(target: Any, place: str, kind: str, value: Any) -> str:
    """Why ``target`` has no step ``value``, with the name meant when one is close."""
    if kind == "attr":
        return f"{place} has no {value!r}{_hint(str(value), setting_names(target))}"
    keys = _keys(target)
    if kind == "index":
        if keys is None and _length(target) is None:
            return f"{place} is not a list: it has no [{value}]"
        count = _length(target)
        size = f" (it has {count})" if count is not None else ""
        return f"{place} has no item [{value}]{size}"
    if keys is None:
        return f"{place} is not a collection: it has no [{str(value)!r}]"
    return f"{place} has no {str(value)!r}{_hint(str(value), keys, listing=True)}"


def setting_names(target: Any) -> list[str]:
    """The settings an object has: its RNA properties, else its public attributes."""
    rna = getattr(target, "bl_rna", None)
    properties = getattr(rna, "properties", None)
    if properties is not None:
        try:
            return [p.identifier for p in properties if p.identifier != "rna_type"]
        except (AttributeError, TypeError):
            pass
    return [name for name in dir(target) if not name.startswith("_")]


def _keys(target: Any) -> list[str] | None:
    keys = getattr(target, "keys", None)
    if not callable(keys):
        return None
    try:
        return [str(key) for key in keys()]
    except (TypeError, AttributeError):
        return None


def _length(target: Any) -> int | None:
    try:
        return len(target)
    except TypeError:
        return None


def _hint(name: str, names: Sequence[str], listing: bool = False) -> str:
    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if listing:
        shown = ", ".join(repr(n) for n in list(names)[:LISTED])
        more = ", ..." if len(names) > LISTED else ""
        return f" (there are: {shown}{more})" if shown else " (there are none)"
    return ""


def locate(root: Any, label: str, steps: Sequence[Step]) -> Any:
    """The object whose last step the path sets, once that step is known to be there: a
    setting that exists, an index inside its list, not a whole item of a collection (Blender
    refuses to replace one). ``OverrideProblem`` names the part that is wrong."""
    target = walk(root, label, steps)
    kind, last = steps[-1]
    place = where(label, steps[:-1])
    if target is None:
        raise OverrideProblem(f"{place} is not set (None)")
    if kind == "attr":
        if not hasattr(target, last):
            raise OverrideProblem(missing(target, place, kind, last), setting=True)
    elif type(target).__name__.startswith("bpy_prop_collection"):
        raise OverrideProblem(f"{place}{step_text(kind, last)} is an item of a list, not a "
                              "setting: name one of its settings after it")
    elif kind == "index":
        count = _length(target)
        if count is not None and not -count <= int(last) < count:
            raise OverrideProblem(missing(target, place, kind, last))
    return target


_KINDS = {"BOOLEAN": "true or false", "INT": "a whole number", "FLOAT": "a number",
          "STRING": "text", "ENUM": "one of its options' names as text"}


def value_problem(target: Any, name: str, value: Any) -> str | None:
    """Whether RNA setting ``name`` of ``target`` takes ``value`` as Blender's Python would
    (a list is given as a tuple); None when it does or when the object has no RNA description."""
    rna = getattr(target, "bl_rna", None)
    try:
        prop = rna.properties[name] if rna is not None else None
    except (KeyError, TypeError, AttributeError):
        prop = None
    if prop is None:
        return None
    kind = getattr(prop, "type", "")
    if getattr(prop, "is_readonly", False):
        return f"{name} is read-only"
    if kind == "POINTER":
        return f"{name} holds a data-block, which an override cannot replace: set one of its settings"
    if kind == "COLLECTION":
        return f"{name} is a list, which an override cannot replace: set one of its items' settings"
    if kind == "ENUM" and getattr(prop, "is_enum_flag", False):
        return f"{name} takes a set of options, which an override cannot give"
    if getattr(prop, "is_array", False) or getattr(prop, "array_length", 0):
        return _array_problem(prop, name, kind, value)
    if isinstance(value, (list, tuple)):
        return f"{name} takes {_KINDS.get(kind, 'one value')}, not a list"
    if _fits(kind, value):
        return None
    return f"{name} takes {_KINDS.get(kind, 'another kind of value')}{_hint_for(kind, value)}"


def _array_problem(prop: Any, name: str, kind: str, value: Any) -> str | None:
    """A fixed-length array takes a list of exactly its length, each item of its kind."""
    dimensions = [d for d in getattr(prop, "array_dimensions", ()) if d]
    length = int(getattr(prop, "array_length", 0) or 0)
    kinds = _KINDS.get(kind, "values")
    if not length:
        return None  # an array whose length changes: Blender judges it
    if len(dimensions) > 1:
        return (f"{name} takes {' x '.join(str(d) for d in dimensions)} numbers, which an "
                "override's flat list cannot give")
    if not isinstance(value, (list, tuple)) or len(value) != length:
        return f"{name} takes a list of {length} ({kinds} each)"
    bad = next((item for item in value if not _fits(kind, item)), None)
    return None if bad is None else f"{name} takes {kinds} in each place, not {bad!r}"


def _hint_for(kind: str, value: Any) -> str:
    """What to write instead: the add-on reads a value as JSON, so quotes make text."""
    if value == "":
        return " (the value is empty)"
    if kind in ("INT", "FLOAT", "BOOLEAN") and isinstance(value, str) and _reads_as_data(value):
        return " (a value in quotes is text: write it without them)"
    if kind == "STRING" and not isinstance(value, str):
        return ' (to give text that looks like a number, put it in quotes: "24")'
    return ""


def _reads_as_data(text: str) -> bool:
    """``"24"`` or ``"true"``: text that would be a number or a boolean without its quotes."""
    try:
        return not isinstance(json.loads(text), (str, list, dict, type(None)))
    except ValueError:
        return False


def _fits(kind: str, value: Any) -> bool:
    """Blender's own conversions: an int takes True/False too, a bool 0 and 1, a float any number."""
    if kind == "BOOLEAN":
        return isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))
    if kind == "INT":
        return isinstance(value, int)
    if kind == "FLOAT":
        return isinstance(value, (int, float))
    if kind in ("STRING", "ENUM"):
        return isinstance(value, str)
    return True


def problem(scene: Any, data: Any, path: str, steps: Sequence[Step], value: Any,
            settings: bool = True) -> str | None:
    """Why setting ``path`` (split into ``steps``; from the scene, or ``bpy.data``) to ``value``
    would fail, as a sentence ("override 'render.fpz': the scene's render has no 'fpz' (did you
    mean 'fps'?)"), or None: what the add-on's check asks of the open file. ``settings=False``
    judges the file's data only (objects, items, custom properties), not settings' names and
    kinds: for a Blender of another version, whose settings may differ from this one's."""
    if not steps:
        return f"override {path!r}: the path is empty"
    root, label, rest = start(scene, data, steps)
    try:
        target = locate(root, label, rest)
    except OverrideProblem as exc:
        return f"override {path!r}: {exc}" if settings or not exc.setting else None
    kind, last = rest[-1]
    if isinstance(value, list):
        value = tuple(value)
    why = value_problem(target, str(last), value) if kind == "attr" and settings else None
    return f"override {path!r} = {shown(value)}: {why}" if why else None


def shown(value: Any) -> str:
    """A value as the recipe gives it: a list in brackets, text in quotes."""
    return repr(list(value)) if isinstance(value, tuple) else repr(value)
