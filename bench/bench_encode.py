"""A job's movie against the render of its frames, with the real Blender 3.4 and FFmpeg.

Three animations of one scene (Cycles, values above 1.0, Filmic): PNG frames to H.264, EXR frames
to H.264 (through the scene's view transform in Blender first), multilayer EXR frames to ProRes.
For each job: the time its frames took (the job's start to its last verified frame), the time its
movie took (the encode's process start to the movie in place), their ratio, and the time from the
last verified frame to the encode's start and to its Blender being ready (target: the encode
starts within 5 s of the last verified frame). Times are read from the batch's own revisions
(``Batch.wait_change``), as any client sees them.

Usage: python bench/bench_encode.py [--frames 24] [--size 960x540] [--samples 16]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from renderplus.batch.encode import ffmpeg  # noqa: E402
from renderplus.batch.preflight.binary import blender_version  # noqa: E402
from renderplus.batch.recipe import parse_recipe  # noqa: E402
from renderplus.batch.runner import Batch, RunOptions  # noqa: E402
from tests.blendfiles import BLENDER, make_blend  # noqa: E402
from tests.movie_checks import HDR_SCENE  # noqa: E402
from tests.versions.conftest import blender_script  # noqa: E402

JOBS = (("PNG", "h264", "PNG → H.264"), ("OPEN_EXR", "h264", "EXR → H.264 (Filmic in Blender)"),
        ("OPEN_EXR_MULTILAYER", "prores", "multilayer EXR → ProRes"))


def scene(folder: Path, size: tuple[int, int], samples: int, frames: int) -> Path:
    tuned = HDR_SCENE + (f"\nscene.render.resolution_x, scene.render.resolution_y = {size[0]}, {size[1]}"
                         f"\nscene.cycles.samples = {samples}\nscene.frame_end = {frames}\n")
    return blender_script(BLENDER, make_blend(folder), folder / "bench.blend", tuned)


def watch(batch: Batch, seen: dict[tuple[int, str], float], stop: threading.Event) -> None:
    """The first moment each job reaches each stage, from the batch's revisions."""
    revision = -1
    while not stop.is_set():
        revision = batch.wait_change(revision, timeout=0.5)
        now = time.monotonic()
        for job in batch.view().jobs:
            movie = job.movie or {}
            stages = {"running": job.status.value == "RUNNING",
                      "frames": job.frames_done == job.frames_total and job.frames_total > 0,
                      "encoding": movie.get("status") == "ENCODING",
                      "ready": movie.get("frames") is not None
                      and movie.get("status") in ("ENCODING", "DONE"),
                      "done": movie.get("status") == "DONE"}
            for stage, reached in stages.items():
                if reached:
                    seen.setdefault((job.id, stage), now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", default="960x540")
    parser.add_argument("--samples", type=int, default=16)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        blend = scene(folder, (size[0], size[1]), args.samples, args.frames)
        recipe = parse_recipe({"version": 2.2, "name": "bench encode", "jobs": [
            {"id": i, "blend_file": str(blend), "animated": True, "frame_start": 1,
             "frame_end": args.frames, "format": image_format, "encode": {"format": movie},
             "output": str(folder / f"job{i}" / "shot_####")}
            for i, (image_format, movie, _) in enumerate(JOBS)]})
        batch = Batch(recipe, RunOptions())
        seen: dict[tuple[int, str], float] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(batch, seen, stop), daemon=True)
        watcher.start()
        batch.start()
        batch.wait()
        stop.set()
        watcher.join(5)
        jobs: list[dict[str, Any]] = batch.snapshot()["jobs"]
    for job in jobs:
        if job["status"] != "FINISHED":
            raise SystemExit(f"job {job['id']} {job['status']}: {job['messages']}")
    encoder = ffmpeg()
    lines = [f"{args.frames} frames of {size[0]}x{size[1]}, Cycles {args.samples} spp, values above 1.0, "
             f"Filmic; Blender {blender_version(BLENDER)[0]}, FFmpeg {encoder.version}; one batch, the "
             "movies made one at a time while the next job renders (2 cores shared). Seconds:", "",
             "| job | frames rendered | movie made | movie / frames | last frame → encode started "
             "| → its Blender ready |", "|---|---:|---:|---:|---:|---:|"]
    for index, (_, _, label) in enumerate(JOBS):
        def at(stage: str, i: int = index) -> float:
            return seen[(i, stage)]
        frames = at("frames") - at("running")
        movie = at("done") - at("encoding")
        lines.append(f"| {label} | {frames:.1f} | {movie:.1f} | **{movie / frames:.2f}** | "
                     f"**{at('encoding') - at('frames'):.2f}** | {at('ready') - at('frames'):.2f} |")
    lines += ["", "The encode starts as soon as the job's last frame is verified (target: within 5 s);",
              "its Blender is ready about a start-up later (docs/blender.md, Start-up cost). A movie "
              "waits only while another job's movie is being made."]
    print("\n".join(lines))
    record("Movies: the encode against the render of its frames (bench/bench_encode.py)", lines)


if __name__ == "__main__":
    main()
