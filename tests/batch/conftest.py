"""Helpers for runner tests: recipes around real fixtures, and a fake Blender for faults."""

from __future__ import annotations

import json
import stat
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.recipe import Recipe, parse_recipe


def make_recipe(jobs: list[dict[str, Any]], **top: Any) -> Recipe:
    for index, job in enumerate(jobs):
        job.setdefault("id", index)
        job.setdefault("name", f"job{index}")
    data: dict[str, Any] = {"version": 2.2, "name": "test batch", "jobs": jobs}
    data.update(top)
    return parse_recipe(data)


@pytest.fixture
def fake_blender(tmp_path: Path) -> Callable[[str], str]:
    """``fake_blender(body)`` -> path of an executable Python script standing in for Blender.

    Only for faults real Blender cannot produce on demand; the script gets Blender's argv.
    """
    counter = iter(range(1000))

    def make(body: str) -> str:
        path = tmp_path / f"fake-blender-{next(counter)}"
        path.write_text(f"#!{sys.executable}\nimport os, sys, time, json, subprocess\n"
                        + textwrap.dedent(body))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return str(path)

    return make


def frame_marker(frame: int, path: str) -> str:
    return "RENDERPLUS> " + json.dumps({"event": "frame", "frame": frame, "path": path})
