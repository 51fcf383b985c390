"""Architecture rules: the engine, what runs around it, the server and the CLI never import bpy
so they run in any Python, with no Blender. Ruff's TID251 ban (pyproject.toml) says the same at lint time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE_PACKAGES = [ROOT / "renderplus" / "batch", ROOT / "renderplus" / "around",
                 ROOT / "renderplus" / "server", ROOT / "renderplus" / "cli"]
PURE_FILES = sorted(p for pkg in PURE_PACKAGES for p in pkg.rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", PURE_FILES, ids=[str(p.relative_to(ROOT)) for p in PURE_FILES])
def test_pure_modules_do_not_import_bpy(path: Path) -> None:
    assert not imported_modules(path) & {"bpy", "bgl", "gpu", "mathutils", "bmesh"}


def test_pure_packages_import_where_bpy_cannot() -> None:
    modules = sorted({".".join(p.relative_to(ROOT).with_suffix("").parts)
                      for p in PURE_FILES if p.name not in ("__main__.py",)})
    code = ("import sys; sys.modules['bpy'] = None\n"
            + "".join(f"import {m}\n" for m in modules if not m.endswith("__init__"))
            + "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
