"""Frames written by the real Blender, for the frame checks' tests (and the bench, at 1080p).

``write_frames(folder)`` renders the default cube once (Cycles, 1 sample, two view layers with
several passes, a compositor File Output node) and saves the render in every format the checks
know, plus a black frame (no light, a black world), a multilayer EXR with one black view layer
of two, and an EXR holding a NaN and an infinity.
About 3 s with Blender 3.4; each folder is made once per test session.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.blendfiles import BLENDER

# name -> (Blender's file format, image settings)
FORMATS: dict[str, tuple[str, dict[str, str]]] = {
    "frame.png": ("PNG", {"color_mode": "RGBA"}),
    "frame.jpg": ("JPEG", {"color_mode": "RGB"}),
    "frame.exr": ("OPEN_EXR", {"color_mode": "RGBA", "exr_codec": "ZIP"}),
    "frame_rle.exr": ("OPEN_EXR", {"color_mode": "RGBA", "exr_codec": "RLE"}),
    "frame_none.exr": ("OPEN_EXR", {"color_mode": "RGBA", "exr_codec": "NONE"}),
    "frame_zips.exr": ("OPEN_EXR", {"color_mode": "RGBA", "exr_codec": "ZIPS"}),
    "multilayer.exr": ("OPEN_EXR_MULTILAYER", {"exr_codec": "ZIP"}),
    "multilayer_piz.exr": ("OPEN_EXR_MULTILAYER", {"exr_codec": "PIZ"}),
    "multilayer_dwaa.exr": ("OPEN_EXR_MULTILAYER", {"exr_codec": "DWAA"}),
    "frame.tif": ("TIFF", {"color_mode": "RGBA"}),
    "frame.webp": ("WEBP", {"color_mode": "RGBA"}),
    "frame.jp2": ("JPEG2000", {"color_mode": "RGBA"}),
    "frame.dpx": ("DPX", {"color_mode": "RGB"}),
    "frame.cin": ("CINEON", {"color_mode": "RGB"}),
    "frame.bmp": ("BMP", {"color_mode": "RGB"}),
    "frame.tga": ("TARGA_RAW", {"color_mode": "RGBA"}),
    "frame.hdr": ("HDR", {"color_mode": "RGB"}),
}
FILE_OUTPUT = "file_output/pass_0001.exr"   # written by the File Output node
BLACK = "black.png"
BLACK_EXR = "black.exr"
BLACK_MULTILAYER = "black_multilayer.exr"
ONE_BLACK_LAYER = "one_black_layer.exr"      # view layer "Second" black, "ViewLayer" not
NAN = "nan.exr"                              # one NaN, one infinity

_SCRIPT = r"""
import array, bpy, json, os, sys
opts = json.loads(sys.argv[sys.argv.index("--") + 1])
out = opts["folder"]
scene = bpy.context.scene
render = scene.render
render.engine = "CYCLES"
render.resolution_x, render.resolution_y = opts["size"]
render.resolution_percentage = 100
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.cycles.device = "CPU"
first = scene.view_layers[0]
for name in ("z", "normal", "diffuse_color", "glossy_direct", "emit", "ambient_occlusion", "mist"):
    setattr(first, "use_pass_" + name, True)
second = scene.view_layers.new("Second")
second.use_pass_z = True
for layer in scene.view_layers:
    layer.cycles.use_denoising = False
render.use_compositing = True
scene.use_nodes = True
tree = scene.node_tree
layers = next(n for n in tree.nodes if n.type == "R_LAYERS")
node = tree.nodes.new("CompositorNodeOutputFile")
node.base_path = os.path.join(out, "file_output")
node.format.file_format = "OPEN_EXR"
node.file_slots[0].path = "pass_"
tree.links.new(layers.outputs["Image"], node.inputs[0])
bpy.ops.render.render()
result = bpy.data.images["Render Result"]
settings = render.image_settings
for name, (file_format, values) in opts["formats"].items():
    settings.file_format = file_format
    for key, value in values.items():
        setattr(settings, key, value)
    result.save_render(os.path.join(out, name), scene=scene)
if opts["bad"]:
    scene.use_nodes = False
    render.use_compositing = False
    scene.world.use_nodes = False
    scene.world.color = (0.0, 0.0, 0.0)
    second.layer_collection.children["Collection"].exclude = True   # nothing in it: black
    bpy.ops.render.render()
    settings.file_format = "OPEN_EXR_MULTILAYER"
    result.save_render(os.path.join(out, "one_black_layer.exr"), scene=scene)
    bpy.data.objects.remove(bpy.data.objects["Light"])
    scene.world.use_nodes = False
    scene.world.color = (0.0, 0.0, 0.0)
    bpy.ops.render.render()
    for name, file_format in (("black.png", "PNG"), ("black.exr", "OPEN_EXR"),
                              ("black_multilayer.exr", "OPEN_EXR_MULTILAYER")):
        settings.file_format = file_format
        result.save_render(os.path.join(out, name), scene=scene)
    width, height = opts["size"]
    image = bpy.data.images.new("nan", width, height, alpha=True, float_buffer=True)
    pixels = array.array("f", [0.5]) * (width * height * 4)
    pixels[4 * 10] = float("nan")
    pixels[4 * 20 + 1] = float("inf")
    image.pixels.foreach_set(pixels)
    plain = bpy.data.scenes.new("plain")   # no dither, no render: the pixels as they are
    plain.render.dither_intensity = 0.0
    settings = plain.render.image_settings
    settings.file_format = "OPEN_EXR"
    settings.color_mode = "RGBA"
    settings.color_depth = "32"
    image.save_render(os.path.join(out, "nan.exr"), scene=plain)
"""


def write_frames(folder: Path, *, size: tuple[int, int] = (64, 48), bad: bool = True,
                 formats: dict[str, tuple[str, dict[str, str]]] | None = None,
                 blender: str = BLENDER) -> Path:
    """``folder`` filled with frames the real Blender wrote (see the module's docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    opts = {"folder": str(folder), "size": list(size), "bad": bad,
            "formats": FORMATS if formats is None else formats}
    result = subprocess.run([blender, "-b", "--factory-startup", "--python-exit-code", "1",
                             "--python-expr", _SCRIPT, "--", json.dumps(opts)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"could not write the frames:\n{result.stdout}\n{result.stderr}")
    return folder
