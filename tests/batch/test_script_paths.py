"""The scripts Blender runs are named in one place, and each name is a file that exists."""

from __future__ import annotations

import ast
from pathlib import Path

from renderplus.batch import script_paths

BATCH = Path(script_paths.__file__).resolve().parent


def test_every_named_script_exists_in_the_scripts_folder() -> None:
    named = [value for name, value in vars(script_paths).items() if name.isupper() and name != "SCRIPTS_DIR"]
    assert len(named) == 8
    for path in named:
        assert path.parent == script_paths.SCRIPTS_DIR and path.is_file(), path


def test_no_other_engine_module_spells_the_scripts_folder() -> None:
    spelled = []
    for path in sorted(BATCH.rglob("*.py")):
        if path.name == "script_paths.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        spelled += [f"{path.relative_to(BATCH)}:{node.lineno}" for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and node.value == "blender_scripts"]
    assert spelled == []
