# mypy: disable-error-code="valid-type"
"""How the engine runs a scene's batch: skip existing frames, retries, parallel jobs, Blender
sessions (``Scene.renderplus.batch_options``, saved with the file).

These are the recipe's ``settings`` keys of the same names (``skip_existing``, ``retries``,
``parallel``, ``session_reuse``); ``recipe_io`` writes only what differs from the engine's
defaults, so a batch left at them sends the recipe it always sent. A group of its own keeps
``props`` (the job list) small. (Blender reads property definitions from class annotations,
which mypy cannot type: the ``valid-type`` check is off for this file.)
"""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty

from ..batch.recipe.model import MAX_PARALLEL, MAX_RETRIES

# The recipe's session_reuse: null (the engine decides), true, false. recipe_io maps these
# identifiers (it imports no bpy, so it names the same strings).
SESSION_AUTO, SESSION_PER_FILE, SESSION_PER_JOB = "AUTO", "PER_FILE", "PER_JOB"
SESSION_ITEMS = [
    (SESSION_AUTO, "Automatic",
     "One Blender for consecutive jobs of a file only where it is known to give the same pixels "
     "(Cycles, EEVEE, Workbench) and jobs render one at a time; otherwise one Blender per job"),
    (SESSION_PER_FILE, "One per File",
     "Consecutive jobs of the same .blend share one Blender: the file is opened, and its "
     "textures and shaders loaded, once instead of for every job (seconds saved per job)"),
    (SESSION_PER_JOB, "One per Job",
     "Every job starts a fresh Blender: slower to start, but nothing a job leaves behind can "
     "change the next one"),
]


class RenderPlusBatchOptions(bpy.types.PropertyGroup):
    """The engine's batch settings; the defaults are the engine's own."""

    skip_existing: BoolProperty(
        name="Skip Existing Frames", default=False,
        description="Render only the frames whose file is missing or no longer reads back whole: "
                    "frames already on disk are kept, so rendering again finishes what is left")
    retries: IntProperty(
        name="Retries", default=1, min=0, max=MAX_RETRIES,
        description="How often a job is started again when its Blender crashes (0: never). A "
                    "missing file or camera, a bad override, a failed hook or a cancel is never "
                    "retried")
    parallel_auto: BoolProperty(
        name="Automatic Parallel Jobs", default=False,
        description="Let Render+ choose how many jobs render at once: two for CPU renders on a "
                    "computer with 2 or more cores, one per GPU for GPU renders")
    parallel: IntProperty(
        name="Parallel Jobs", default=1, min=1, max=MAX_PARALLEL, soft_max=16,
        description="How many jobs render at once, each in its own Blender. They share this "
                    "computer's CPU, GPU and memory: more than 1 helps when one job leaves the "
                    "machine idle (small frames, many short jobs), not for one heavy render")
    session_reuse: EnumProperty(
        name="Blender Sessions", items=SESSION_ITEMS, default=SESSION_AUTO,
        description="Whether consecutive jobs of one .blend render in one Blender session")


CLASSES = (RenderPlusBatchOptions,)
