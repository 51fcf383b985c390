"""``--check`` logic: files, folders and what is inside the .blend files, asked of real Blender."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.preflight import blend_file_version, blend_header_problem, check_recipe, folder_problem
from renderplus.batch.recipe import parse_recipe

BLENDER = shutil.which("blender") or "/usr/bin/blender"


def recipe_for(jobs: list[dict[str, Any]], base: Path, **top: Any) -> Any:
    for index, job in enumerate(jobs):
        job.setdefault("id", index)
        job.setdefault("output", str(base / "out" / f"job{index}_"))
    return parse_recipe({"version": 2.2, "jobs": jobs, **top}, base_dir=str(base))


def messages(report: Any, job: int | None) -> list[str]:
    return [p.message for p in report.problems if p.job == job]


@pytest.mark.blender
@pytest.mark.slow
def test_names_are_checked_against_what_the_file_holds(blend_factory: Callable[..., Path],
                                                       tmp_path: Path) -> None:
    blend = blend_factory(extra_cameras=("Cam2",), extra_worlds=("Night",), extra_layers=("Fg",))
    recipe = recipe_for([
        {"blend_file": str(blend), "camera": "Cam2", "world": "Night", "layer": "Fg", "engine": "CYCLES"},
        {"blend_file": str(blend), "camera": "NoCam"},
        {"blend_file": str(blend), "scene": "NoScene"},
        {"blend_file": str(blend), "world": "NoWorld", "layer": "NoLayer"},
        {"blend_file": str(blend), "engine": "BLENDER_EEVEE_NEXT"},
        {"blend_file": str(blend), "camera": "NoCam", "enabled": False},
    ], tmp_path)
    report = check_recipe(recipe, BLENDER)
    assert report.blender_version and report.blender_version[0].isdigit()
    assert messages(report, 0) == []
    assert messages(report, 1) == ["camera 'NoCam' not found in scene 'Scene' of "
                                   f"{blend.name} (cameras: 'Cam2', 'Camera')"]
    assert "scene 'NoScene' not found" in messages(report, 2)[0]
    assert len(messages(report, 3)) == 2
    assert "world 'NoWorld' not found" in messages(report, 3)[0] and "'Night'" in messages(report, 3)[0]
    assert "view layer 'NoLayer' not found" in messages(report, 3)[1] and "'Fg'" in messages(report, 3)[1]
    assert "render engine 'BLENDER_EEVEE_NEXT' is not available" in messages(report, 4)[0]
    assert 5 not in report.checked_jobs  # disabled jobs are not checked
    assert len(report.files) == 1  # one Blender run for the file all jobs share


@pytest.mark.blender
def test_a_good_recipe_passes(blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    blend = blend_factory()
    report = check_recipe(recipe_for([{"blend_file": blend.name}], blend.parent), BLENDER)
    assert report.ok, report.problems


@pytest.mark.blender
def test_files_and_folders_are_checked_without_blender_reading_them(blend_factory: Callable[..., Path],
                                                                     tmp_path: Path) -> None:
    not_blend = tmp_path / "photo.blend"
    not_blend.write_bytes(b"\x89PNG\r\n\x1a\n")
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    recipe = recipe_for([
        {"blend_file": "missing.blend"},
        {"blend_file": str(not_blend)},
        {"blend_file": str(blend_factory()), "output": str(a_file / "renders" / "shot_")},
    ], tmp_path)
    report = check_recipe(recipe, BLENDER)
    assert messages(report, 0) == [f".blend file not found: {tmp_path / 'missing.blend'}"]
    assert messages(report, 1) == [f"{not_blend} is not a Blender file (no BLENDER signature)"]
    renders = a_file / "renders"
    assert messages(report, 2) == [f"output folder {renders} cannot be created: {a_file} is a file"]


def test_a_missing_blender_is_one_problem_for_the_batch(tmp_path: Path) -> None:
    recipe = recipe_for([{"blend_file": "x.blend"}], tmp_path)
    report = check_recipe(recipe, str(tmp_path / "no-blender"))
    missing = tmp_path / "no-blender"
    assert messages(report, None) == [f"Blender binary not found or not executable: {missing}"]
    assert not report.files


@pytest.mark.blender  # check_recipe asks the binary its version and engines
def test_no_enabled_job_is_a_problem(tmp_path: Path) -> None:
    report = check_recipe(recipe_for([{"blend_file": "x.blend", "enabled": False}], tmp_path), BLENDER,
                          ask_blender=False)
    assert "no enabled job" in messages(report, None)[-1]


@pytest.mark.parametrize("head, problem", [
    (b"BLENDER-v304REND", None), (b"BLENDER17-01v0500", None), (b"\x28\xb5\x2f\xfd\x00", None),
    (gzip.compress(b"BLENDER_v279RENDxx"), None),
    (gzip.compress(b"hello"), "a gzip file that does not hold a Blender file"),
    (b"", "an empty file"), (b"PK\x03\x04", "not a Blender file (no BLENDER signature)"),
])
def test_blend_header_problem(head: bytes, problem: str | None) -> None:
    assert blend_header_problem(head) == problem


@pytest.mark.parametrize("head, version", [(b"BLENDER-v304REND", 304), (b"BLENDER_V279", 279),
                                           (b"BLENDER17-01v0500", 500), (b"\x28\xb5\x2f\xfd", None)])
def test_blend_file_version(head: bytes, version: int | None) -> None:
    assert blend_file_version(head) == version


def test_folder_problem(tmp_path: Path) -> None:
    assert folder_problem(str(tmp_path / "new" / "deeper")) is None  # Blender creates it
    a_file = tmp_path / "f"
    a_file.write_text("")
    inside = a_file / "x"
    assert folder_problem(str(inside)) == f"output folder {inside} cannot be created: {a_file} is a file"
