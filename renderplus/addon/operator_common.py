"""What the add-on's operator modules share: the set Blender's operator methods return, and the
report of a recipe the validator refused (the batch's Render and the recipe files both build one).
"""

from __future__ import annotations

import re
from typing import Any, Literal

import bpy

from ..batch.recipe import RecipeError
from . import recipe_io

Result = set[Literal["RUNNING_MODAL", "CANCELLED", "FINISHED", "PASS_THROUGH", "INTERFACE"]]


def report_recipe_error(op: bpy.types.Operator, exc: RecipeError, what: str, jobs: Any = ()) -> None:
    """The validator's problems; with the scene's ``jobs``, ``jobs[6]`` reads "Job 'Cam Left'"."""
    text = recipe_io.describe_recipe_error(exc.errors)
    if len(jobs):
        def name(match: re.Match[str]) -> str:
            index = int(match.group(1))
            if index >= len(jobs):
                return match.group(0)
            return f"Job {jobs[index].name!r}: " if match.group(2) else f"Job {jobs[index].name!r}"

        text = re.sub(r"\bjobs\[(\d+)\](\.?)", name, text)
    op.report({"ERROR"}, f"{what}: {len(exc.errors)} problem(s)\n{text}")
