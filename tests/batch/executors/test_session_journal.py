"""A ``restore`` session sets back what a job changed, from the list in ``Journal.keep_job``.

That list is a copy of every Blender property a job's settings may set (the command line's
options as the session applies them, and job_overrides.py's ``apply_*``): a recipe key that
starts changing one more property must add it there, or the next job of the session inherits
it. The scripts run in Blender's own Python, so this reads their source: every attribute they
assign must be one ``keep_job`` keeps.
"""

from __future__ import annotations

import ast
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[3] / "renderplus" / "blender_scripts"
# Functions that apply a job's settings to its scene (file -> function names; "Class.method").
APPLIERS = {
    "job_overrides.py": ("apply_names", "apply_render_settings", "render_runs"),
    "session.py": ("Session.render_job", "Session.cli_options", "render_cli_frames"),
}
# Not the scene's: Cycles' preferences (gpu_prefs_undo() sets them back after every job) and
# the session's own state.
NOT_THE_SCENE = {"prefs", "device", "self"}


def owner(node: ast.expr) -> str:
    """``render`` for ``scene.render`` or ``render``: the last name of the object assigned to."""
    return node.attr if isinstance(node, ast.Attribute) else ast.unparse(node)


def functions(path: Path, names: tuple[str, ...]) -> list[ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, ast.FunctionDef] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = node
        elif isinstance(node, ast.ClassDef):
            found.update((f"{node.name}.{item.name}", item) for item in node.body
                         if isinstance(item, ast.FunctionDef))
    return [found[name] for name in names]


def assigned() -> set[tuple[str, str]]:
    """(owner, property) of every attribute the appliers assign."""
    pairs: set[tuple[str, str]] = set()
    for file, names in APPLIERS.items():
        for function in functions(SCRIPTS / file, names):
            for node in ast.walk(function):
                if not isinstance(node, ast.Assign):
                    continue
                for target in node.targets:
                    items = target.elts if isinstance(target, ast.Tuple) else [target]
                    pairs.update((owner(item.value), item.attr) for item in items
                                 if isinstance(item, ast.Attribute))
    return {(who, name) for who, name in pairs if who not in NOT_THE_SCENE}


def kept() -> set[tuple[str, str]]:
    """(owner, property) of every ``self.keep(owner, name)`` in ``Journal.keep_job``."""
    (keep_job,) = functions(SCRIPTS / "session.py", ("Journal.keep_job",))
    loops = {id(node.body[0]): node for node in ast.walk(keep_job) if isinstance(node, ast.For)}
    pairs: set[tuple[str, str]] = set()
    for node in ast.walk(keep_job):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "keep"):
            continue
        who, name = node.args[0], node.args[1]
        if isinstance(name, ast.Constant):
            pairs.add((owner(who), str(name.value)))
            continue
        loop = next(loop for loop in loops.values() if any(sub is node for sub in ast.walk(loop)))
        assert isinstance(loop.iter, ast.Tuple), ast.unparse(loop)
        pairs.update((owner(who), str(item.value)) for item in loop.iter.elts
                     if isinstance(item, ast.Constant))
    return pairs


def test_the_journal_keeps_every_property_a_job_sets() -> None:
    missing = assigned() - kept()
    assert not missing, f"Journal.keep_job does not set these back after a job: {sorted(missing)}"


def test_the_source_reader_sees_the_appliers() -> None:
    found = assigned()
    assert {("scene", "camera"), ("render", "border_max_y"), ("image_settings", "file_format"),
            ("cycles", "device"), ("layer", "use"), ("scene", "frame_step")} <= found
    assert ("render", "engine") in kept() and ("cycles", "samples") in kept()
