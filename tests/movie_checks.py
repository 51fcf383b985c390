"""What a test reads back from a movie (FFprobe, FFmpeg) and the scenes movie tests render.

``probe`` counts the frames by decoding them (not the container's claim); ``pixels`` decodes a
movie or an image to 8-bit RGB with FFmpeg, the same decoder for both, so a comparison measures
Render+'s colour path and not two decoders; ``difference`` is the mean and the 99th percentile
of the absolute difference, in 8-bit levels.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HDR_SCENE = r"""
import bpy
scene = bpy.context.scene
for obj in list(scene.objects):
    if obj.type == "MESH":
        bpy.data.objects.remove(obj)
bpy.ops.mesh.primitive_plane_add(size=40.0, location=(0.0, 0.0, 0.0))
plane = bpy.context.active_object
material = bpy.data.materials.new("Glow")
material.use_nodes = True
nodes, links = material.node_tree.nodes, material.node_tree.links
nodes.clear()
output = nodes.new("ShaderNodeOutputMaterial")
emission = nodes.new("ShaderNodeEmission")
gradient = nodes.new("ShaderNodeTexGradient")
ramp = nodes.new("ShaderNodeValToRGB")
ramp.color_ramp.elements[0].color = (0.02, 0.05, 0.4, 1.0)
ramp.color_ramp.elements[1].color = (1.0, 0.55, 0.1, 1.0)
links.new(gradient.outputs["Fac"], ramp.inputs["Fac"])
links.new(ramp.outputs["Color"], emission.inputs["Color"])
links.new(emission.outputs["Emission"], output.inputs["Surface"])
emission.inputs["Strength"].default_value = 1.0
emission.inputs["Strength"].keyframe_insert("default_value", frame=1)
emission.inputs["Strength"].default_value = 6.0    # well above 1.0: the view transform matters
emission.inputs["Strength"].keyframe_insert("default_value", frame=3)
plane.data.materials.append(material)
camera = bpy.data.objects["Camera"]
camera.location, camera.rotation_euler = (0.0, 0.0, 10.0), (0.0, 0.0, 0.0)
scene.render.engine = "CYCLES"
scene.cycles.samples = 1
scene.cycles.use_denoising = False
scene.cycles.use_adaptive_sampling = False
scene.cycles.device = "CPU"
for layer in scene.view_layers:
    layer.cycles.use_denoising = False
scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = 96, 64, 100
scene.frame_start, scene.frame_end = 1, 3
scene.render.fps, scene.render.fps_base = 24, 1.0
scene.render.use_compositing = False
scene.render.use_sequencer = False
scene.view_settings.view_transform = "Filmic"
scene.view_settings.exposure = 0.7
"""


SOUND_SCENE = """
import bpy
scene = bpy.context.scene
editor = scene.sequence_editor_create()
strips = getattr(editor, "strips", None) or editor.sequences
strips.new_sound("tone", {tone!r}, 1, 1)
"""


def blend_with_sound(folder: Path) -> Path:
    """A 12-frame Workbench animation (24 fps) whose sequencer plays a 2 s tone from frame 1."""
    from tests.blendfiles import make_blend
    from tests.versions.conftest import blender_script
    tone = folder / "tone.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                    str(tone)], check=True, timeout=60)
    source = make_blend(folder, engine="BLENDER_WORKBENCH", size=(64, 48), frames=12)
    return blender_script("blender", source, folder / "sound.blend", SOUND_SCENE.format(tone=str(tone)))


@dataclass(frozen=True)
class Probed:
    codec: str
    frames: int
    duration: float
    width: int
    height: int
    pix_fmt: str
    audio: str | None


def probe(movie: str | Path) -> Probed:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,codec_name,nb_read_frames,width,height,pix_fmt:format=duration",
         "-of", "json", str(movie)], capture_output=True, text=True, timeout=60, check=True)
    data = json.loads(result.stdout)
    video = next(s for s in data["streams"] if s["codec_type"] == "video")
    audio = next((s["codec_name"] for s in data["streams"] if s["codec_type"] == "audio"), None)
    return Probed(video["codec_name"], int(video["nb_read_frames"]), float(data["format"]["duration"]),
                  int(video["width"]), int(video["height"]), video.get("pix_fmt", ""), audio)


def pixels(source: str | Path, width: int, height: int) -> np.ndarray:
    """Every frame of a movie (or one image) as uint8 RGB, shape (frames, height, width, 3);
    the picture cropped to ``width`` x ``height`` (a movie padded to even sizes)."""
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(source), "-vf", f"crop={width}:{height}:0:0",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, timeout=120, check=True)
    frames = np.frombuffer(result.stdout, dtype=np.uint8)
    return frames.reshape(-1, height, width, 3)


def difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean and 99th percentile of |a - b|, in 8-bit levels."""
    delta = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(delta.mean()), float(np.percentile(delta, 99))
