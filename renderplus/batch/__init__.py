"""Render+'s batch engine: pure Python, no bpy. See docs/engine-api.md."""
