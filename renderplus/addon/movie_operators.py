# mypy: disable-error-code="valid-type"
"""The Play button of a made movie: opens the movie (or its folder) with the system's own
player or file manager, through Blender's ``wm.path_open``.

An operator of its own rather than ``wm.path_open`` in the panel: a movie deleted or moved
since the batch made it gets a sentence that names it, not a silent nothing.
"""

from __future__ import annotations

import os
from typing import Any

import bpy
from bpy.props import BoolProperty, StringProperty

from .operator_common import Result


class RENDERPLUS_OT_movie_open(bpy.types.Operator):
    """Play the movie made from the job's frames, in the system's player"""

    bl_idname = "renderplus.movie_open"
    bl_label = "Play Movie"

    filepath: StringProperty(name="Movie", subtype="FILE_PATH", options={"SKIP_SAVE"})
    folder: BoolProperty(name="Folder", description="Open the folder that holds the movie",
                         options={"SKIP_SAVE"})

    @classmethod
    def description(cls, context: bpy.types.Context, properties: Any) -> str:
        """The folder button says what it opens (Blender 2.81+ asks for this per button)."""
        if properties.folder:
            return "Open the folder that holds the movie"
        return "Play the movie made from the job's frames, in the system's player"

    def execute(self, context: bpy.types.Context) -> Result:
        movie = self.filepath
        if not movie or not os.path.isfile(movie):
            self.report({"ERROR"}, f"The movie is not there any more: {movie or '(no path)'}")
            return {"CANCELLED"}
        target = os.path.dirname(movie) if self.folder else movie
        result: Result = bpy.ops.wm.path_open(filepath=target)
        return result


CLASSES = (RENDERPLUS_OT_movie_open,)

register, unregister = bpy.utils.register_classes_factory(CLASSES)
