"""A .blend with a relative (``//``) texture, made by the real Blender, and a BMP pixel reader."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

_SCRIPT = r"""
import bpy, json, sys, os
opts = json.loads(sys.argv[sys.argv.index("--") + 1])
folder = opts["folder"]
os.makedirs(os.path.join(folder, "tex"), exist_ok=True)
image = bpy.data.images.new("red", 4, 4)
image.pixels = [1.0, 0.0, 0.0, 1.0] * 16
image.filepath_raw = os.path.join(folder, "tex", "red.png")
image.file_format = "PNG"
image.save()
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.render.resolution_x, scene.render.resolution_y = 32, 24
scene.render.resolution_percentage = 100
scene.view_settings.view_transform = "Standard"
cam = bpy.data.objects["Camera"]
cam.location, cam.rotation_euler = (0.0, 0.0, 6.0), (0.0, 0.0, 0.0)
material = bpy.data.materials.new("tex")
material.use_nodes = True
nodes, links = material.node_tree.nodes, material.node_tree.links
nodes.clear()
tex = nodes.new("ShaderNodeTexImage")
tex.image = image
emit = nodes.new("ShaderNodeEmission")
out = nodes.new("ShaderNodeOutputMaterial")
links.new(tex.outputs["Color"], emit.inputs["Color"])
links.new(emit.outputs["Emission"], out.inputs["Surface"])
cube = bpy.data.objects["Cube"]
cube.scale = (3.0, 3.0, 1.0)
cube.data.materials.clear()
cube.data.materials.append(material)
bpy.ops.wm.save_as_mainfile(filepath=os.path.join(folder, "textured.blend"))
image.filepath = "//tex/red.png"
bpy.ops.wm.save_mainfile()
"""


def make_textured_blend(folder: Path) -> tuple[Path, Path]:
    """``folder/textured.blend`` whose cube shows ``//tex/red.png`` (pure red, emission)."""
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([shutil.which("blender") or "blender", "-b", "--factory-startup",
                             "--python-exit-code", "1", "--python-expr", _SCRIPT, "--",
                             json.dumps({"folder": str(folder)})],
                            capture_output=True, text=True, timeout=120)
    blend = folder / "textured.blend"
    if result.returncode != 0 or not blend.exists():
        raise RuntimeError(f"could not make {blend}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return blend, folder / "tex" / "red.png"


def pixel_at_centre(path: str) -> tuple[int, int, int]:
    """The centre pixel of an uncompressed 24/32-bit BMP as (r, g, b)."""
    data = Path(path).read_bytes()
    offset, = struct.unpack_from("<I", data, 10)
    width, height = struct.unpack_from("<ii", data, 18)
    bits, = struct.unpack_from("<H", data, 28)
    size = bits // 8
    row = (width * size + 3) // 4 * 4
    x, y = width // 2, abs(height) // 2
    blue, green, red = data[offset + y * row + x * size: offset + y * row + x * size + 3]
    return red, green, blue
