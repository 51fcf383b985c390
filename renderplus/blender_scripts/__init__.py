"""Scripts that run inside the Blender processes Render+ starts (``blender -b ... --python``).

They are not part of the add-on's import graph: the batch engine passes their paths to Blender.
They use the standard library and bpy only and must work on Blender 2.80 to 5.x.
"""
