"""The import contract: which of Render+'s packages may use which. The table below is the rule;
a test reads every module's imports (at any depth of its code, not only the top) and fails on an
arrow the table does not allow. Ruff's TID251 ban (pyproject.toml) keeps ``bpy`` out at lint
time; these tests also prove the pure packages import in a Python where ``bpy`` cannot.

Why these arrows: the engine (``batch``) is the core and knows nobody; what happens around a
batch (``around``: feed, mail, notices, power) and the REST API (``server``) read the engine; the
command line composes the server and ``around``; the add-on composes all of them inside Blender.
``blender_scripts`` run in Blender's own Python (as old as 3.7) from a path, so they import the
standard library and Blender only; the add-on and the server may read their naming rules, and
the engine two of them (``movie_name``: a movie's name, which the encode script decides on a farm
node too, so the script and the engine must share it; ``frame_checks``: whether a written frame
is whole, judged alike by the engine and on a farm node), and ``around`` where a frame's preview
lies (a webhook's thumbnail).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "renderplus"

ALLOWED: dict[str, set[str]] = {
    "": {"addon"},  # the root's register()/unregister() forward to the add-on
    "addon": {"batch", "server", "around", "blender_scripts"},
    "cli": {"server", "batch", "around"},
    "server": {"batch", "blender_scripts"},
    "server/__main__": {"cli"},  # `python3 server`, the documented launcher, runs the CLI
    "around": {"batch"},
    "batch": set(),
    "blender_scripts": set(),
}
ENGINE_READS = {"renderplus.blender_scripts.movie_name",    # the naming rule the engine shares
                "renderplus.blender_scripts.frame_checks"}  # a frame whole: engine and farm alike
AROUND_READS = {"renderplus.blender_scripts.previews"}     # where a frame's preview is (webhook thumbnails)
BLENDER_MODULES = {"bpy", "bgl", "gpu", "mathutils", "bmesh", "addon_utils", "bpy_extras", "idprop"}
# numpy: bundled with blender.org's builds but not Debian's 3.4, so a Blender script may use it
# only when importable, with a standard-library way otherwise (pixel_checks.py).
BLENDER_OPTIONAL = {"numpy"}
# Third-party modules a pure package may import: Bottle (bundled as a wheel inside the add-on) and
# Blender Asset Tracer (the farm's staging of a .blend's dependencies; optional, asked for lazily)
# and zstandard (reads a compressed .blend's version when importable; else the zstd program).
THIRD_PARTY = {"bottle", "blender_asset_tracer", "zstandard"}


def area_of(path: Path) -> str:
    """The contract's name for the package a module belongs to."""
    parts = path.relative_to(PACKAGE).parts
    if len(parts) == 1:
        return ""
    if parts[0] == "server" and parts[-1] == "__main__.py":
        return "server/__main__"
    return parts[0]


def absolute_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, relative imports made absolute (``renderplus.batch...``)."""
    package = ["renderplus", *path.relative_to(PACKAGE).parts[:-1]]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.add(node.module or "")
                continue
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                names.add(".".join([*base, node.module]))
            else:
                names.update(".".join([*base, alias.name]) for alias in node.names)
    return names


def target_area(module: str) -> str | None:
    """The package of ours ``module`` names, or None for a module that is not ours."""
    parts = module.split(".")
    if parts[0] != "renderplus":
        return None
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else ""


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ROOT)) for p in MODULES])
def test_every_import_follows_the_contract(path: Path) -> None:
    area = area_of(path)
    allowed = ALLOWED[area] | {area}
    if area == "server/__main__":
        allowed |= {"server"}
    bad = [module for module in sorted(absolute_imports(path))
           if (target := target_area(module)) is not None and target not in allowed
           and not (area == "batch" and module in ENGINE_READS)
           and not (area == "around" and module in AROUND_READS)]
    assert bad == [], f"{area or 'the root package'} may import only {sorted(ALLOWED[area])} of ours"


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(ROOT)) for p in MODULES])
def test_only_the_add_on_and_blender_scripts_use_blender(path: Path) -> None:
    if area_of(path) in ("addon", "blender_scripts"):
        return
    tops = {module.split(".")[0] for module in absolute_imports(path)}
    assert not tops & BLENDER_MODULES


BLENDER_SCRIPTS = sorted((PACKAGE / "blender_scripts").glob("*.py"))


@pytest.mark.parametrize("path", BLENDER_SCRIPTS, ids=[p.name for p in BLENDER_SCRIPTS])
def test_blender_scripts_need_only_the_standard_library_and_blender(path: Path) -> None:
    siblings = {p.stem for p in BLENDER_SCRIPTS}
    tops = {module.split(".")[0] for module in absolute_imports(path)}
    foreign = (tops - set(sys.stdlib_module_names) - BLENDER_MODULES - BLENDER_OPTIONAL - siblings
               - {"__future__"})
    assert foreign == set()


PURE_AREAS = ("batch", "around", "server", "cli")


def test_pure_packages_use_only_the_standard_library_and_bottle() -> None:
    foreign: dict[str, set[str]] = {}
    for path in MODULES:
        if area_of(path) not in PURE_AREAS:
            continue
        tops = {module.split(".")[0] for module in absolute_imports(path)}
        extra = tops - set(sys.stdlib_module_names) - THIRD_PARTY - {"renderplus", "__future__"}
        if extra:
            foreign[str(path.relative_to(ROOT))] = extra
    assert foreign == {}


def test_pure_packages_import_where_bpy_cannot() -> None:
    modules = sorted({".".join(p.relative_to(ROOT).with_suffix("").parts)
                      for p in MODULES if area_of(p) in PURE_AREAS and p.name != "__main__.py"})
    code = ("import sys; sys.modules['bpy'] = None\n"
            + "".join(f"import {m}\n" for m in modules if not m.endswith("__init__"))
            + "print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
