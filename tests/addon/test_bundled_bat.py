"""Blender Asset Tracer bundled as Bottle is: the zip carries BAT 1.23 (the manifest's, Python
3.11+) and 1.20 (legacy installs on Python 3.10), the loader takes the wheel whose
``Requires-Python`` admits the running Python, and in real Blender (3.4, and the bpy wheels) the
bundled BAT packs a .blend whose texture lies outside shared storage, no BAT installed."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.wheel_imports import admits, fitting_wheels, requires_python
from tests.addon.helpers import bpy_pythons, python_id, run_blender_script, run_bpy_script
from tests.farm.blends import make_textured_blend

LEGACY_BAT = "blender_asset_tracer-1.20-py3-none-any.whl"
BAT = "blender_asset_tracer-1.23-py3-none-any.whl"


def fake_wheel(folder: Path, name: str, version: str, requires: str | None) -> Path:
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        header = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        header += f"Requires-Python: {requires}\n" if requires is not None else ""
        archive.writestr(f"{name}-{version}.dist-info/METADATA", header + "\nRequires-Python: >=9\n")
    return wheel


def test_the_wheel_for_the_running_python_is_chosen(tmp_path: Path) -> None:
    fake_wheel(tmp_path, "lib", "1.20", ">=3.9,<4.0")
    fake_wheel(tmp_path, "lib", "1.23", ">=3.11,<4.0")
    fake_wheel(tmp_path, "other", "9.0", None)

    def chosen(*python: int) -> list[str]:
        return [w.name.split("-")[1] for w in fitting_wheels("lib", tmp_path, python)]

    assert chosen(3, 10, 12) == ["1.20"]          # Blender 3.4-4.0
    assert chosen(3, 11, 2) == ["1.23", "1.20"]   # Debian's 3.4, Blender 4.1+
    assert chosen(3, 8, 10) == []
    assert requires_python(tmp_path / "lib-1.23-py3-none-any.whl") == ">=3.11,<4.0"
    assert requires_python(tmp_path / "other-9.0-py3-none-any.whl") == ""   # the body is not a header
    (tmp_path / "lib-2.0-py3-none-any.whl").write_bytes(b"")   # unreadable: not excluded
    assert chosen(3, 11, 2)[0] == "2.0"


@pytest.mark.parametrize(("requirement", "python", "fits"), [
    (">=3.10", (3, 10, 0), True), (">3.10", (3, 10, 5), True), (">3.10", (3, 10), False),
    ("<3.11", (3, 11, 2), False), ("==3.10.*", (3, 10, 12), True), ("!=3.10.*", (3, 10, 1), False),
    ("~=3.9", (3, 11), True), ("", (3, 11), True), (">=3.9, <4", (4, 0), False),
])
def test_requires_python_clauses(requirement: str, python: tuple[int, ...], fits: bool) -> None:
    assert admits(requirement, python) is fits


def test_the_zip_carries_both_bat_wheels_and_the_manifest_lists_one(addon_zip: Path) -> None:
    archive = zipfile.ZipFile(addon_zip)
    names = archive.namelist()
    assert f"renderplus/wheels/{BAT}" in names and f"renderplus/wheels/{LEGACY_BAT}" in names
    manifest = archive.read("renderplus/blender_manifest.toml").decode()
    assert BAT in manifest and LEGACY_BAT not in manifest


@pytest.fixture(scope="module")
def unpacked(addon_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unpacked")
    zipfile.ZipFile(addon_zip).extractall(folder)
    return folder


def packing_args(unpacked: Path, tmp: Path) -> dict[str, Any]:
    shared = tmp / "shared"
    shared.mkdir()
    blend, _texture = make_textured_blend(tmp / "local")   # outside shared storage
    return {"addon_parent": str(unpacked), "blend": str(blend), "shared": str(shared)}


def assert_packed_with(result: dict[str, Any], wheel: str, args: dict[str, Any]) -> None:
    assert result["importable_before"] is False
    folder = args.get("wheels_dir") or f"{args['addon_parent']}/renderplus/wheels"
    assert result["bat_file"].startswith(f"{folder}/{wheel}/"), result["bat_file"]
    staged = result["staged"]
    assert staged["packed"] and staged["path"].startswith(args["shared"]) and not staged["missing"]
    assert "textured.blend" in result["packed_files"] and "tex/red.png" in result["packed_files"]


@pytest.mark.blender
def test_blender_34_packs_with_the_bundled_bat(unpacked: Path, tmp_path: Path) -> None:
    args = packing_args(unpacked, tmp_path)
    result = run_blender_script("bundled_bat_scenario.py", args, tmp_path)
    wheel = BAT if tuple(result["python"]) >= (3, 11) else LEGACY_BAT   # Debian's 3.4: Python 3.11
    assert_packed_with(result, wheel, args)


@pytest.mark.blender
def test_the_legacy_wheel_packs_in_blender_34_too(unpacked: Path, tmp_path: Path) -> None:
    """The 1.20 wheel that official 3.4-4.0 builds (Python 3.10) load, in the 3.4 here."""
    legacy = tmp_path / "legacy-wheels"
    legacy.mkdir()
    shutil.copy(unpacked / "renderplus" / "wheels" / LEGACY_BAT, legacy)
    args = {**packing_args(unpacked, tmp_path), "wheels_dir": str(legacy)}
    assert_packed_with(run_blender_script("bundled_bat_scenario.py", args, tmp_path), LEGACY_BAT, args)


@pytest.mark.blender
@pytest.mark.bpy
@pytest.mark.parametrize("python", bpy_pythons(), ids=python_id)
def test_the_bpy_wheel_packs_with_the_bundled_bat(python: str, unpacked: Path, tmp_path: Path) -> None:
    args = packing_args(unpacked, tmp_path)
    assert_packed_with(run_bpy_script("bundled_bat_scenario.py", args, tmp_path, python=python), BAT, args)
