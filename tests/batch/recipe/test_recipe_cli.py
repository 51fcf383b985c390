"""Hostile recipes through ``python3 -m renderplus.server --recipe X --dry``: exit 2 and a sentence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .recipe_samples import SAMPLE, sample
from .test_recipe_hostile import whole_range_recipe

ROOT = Path(__file__).resolve().parents[3]


def dry_run(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    recipe = tmp_path / "recipe.json"
    recipe.write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "renderplus.server", "--recipe", str(recipe), "--dry"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("text", "needle"), [
    ('{"version": 2.2, "jobs": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    (json.dumps(sample(name="\ud800")), "name: holds an unpaired UTF-16 surrogate"),
    (json.dumps(SAMPLE).replace('"version": 2.2', '"version": ' + "9" * 400), "version: number out of range"),
    (json.dumps(SAMPLE).replace('"x": 0', '"x": ' + "9" * 5000), "jobs[0].section.x: number out of range"),
    (json.dumps(SAMPLE).replace('"custom_overrides": []', '"custom_overrides": 5'),
     "jobs[0].custom_overrides: must be a list"),
], ids=["deep-nesting", "surrogate", "400-digit-version", "5000-digit-section", "overrides-number"])
def test_hostile_recipes_exit_2_with_a_sentence(tmp_path: Path, text: str, needle: str) -> None:
    result = dry_run(tmp_path, text)
    assert result.returncode == 2, result.stderr[-2000:]
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_of_50_whole_range_jobs_counts_without_expanding(tmp_path: Path) -> None:
    """(Its speed is measured in bench/: 14 s before frames were ranges, ~1 s now.)"""
    result = dry_run(tmp_path, json.dumps(whole_range_recipe(50)))
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{50 * 2_097_149} frames to render" in result.stdout
