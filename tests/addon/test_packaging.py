"""Packaging: the manifest and bl_info agree, imports are relative, the add-on's pure parts need
no Blender, and build.py makes a zip that Blender's own validator accepts (and refuses bad ones)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

from tests.addon.helpers import ROOT

ADDON = ROOT / "renderplus"
sys.path.insert(0, str(ROOT))
import build  # noqa: E402  (the repo's build.py)


def manifest() -> dict:
    with (ADDON / "blender_manifest.toml").open("rb") as handle:
        return tomllib.load(handle)


def validator() -> Path:
    found = build.find_validator(None)
    if found is None:
        pytest.skip("Blender's extension validator (the bpy wheel) is not installed")
    return found


def test_manifest_has_what_the_extension_platform_needs() -> None:
    data = manifest()
    assert data["schema_version"] == "1.0.0" and data["id"] == "renderplus" and data["type"] == "add-on"
    assert data["blender_version_min"] == "4.2.0"
    assert data["license"] and data["maintainer"] and 0 < len(data["tagline"]) <= 64
    assert set(data["permissions"]) == {"files", "network"}
    assert all(reason.strip() for reason in data["permissions"].values())
    assert [Path(w).name.split("-")[:2] for w in data["wheels"]] == [
        ["bottle", "0.13.4"], ["blender_asset_tracer", "1.23"]]


def test_bl_info_is_in_step_with_the_manifest_and_the_project() -> None:
    info = build.read_bl_info(ADDON)
    data = manifest()
    assert ".".join(map(str, info["version"])) == data["version"]
    assert info["name"] == data["name"]
    assert info["blender"] <= (3, 4, 0)  # the legacy add-on must load in Debian's 3.4
    with (ROOT / "pyproject.toml").open("rb") as handle:
        assert tomllib.load(handle)["project"]["version"] == data["version"]


def test_imports_inside_the_package_are_relative() -> None:
    offenders = []
    for path in sorted(ADDON.rglob("*.py")):
        if "wheels" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "renderplus"]
    assert offenders == []


def test_the_package_and_the_io_modules_import_without_blender() -> None:
    # Blender 4.2+ imports the package as bl_ext.<repo>.renderplus, plain Python as renderplus:
    # neither the package's __init__ nor the add-on's bpy-free adapters may need bpy at import time.
    modules = ("renderplus", "renderplus.addon", "renderplus.addon.recipe_io", "renderplus.addon.run_io",
               "renderplus.addon.binary_info", "renderplus.addon.image_header", "renderplus.batch.runner")
    code = (f"import sys, {', '.join(modules)}; "
            "print(sorted(m for m in sys.modules if m == 'bpy' or m.startswith('bpy.')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_zip_holds_the_add_on_folder_and_its_wheel(addon_zip: Path) -> None:
    assert addon_zip.name == f"renderplus-{manifest()['version']}.zip"
    names = zipfile.ZipFile(addon_zip).namelist()
    assert all(n.startswith("renderplus/") for n in names)
    for required in ("renderplus/__init__.py", "renderplus/blender_manifest.toml",
                     "renderplus/addon/__init__.py", "renderplus/addon/bridge.py",
                     "renderplus/batch/runner.py", "renderplus/server/__init__.py",
                     "renderplus/wheels/bottle-0.13.4-py2.py3-none-any.whl"):
        assert required in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in n]


@pytest.mark.bpy  # Blender's extension validator ships in the bpy wheel
def test_blenders_validator_accepts_the_zip(addon_zip: Path) -> None:
    proc = subprocess.run([sys.executable, str(validator()), "validate", str(addon_zip)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success" in proc.stdout


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """A copy of the add-on folder (with its fetched wheel) to break on purpose."""
    copy = tmp_path / "renderplus"
    shutil.copytree(ADDON, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def run_build(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "--source", str(source), "--out", str(out),
                           "--validator", str(validator())], capture_output=True, text=True, timeout=300)


@pytest.mark.bpy  # the build runs Blender's validator from the bpy wheel
def test_build_fails_when_blenders_validator_rejects_the_manifest(source_copy: Path, tmp_path: Path) -> None:
    path = source_copy / "blender_manifest.toml"
    text = path.read_text(encoding="utf-8")
    tagline = manifest()["tagline"]
    path.write_text(text.replace(f'"{tagline}"', f'"{tagline[:60]}."'), encoding="utf-8")  # punctuation
    proc = run_build(source_copy, tmp_path / "dist")
    assert proc.returncode == 1
    assert "validator rejected" in proc.stderr and "tagline" in proc.stderr


@pytest.mark.bpy
def test_build_fails_when_bl_info_and_manifest_disagree(source_copy: Path, tmp_path: Path) -> None:
    version = manifest()["version"]
    major, minor, patch = (int(p) for p in version.split("."))
    init = source_copy / "__init__.py"
    text = init.read_text(encoding="utf-8")
    old, new = f'"version": ({major}, {minor}, {patch})', f'"version": ({major}, {minor}, {patch + 1})'
    assert old in text
    init.write_text(text.replace(old, new), encoding="utf-8")
    proc = run_build(source_copy, tmp_path / "dist")
    assert proc.returncode == 1
    assert f"bl_info version {major}.{minor}.{patch + 1} differs from the manifest's {version}" in proc.stderr
    assert not (tmp_path / "dist").exists()  # nothing half-built


def addon_imports() -> dict[str, set[str]]:
    """The add-on modules (renderplus/addon/*.py) each add-on module imports, at any depth of its code."""
    modules = {path.stem for path in (ADDON / "addon").glob("*.py") if path.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name in sorted(modules):
        tree = ast.parse((ADDON / "addon" / f"{name}.py").read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
        graph[name] = found & modules
    return graph


def test_the_add_on_modules_import_each_other_without_a_loop() -> None:
    graph = addon_imports()
    for ui in (name for name in graph if name.startswith("ui")):  # buttons name operators by bl_idname
        assert not {name for name in graph[ui] if name.endswith("operators")}, ui
    for lower in ("bridge", "batch_lifecycle", "server_lifecycle"):  # preferences hand them their values
        assert "preferences" not in graph[lower], lower
    assert graph["run_io"] <= {"props"}  # the two mirrors; the engine menu's table is pure
    assert graph["recipe_io"] <= {"props", "engine_menu"} and graph["engine_menu"] <= {"binary_info"}

    def visit(name: str, path: tuple[str, ...]) -> None:
        for target in graph[name]:
            assert target not in path, " -> ".join((*path, name, target))
            visit(target, (*path, name))

    for module in graph:
        visit(module, ())
