"""One Blender for many jobs of a file (the session executor) against a bare shell loop.

(a) 10 stills of one tiny Cycles file, one camera each: Render+ with the session executor, Render+
    with a process per job, and a bare ``blender -b FILE --python-expr <camera> -f 1`` loop.
(c) a heavier file (a subdivided sphere of about half a million faces, 8 cameras, Cycles): the
    session reloading the file per job, restoring what the job changed instead, and restoring
    with Cycles' persistent data, against the bare loop.
Each variant's images are compared pixel by pixel with the bare loop's. Medians of ``--rounds``;
printed as a markdown table.

    .venv/bin/python -m bench.bench_session [--rounds 3] [--only a|c]
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

BLENDER = shutil.which("blender") or "/usr/bin/blender"

_MAKE_SCRIPT = r"""
import bpy, json, math, sys
from mathutils import Vector
opts = json.loads(sys.argv[sys.argv.index("--") + 1])
scene = bpy.context.scene
scene.render.engine = opts["engine"]
scene.render.resolution_x, scene.render.resolution_y = opts["size"]
scene.render.resolution_percentage = 100
scene.render.image_settings.file_format = "PNG"
scene.render.use_compositing = False
scene.render.use_sequencer = False
if opts["engine"] == "CYCLES":
    scene.cycles.samples = opts["samples"]
    scene.cycles.seed = 7
    scene.cycles.use_denoising = False
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.device = "CPU"
    for layer in scene.view_layers:
        layer.cycles.use_denoising = False
if opts["heavy"]:
    bpy.data.objects.remove(bpy.data.objects["Cube"])
    bpy.ops.mesh.primitive_uv_sphere_add(segments=64, ring_count=32, radius=1.5)
    sphere = bpy.context.active_object
    modifier = sphere.modifiers.new("Subdivision", "SUBSURF")
    modifier.levels, modifier.render_levels = 1, opts["heavy"]
for index in range(opts["cameras"]):
    angle = 2 * math.pi * index / opts["cameras"]
    data = bpy.data.cameras.new(f"Cam{index}")
    cam = bpy.data.objects.new(f"Cam{index}", data)
    cam.location = (7 * math.cos(angle), 7 * math.sin(angle), 2.0 + index * 0.5)
    cam.rotation_euler = (-cam.location).to_track_quat("-Z", "Y").to_euler()
    scene.collection.objects.link(cam)
bpy.ops.wm.save_as_mainfile(filepath=opts["path"])
"""


def make_camera_blend(path: Path, *, engine: str = "CYCLES", cameras: int = 4,
                      size: tuple[int, int] = (64, 48), samples: int = 4, heavy: int = 0) -> Path:
    """A .blend saved by the real Blender: the default scene with ``cameras`` cameras ``Cam0``..
    around the origin, each seeing it from its own side; ``heavy``: the cube becomes a sphere
    with a Subdivision modifier of that many render levels (4: about 520,000 faces)."""
    opts = {"engine": engine, "cameras": cameras, "size": list(size), "samples": samples,
            "heavy": heavy, "path": str(path)}
    result = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "1",
                             "--python-expr", _MAKE_SCRIPT, "--", json.dumps(opts)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not path.exists():
        raise RuntimeError(f"could not make {path}:\n{result.stdout}\n{result.stderr}")
    return path


def png_pixels(path: str | Path) -> tuple[int, int, bytes]:
    """(width, height, raw pixel rows) of an 8/16-bit non-interlaced PNG, unfiltered: two
    images with equal results hold the same pixels, whatever their metadata (render time)."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    position, idat, header = 8, b"", b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if interlace:
        raise ValueError(f"{path}: interlaced PNGs are not read here")
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    pixel = max(1, channels * depth // 8)
    stride = (width * channels * depth + 7) // 8
    raw = zlib.decompress(idat)
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for row in range(height):
        kind, line = raw[row * (stride + 1)], bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - pixel] if i >= pixel else 0
            up, corner = previous[i], previous[i - pixel] if i >= pixel else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        rows.append(line)
        previous = line
    return width, height, b"".join(rows)


# ---------------------------------------------------------------- the variants


