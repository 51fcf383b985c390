"""Tiny .blend fixtures made at test time by the real Blender 3.4 (docs/blender.md, Files from
newer Blender: 3.4 cannot open newer files, so fixtures are never checked in; Debian's build
has no OpenImageDenoise, so denoising is switched off: docs/blender.md, Exit codes and errors).

``make_blend(path, engine=..., ...)`` runs ``blender -b --factory-startup`` once (about 2 s) and
caches the result per parameter set for the whole test session.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

BLENDER = shutil.which("blender") or "/usr/bin/blender"

_SCRIPT = r"""
import bpy, json, sys
opts = json.loads(sys.argv[sys.argv.index("--") + 1])
scene = bpy.context.scene
scene.render.engine = opts["engine"]
scene.render.resolution_x, scene.render.resolution_y = opts["size"]
scene.render.resolution_percentage = 100
scene.frame_start, scene.frame_end = 1, opts["frames"]
scene.render.image_settings.file_format = "PNG"
scene.render.use_compositing = False
scene.render.use_sequencer = False
if opts["engine"] == "CYCLES":
    scene.cycles.samples = opts["samples"]
    scene.cycles.use_denoising = False
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.device = "CPU"
    for layer in scene.view_layers:
        layer.cycles.use_denoising = False
elif opts["engine"] == "BLENDER_EEVEE":
    scene.eevee.taa_render_samples = opts["samples"]
cube = bpy.data.objects["Cube"]
cube.location.z = 0.0
cube.keyframe_insert("location", frame=1)
cube.location.z = 1.0
cube.keyframe_insert("location", frame=max(2, opts["frames"]))
cam = bpy.data.objects["Camera"]
for name in opts["extra_cameras"]:
    data = bpy.data.cameras.new(name)
    obj = bpy.data.objects.new(name, data)
    obj.location = (0.0, -8.0, 2.0)
    obj.rotation_euler = (1.35, 0.0, 0.0)
    scene.collection.objects.link(obj)
for name in opts["extra_scenes"]:
    new = scene.copy()  # a linked copy: same objects, own settings
    new.name = name
    new.use_fake_user = True  # otherwise nothing uses it and it is not saved
for name in opts["extra_worlds"]:
    bpy.data.worlds.new(name).use_fake_user = True
for name in opts["extra_layers"]:
    scene.view_layers.new(name)
for frame, name in opts["markers"]:
    scene.timeline_markers.new(name, frame=frame)
bpy.ops.wm.save_as_mainfile(filepath=opts["path"], compress=opts["compress"])
"""

_cache: dict[str, Path] = {}


def make_blend(directory: Path, *, engine: str = "CYCLES", size: tuple[int, int] = (64, 48),
               samples: int = 4, frames: int = 3, extra_cameras: tuple[str, ...] = (),
               extra_scenes: tuple[str, ...] = (), extra_worlds: tuple[str, ...] = (),
               extra_layers: tuple[str, ...] = (), markers: tuple[tuple[int, str], ...] = (),
               compress: bool = False, name: str | None = None) -> Path:
    """A .blend saved by the real Blender with the default cube scene set up as asked."""
    opts = {"engine": engine, "size": list(size), "samples": samples, "frames": frames,
            "extra_cameras": list(extra_cameras), "extra_scenes": list(extra_scenes),
            "extra_worlds": list(extra_worlds), "extra_layers": list(extra_layers),
            "markers": [list(m) for m in markers], "compress": compress}
    key = hashlib.sha1(json.dumps(opts, sort_keys=True).encode()).hexdigest()[:12]
    target = Path(directory) / (name or f"tiny_{engine.lower()}_{key}.blend")
    cached = _cache.get(key)
    if cached is not None and cached.exists():
        if cached != target:
            shutil.copyfile(cached, target)
        return target
    opts["path"] = str(target)
    result = subprocess.run(
        [BLENDER, "-b", "--factory-startup", "--python-exit-code", "1",
         "--python-expr", _SCRIPT, "--", json.dumps(opts)],
        capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or not target.exists():
        raise RuntimeError(f"could not make fixture {target}:\n{result.stdout}\n{result.stderr}")
    _cache[key] = target
    return target


def file_output_script(base: str) -> str:
    """Python for Blender (3.4, the fixtures' version) that adds a compositor File Output node
    writing the render layer's image as ``<base>pass_####.png``."""
    return f"""
import bpy
scene = bpy.context.scene
scene.render.use_compositing = True
scene.use_nodes = True
tree = scene.node_tree
layers = next(n for n in tree.nodes if n.type == "R_LAYERS")
node = tree.nodes.new("CompositorNodeOutputFile")
node.base_path = {base!r}
node.file_slots[0].path = "pass_"
tree.links.new(layers.outputs["Image"], node.inputs[0])
"""
