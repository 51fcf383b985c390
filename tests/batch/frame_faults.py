"""A frame damaged on demand: a ``blender_bin`` wrapper that runs the REAL Blender and, when
Render+'s frame marker of a chosen frame comes by, damages that frame's file before passing
the marker on (so the damage precedes what Render+ reads). Only the fault is made up: the
render, its files and its markers are the real Blender's.

Modes: ``truncate`` (cut to half its size, as a full disk leaves it), ``replace`` (copied over
by a prepared file: a black PNG, an EXR holding a NaN), ``late`` (moved away and put back
``delay`` seconds later, as a slow network disk shows it). ``times``: how many renders of the
frame are damaged (a counter file counts them); ``which``: the marker's ``path`` or its
``files[0]`` (a File Output node's file).
"""

from __future__ import annotations

import json
import stat
import struct
import sys
import zlib
from pathlib import Path

from tests.blendfiles import BLENDER

_WRAPPER = r'''
import json, os, shutil, subprocess, sys
CONFIG = json.loads(CONFIG_TEXT)

def damaged_now():
    counter = CONFIG["counter"]
    try:
        count = int(open(counter).read() or 0)
    except OSError:
        count = 0
    if count >= CONFIG["times"]:
        return False
    with open(counter, "w") as stream:
        stream.write(str(count + 1))
    return True

def damage(path):
    mode = CONFIG["mode"]
    if mode == "truncate":
        size = os.path.getsize(path)
        with open(path, "r+b") as stream:
            stream.truncate(size // 2)
    elif mode == "replace":
        shutil.copyfile(CONFIG["source"], path)
    elif mode == "late":
        hidden = path + ".away"
        os.rename(path, hidden)
        # put back by a process of its own: Blender (and this wrapper) may have exited by then
        subprocess.Popen([sys.executable, "-c", "import os, sys, time; time.sleep(float(sys.argv[1])); "
                          "os.rename(sys.argv[2], sys.argv[3])", str(CONFIG["delay"]), hidden, path],
                         start_new_session=True)

child = subprocess.Popen([CONFIG["blender"], *sys.argv[1:]], stdout=subprocess.PIPE)
for line in child.stdout:
    if line.startswith(b"RENDERPLUS> "):
        try:
            marker = json.loads(line[len(b"RENDERPLUS> "):])
        except ValueError:
            marker = {}
        if marker.get("event") == "frame" and marker.get("frame") == CONFIG["frame"] and damaged_now():
            damage(marker["path"] if CONFIG["which"] == "path" else marker["files"][0])
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
sys.exit(child.wait())
'''


def damaging_blender(folder: Path, *, frame: int, mode: str, times: int = 1, which: str = "path",
                     source: Path | None = None, delay: float = 1.5) -> str:
    """An executable wrapper around the real Blender damaging ``frame`` as told (module doc)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {"blender": BLENDER, "frame": frame, "mode": mode, "times": times, "which": which,
              "source": str(source) if source else "", "delay": delay,
              "counter": str(folder / f"damaged-{mode}-{frame}.count")}
    path = folder / f"damaging-blender-{mode}-{frame}"
    path.write_text(f"#!{sys.executable}\nCONFIG_TEXT = {json.dumps(json.dumps(config))}\n" + _WRAPPER)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def damaged_count(folder: Path, mode: str, frame: int) -> int:
    counter = folder / f"damaged-{mode}-{frame}.count"
    return int(counter.read_text() or 0) if counter.exists() else 0


def black_png(path: Path, size: tuple[int, int] = (64, 48)) -> Path:
    """A whole, valid, uniformly black RGBA PNG (what a GPU out of memory may leave)."""
    width, height = size
    rows = b"".join(b"\x00" + b"\x00\x00\x00\xff" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


NAN_EXR_SCRIPT = r"""
import bpy, sys
path = sys.argv[sys.argv.index("--") + 1]
image = bpy.data.images.new("nan", 64, 48, float_buffer=True)
pixels = [0.5] * (64 * 48 * 4)
pixels[4 * 100] = float("nan")
image.pixels = pixels
settings = bpy.context.scene.render.image_settings
settings.file_format, settings.color_depth = "OPEN_EXR", "32"   # half floats would lose the NaN
image.save_render(path, scene=bpy.context.scene)
"""


def nan_exr(path: Path) -> Path:
    """An EXR written by the real Blender with one NaN pixel in an otherwise grey frame."""
    import subprocess
    subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "1",
                    "--python-expr", NAN_EXR_SCRIPT, "--", str(path)],
                   check=True, capture_output=True, timeout=120)
    return path
