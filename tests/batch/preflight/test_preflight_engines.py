"""Which render engines a Blender binary has (``-E help``), and a job whose engine it lacks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.preflight import binary as preflight_binary
from renderplus.batch.preflight import blender_engines, check_recipe, engine_problem, parse_engine_listing
from renderplus.batch.recipe import parse_recipe

BLENDER = shutil.which("blender") or "/usr/bin/blender"
# What Debian's Blender 3.4.1 prints for ``blender -b --factory-startup -E help`` (measured).
LISTING_3_4 = "Blender 3.4.1\nBlender Engine Listing:\n\tBLENDER_EEVEE\n\tBLENDER_WORKBENCH\n\tCYCLES\n"


def completed(stdout: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], code, stdout, "")


@pytest.mark.parametrize("text, engines", [
    (LISTING_3_4, ("BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES")),
    # banners and warnings around it; an add-on engine with a dotted lower-case id
    ("Read prefs: /x/userpref.blend\nWarning: ALSA lib\nBlender Engine Listing:\n\tBLENDER_EEVEE_NEXT\n"
     "\tCYCLES\n\tcom.example.render\n\nBlender quit\n",
     ("BLENDER_EEVEE_NEXT", "CYCLES", "com.example.render")),
    # 5.x's log prefix, should the listing ever go through the log system
    ("00:00.120  blender          | Blender Engine Listing:\n00:00.120  blender          | \tBLENDER_EEVEE\n"
     "00:00.121  blender          | \tCYCLES\n", ("BLENDER_EEVEE", "CYCLES")),
    ("Blender Engine Listing:\n\tCYCLES\nError: something else\n\tNOT_AN_ENGINE\n", ("CYCLES",)),
    ("Blender 3.4.1\nunknown argument\n", None),
])
def test_parse_engine_listing(text: str, engines: tuple[str, ...] | None) -> None:
    assert parse_engine_listing(text) == engines


@pytest.mark.blender
def test_the_real_blender_lists_its_engines() -> None:
    engines, why = blender_engines(BLENDER)
    assert why is None and engines is not None
    assert {"CYCLES", "BLENDER_WORKBENCH"} <= set(engines)
    assert ("BLENDER_EEVEE" in engines) != ("BLENDER_EEVEE_NEXT" in engines)


def test_the_answer_is_cached_per_binary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight_binary, "_engines_cache", {})
    binary = tmp_path / "blender"
    binary.write_text("#!/bin/sh\n")
    calls: list[Any] = []

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return completed(LISTING_3_4)

    assert blender_engines(str(binary), run=run)[0] == ("BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES")
    assert blender_engines(str(binary), run=run)[0] is not None
    assert len(calls) == 1 and calls[0][1:] == ["-b", "--factory-startup", "-E", "help"]
    binary.write_text("#!/bin/sh\n# a newer Blender installed in its place\n")
    os.utime(binary, ns=(1, 1))
    blender_engines(str(binary), run=run)
    assert len(calls) == 2


def test_a_binary_that_lists_nothing_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(preflight_binary, "_engines_cache", {})
    engines, why = blender_engines(shutil.which("true") or "/bin/true")
    assert engines is None and why is not None and "did not list its render engines" in why
    engines, why = blender_engines(str(tmp_path / "missing"))
    assert engines is None and why is not None and why.startswith("cannot run")


@pytest.mark.parametrize("engine, engines, expected", [
    ("CYCLES", ("CYCLES",), None),
    ("", ("CYCLES",), None),
    ("BLENDER_EEVEE_NEXT", ("BLENDER_EEVEE", "CYCLES"),
     "render engine 'BLENDER_EEVEE_NEXT' is not available in Blender 3.4.1 (engines: 'BLENDER_EEVEE', "
     "'CYCLES'); use 'BLENDER_EEVEE', the same engine's id in Blender 3.4.1"),
    ("BLENDER_EEVEE", ("BLENDER_EEVEE_NEXT", "CYCLES"),
     "render engine 'BLENDER_EEVEE' is not available in Blender 3.4.1 (engines: 'BLENDER_EEVEE_NEXT', "
     "'CYCLES'); use 'BLENDER_EEVEE_NEXT', the same engine's id in Blender 3.4.1"),
    ("LUXCORE", ("CYCLES",),
     "render engine 'LUXCORE' is not available in Blender 3.4.1 (engines: 'CYCLES')"),
])
def test_engine_problem_names_the_engines_and_the_translation(engine: str, engines: tuple[str, ...],
                                                               expected: str | None) -> None:
    assert engine_problem(engine, engines, "3.4.1") == expected


@pytest.mark.blender
def test_check_reports_an_engine_the_rendering_binary_lacks(tmp_path: Path) -> None:
    engines, _ = blender_engines(BLENDER)
    assert engines is not None
    missing = "BLENDER_EEVEE_NEXT" if "BLENDER_EEVEE" in engines else "BLENDER_EEVEE"
    recipe = parse_recipe({"version": 2.2, "jobs": [
        {"id": 0, "blend_file": "gone.blend", "engine": missing},
        {"id": 1, "blend_file": "gone.blend", "engine": "CYCLES"},
        {"id": 2, "blend_file": "gone.blend", "blender_bin": str(tmp_path / "no-blender")},
    ]}, base_dir=str(tmp_path))
    report = check_recipe(recipe, BLENDER, ask_blender=False)
    assert report.engines == engines
    job0 = [p.message for p in report.problems if p.job == 0]
    assert any(f"render engine {missing!r} is not available" in m and "'CYCLES'" in m and "use '" in m
               for m in job0), job0
    assert not any("render engine" in p.message for p in report.problems if p.job == 1)
    job2 = [p.message for p in report.problems if p.job == 2]
    missing_bin = tmp_path / "no-blender"
    assert f"this job's Blender: Blender binary not found or not executable: {missing_bin}" in job2