def bare_loop(blend: Path, cameras: int, out: Path) -> float:
    """The shell loop a user would write: one ``blender -b`` per camera."""
    lines = []
    for index in range(cameras):
        expr = f"import bpy; bpy.context.scene.camera = bpy.data.objects['Cam{index}']"
        lines.append(shlex.join([BLENDER, "-b", str(blend), "--python-expr", expr,
                                 "-o", str(out / f"bare_cam{index}_####"), "-F", "PNG", "-x", "1",
                                 "-f", "1"]) + " > /dev/null 2>&1 || exit 1")
    started = time.perf_counter()
    subprocess.run(["/bin/sh", "-c", "\n".join(lines)], check=True, timeout=1800)
    return time.perf_counter() - started


def renderplus(blend: Path, cameras: int, out: Path, executor: Any, tag: str) -> float:
    from renderplus.batch.recipe import parse_recipe
    from renderplus.batch.runner import Batch, RunOptions

    recipe = parse_recipe({"version": 2.2, "name": tag, "jobs": [
        {"id": index, "name": f"cam{index}", "blend_file": str(blend), "camera": f"Cam{index}",
         "format": "PNG", "output": str(out / f"{slug(tag)}_cam{index}_")} for index in range(cameras)]})
    started = time.perf_counter()
    batch = Batch(recipe, RunOptions(), executor=executor)
    batch.run()
    elapsed = time.perf_counter() - started
    failed = [job.messages for job in batch.view().jobs if job.status != "FINISHED"]
    if failed:
        raise RuntimeError(f"{tag}: jobs failed: {failed}")
    return elapsed


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def same_pixels(out: Path, name: str, cameras: int) -> bool:
    tag = slug(name)
    return all(png_pixels(out / f"{tag}_cam{i}_0001.png") == png_pixels(out / f"bare_cam{i}_0001.png")
               for i in range(cameras))


def measure(blend: Path, cameras: int, rounds: int, variants: dict[str, Callable[[Path], float]],
            ) -> dict[str, tuple[float, bool]]:
    times: dict[str, list[float]] = {name: [] for name in ["bare", *variants]}
    identical: dict[str, bool] = dict.fromkeys(variants, True)
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="bench-session-") as folder:
            out = Path(folder)
            times["bare"].append(bare_loop(blend, cameras, out))
            for name, run in variants.items():
                times[name].append(run(out))
                identical[name] = identical[name] and same_pixels(out, name, cameras)
    return {name: (statistics.median(values), identical.get(name, True))
            for name, values in times.items()}


def table(title: str, results: dict[str, tuple[float, bool]]) -> str:
    bare = results["bare"][0]
    lines = [f"### {title}", "", "| variant | median s | / bare loop | pixels = bare loop |",
             "|---|---|---|---|"]
    for name, (seconds, same) in results.items():
        lines.append(f"| {name} | {seconds:.2f} | {seconds / bare:.3f} | {'yes' if same else 'NO'} |")
    return "\n".join(lines)


def main() -> None:
    from renderplus.batch.executors import ProcessExecutor
    from renderplus.batch.executors.session import SessionExecutor

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=("a", "c"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-session-blends-") as folder:
        if args.only in (None, "a"):
            blend = make_camera_blend(Path(folder) / "tiny.blend", cameras=10)
            results = measure(blend, 10, args.rounds, {
                "session": lambda out: renderplus(blend, 10, out, SessionExecutor(), "session"),
                "process per job": lambda out: renderplus(blend, 10, out, ProcessExecutor(1),
                                                          "process per job"),
            })
            print(table("(a) 10 stills of one tiny Cycles file, 10 cameras", results), "\n")
        if args.only in (None, "c"):
            blend = make_camera_blend(Path(folder) / "heavy.blend", cameras=8, size=(96, 72),
                                      samples=4, heavy=4)
            results = measure(blend, 8, args.rounds, {
                "session, reload": lambda out: renderplus(blend, 8, out, SessionExecutor(),
                                                          "session, reload"),
                "session, restore": lambda out: renderplus(
                    blend, 8, out, SessionExecutor(reset="restore"), "session, restore"),
                "session, restore + persistent data": lambda out: renderplus(
                    blend, 8, out, SessionExecutor(reset="restore", persistent_data=True),
                    "session, restore + persistent data"),
            })
            print(table("(c) a subdivided sphere (about 520,000 faces), 8 cameras, Cycles",
                        results))


if __name__ == "__main__":
    main()
