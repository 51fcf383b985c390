"""Builds the demo scene inside Blender (run by run_demo.py with ``blender -b --python``).

A small still life, two cameras, a second world, a foreground view layer and timeline markers,
saved with the Blender that will render it (3.4 cannot read files saved by newer versions).
Denoising is off: Debian's Blender is built without OpenImageDenoise.
"""

import math
import sys

import bpy

path = sys.argv[sys.argv.index("--") + 1]
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.name = "Studio"
render = scene.render
render.engine = "CYCLES"
render.resolution_x, render.resolution_y, render.resolution_percentage = 320, 180, 100
render.image_settings.file_format = "PNG"
render.use_compositing = False
render.use_sequencer = False
scene.frame_start, scene.frame_end = 1, 24
scene.cycles.samples = 16
scene.cycles.use_denoising = False
scene.cycles.device = "CPU"
scene.view_layers[0].name = "Beauty"
scene.view_layers[0].cycles.use_denoising = False


def material(name, color, roughness=0.4):
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes["Principled BSDF"]
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    return mat


bpy.ops.mesh.primitive_plane_add(size=20)
bpy.context.object.data.materials.append(material("Floor", (0.8, 0.78, 0.74), 0.8))
bpy.ops.mesh.primitive_monkey_add(location=(0, 0, 1.0), rotation=(0, 0, math.radians(20)))
monkey = bpy.context.object
monkey.name = "Suzanne"
bpy.ops.object.shade_smooth()
monkey.data.materials.append(material("Orange", (0.9, 0.35, 0.05), 0.3))
monkey.keyframe_insert("rotation_euler", frame=1)
monkey.rotation_euler.z = math.radians(200)
monkey.keyframe_insert("rotation_euler", frame=24)
for index, (x, color) in enumerate([(-2.2, (0.1, 0.3, 0.9)), (2.2, (0.2, 0.8, 0.3))]):
    bpy.ops.mesh.primitive_uv_sphere_add(radius=0.6, location=(x, 0.6, 0.6))
    bpy.ops.object.shade_smooth()
    bpy.context.object.name = f"Ball{index + 1}"
    bpy.context.object.data.materials.append(material(f"Ball{index + 1}", color, 0.2))

bpy.ops.object.light_add(type="AREA", location=(3, -3, 5))
bpy.context.object.data.energy = 800
bpy.context.object.data.size = 3
bpy.context.object.rotation_euler = (math.radians(40), 0, math.radians(45))

bpy.ops.object.camera_add(location=(0, -7.5, 2.6), rotation=(math.radians(76), 0, 0))
bpy.context.object.name = "CamFront"
scene.camera = bpy.context.object
bpy.ops.object.camera_add(location=(6, -5, 4.5), rotation=(math.radians(62), 0, math.radians(50)))
bpy.context.object.name = "CamSide"

for name, color in (("Daylight", (0.55, 0.7, 0.95)), ("Dusk", (0.6, 0.3, 0.25))):
    world = bpy.data.worlds.new(name)
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (*color, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = 0.6
    world.use_fake_user = True
scene.world = bpy.data.worlds["Daylight"]
scene.view_layers.new("Foreground")
scene.timeline_markers.new("intro", frame=1)
scene.timeline_markers.new("turn", frame=12)
bpy.ops.wm.save_as_mainfile(filepath=path)
