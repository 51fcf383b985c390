"""A job's frames as farm chunks, and the command line each chunk runs on a node.

Every task runs the command a local run of the job would run (``command.BlenderCommand``), so
the override script, the overrides and the markers work the same; only what a node needs
changes: the farm's Blender binary, the staged .blend / script / job file on shared storage, an
output given relative to the .blend made absolute when the .blend was packed elsewhere, and the
chunk's frames (Blender's own options when they can say them, else the chunk's job file's
``render_runs``, as ``command.frame_args`` decides).

With the recipe's ``validate``, a task then checks the frames it wrote on the node
(``check_command``: ``check_frames.py --from-log`` reads the frame markers of the task's own
output), so that a truncated frame is caught where it was written; its ``frame_checked``
markers reach the job loop with the rest of the task's output.
"""

from __future__ import annotations

import dataclasses
import os

from ...command import BlenderCommand
from ...frames import FrameSet, Run
from ...recipe.model import ValidateSettings
from ...script_paths import CHECK_SCRIPT


def chunk_frames(frames: FrameSet, size: int) -> list[FrameSet]:
    """Split ``frames`` in order into chunks of at most ``size`` frames, without expanding
    the runs (a chunk may hold pieces of several runs)."""
    if size < 1:
        raise ValueError("a chunk holds at least one frame")
    chunks: list[FrameSet] = []
    current: list[Run] = []
    room = size
    for first, last, step in frames.runs:
        while first <= last:
            count = min(room, (last - first) // step + 1)
            end = first + (count - 1) * step
            current.append((first, end, step))
            room -= count
            first = end + step
            if room == 0:
                chunks.append(FrameSet(current))
                current, room = [], size
    if current:
        chunks.append(FrameSet(current))
    return chunks


def chunk_command(command: BlenderCommand, frames: FrameSet, *, blender: str, blendfile: str,
                  script: str, config: str, output_base: str | None = None) -> BlenderCommand:
    """The job's command for one chunk on a node. ``output_base``: the original .blend's folder,
    given when the .blend was packed (a ``//`` output must still land beside the original)."""
    output = command.output
    if output.startswith("//") and output_base is not None:
        output = os.path.join(output_base, output[2:])
    return dataclasses.replace(command, blender=blender, blend=blendfile, script=script, config=config,
                               frames=frames, output=output)


def check_command(validate: ValidateSettings, *, blender: str, scripts_dir: str,
                  log: str) -> tuple[str, ...]:
    """The node's check of the frames a task wrote, named by the frame markers in its output
    ``log``: the structural check always, black and NaN frames refused with ``black``."""
    flags = ("--black", "--nan") if validate.black else ()
    return (blender, "-b", "--factory-startup", "--python",
            os.path.join(scripts_dir, CHECK_SCRIPT.name), "--", *flags, "--from-log", log)
