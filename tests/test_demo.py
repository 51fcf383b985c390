"""The README's first command: the demo batch renders for real and prints progress and stats."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.blender
@pytest.mark.slow
def test_demo_batch_renders_every_job(tmp_path: Path) -> None:
    blender = shutil.which("blender")
    if blender is None:
        pytest.skip("the blender executable is not installed")
    result = subprocess.run([sys.executable, str(ROOT / "demo" / "run_demo.py"), "--output",
                             str(tmp_path), "--blender", blender],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    recipe = json.loads((tmp_path / "demo-recipe.json").read_text())
    assert "BATCH STATS" in result.stdout and "Batch FINISHED" in result.stdout
    for job in recipe["jobs"]:
        name = Path(job["output"]).name
        frames = job["frame_end"] - job["frame_start"] + 1 if job.get("animated") else 1
        written = sorted(tmp_path.glob(f"{name}_*.png"))
        assert len(written) == frames, (name, written)
        assert all(path.stat().st_size > 1000 for path in written)
    movie = tmp_path / "turntable.mp4"   # the animation's movie, beside its frames
    probed = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                             "stream=codec_name,nb_read_frames", "-of", "csv=p=0", str(movie)],
                            capture_output=True, text=True, timeout=60, check=True)
    assert probed.stdout.strip() == "h264,6"
    assert (tmp_path / "feed.rss").read_text().count("<item>") == len(recipe["jobs"]) + 1
    logs = list((tmp_path / "log").iterdir())
    assert len(logs) == 1 and "Blender exited with code 0" in logs[0].read_text()
