"""The CLI composes every batch it runs with ``renderplus.around``'s watchers (the engine's
observer port): a foreground run and a served batch both write the recipe's RSS feed. (The
power action through the same port: test_cli_poweroff.py.) A stand-in Blender writes one frame,
so no real Blender is needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import feedparser

from tests.server.helpers import ServerProcess, call
from tests.stand_ins import one_frame_blender
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def feed_recipe(tmp_path: Path) -> tuple[Path, Path]:
    """A one-job recipe whose stand-in Blender writes its frame; the recipe and its feed's path."""
    blender = one_frame_blender(tmp_path / "fake-blender", tmp_path / "out_0001.png")
    blend = tmp_path / "scene.blend"
    blend.write_bytes(b"BLENDER-v304")
    feed = tmp_path / "feed" / "batch.rss"
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({
        "version": 2.2, "name": "feed test", "blender_bin": str(blender),
        "settings": {"rss": {"enabled": True, "path": str(feed)}},
        "jobs": [{"id": 0, "name": "Shot", "blend_file": str(blend)}]}))
    return recipe, feed


def job_statuses(path: Path) -> tuple[str, ...] | None:
    if not path.exists():
        return None
    parsed: Any = feedparser.parse(path.read_bytes())
    return tuple(entry.tags[0].term for entry in parsed.entries[1:])


def test_a_foreground_run_writes_the_recipes_feed(tmp_path: Path) -> None:
    recipe, feed = feed_recipe(tmp_path)
    result = subprocess.run([sys.executable, "-m", "renderplus.server", "--recipe", str(recipe),
                             "--work-dir", str(tmp_path / "work")],
                            cwd=ROOT, env=dict(os.environ), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert job_statuses(feed) == ("FINISHED",)


def test_a_served_batch_writes_the_recipes_feed(tmp_path: Path) -> None:
    recipe, feed = feed_recipe(tmp_path)
    server = ServerProcess("--recipe", str(recipe), work_dir=tmp_path / "work")
    try:
        assert call(server.port, "GET", "/batch/start").code == 200
        wait_for(lambda: job_statuses(feed) == ("FINISHED",), timeout=60)
    finally:
        server.close()
