"""Scripts that run inside the Blender processes Render+ starts (``blender -b ... --python``).

The batch engine passes their paths to Blender; they use the standard library and bpy only and
must work on Blender 2.80 to 5.x. One exception to "not imported here": the naming rule of
``previews`` (and its list of formats a browser shows) is imported by the dashboard's frame
server and the panel's thumbnails, so the three agree by construction; ``previews`` imports bpy
only inside the function that needs it. Likewise ``override_paths`` (no bpy at all): the job
script applies custom overrides by its rules and the add-on's check before Render judges them by
the same, so a path the check lets through is one the job can walk.
"""
