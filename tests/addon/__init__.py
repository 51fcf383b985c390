"""Tests of the Blender add-on: packaging, and the add-on running in real Blender."""
