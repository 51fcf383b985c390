"""A job's frames as farm chunks, and the command line each chunk runs on a node.

Every task runs the argv a local run of the job would run (``command.build_argv``), so the
override script, the overrides and the markers work the same; only what a node needs changes:
the farm's Blender binary, the staged .blend / script / job file on shared storage, an output
given relative to the .blend made absolute when the .blend was packed elsewhere, and the chunk's
frames (Blender's own options when they can say them, else the chunk's job file's
``render_runs``, as ``command.frame_args`` decides).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ...command import CONFIG_FLAG, frame_args
from ...frames import FrameSet, Run
from .base import FarmError

_FRAME_OPTIONS_WITH_VALUE = frozenset({"-f", "-s", "-e", "-j"})


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


def chunk_argv(argv: Sequence[str], frames: FrameSet, *, blender: str, blendfile: str,
               script: str, config: str, output_base: str | None = None) -> tuple[str, ...]:
    """The job's argv for one chunk on a node. ``output_base``: the original .blend's folder,
    given when the .blend was packed (a ``//`` output must still land beside the original)."""
    args = list(argv)
    if len(args) < 3 or args[1] != "-b":
        raise FarmError("a farm task needs a 'blender -b FILE ...' command line")
    try:
        split = args.index("--")
    except ValueError:
        raise FarmError(f"the command line names no job file ({CONFIG_FLAG} FILE)") from None
    head, tail = args[3:split], args[split + 1:]
    options: list[str] = []
    index = 0
    while index < len(head):
        option = head[index]
        if option == "-a":
            index += 1
            continue
        if index + 1 >= len(head):
            raise FarmError(f"option {option!r} of the job's command line has no value")
        value = head[index + 1]
        index += 2
        if option in _FRAME_OPTIONS_WITH_VALUE:
            continue
        if option == "--python":
            value = script
        elif option == "-o" and value.startswith("//") and output_base is not None:
            value = os.path.join(output_base, value[2:])
        options += [option, value]
    options += frame_args(frames) or []
    if CONFIG_FLAG not in tail or tail.index(CONFIG_FLAG) + 1 >= len(tail):
        raise FarmError(f"the command line names no job file ({CONFIG_FLAG} FILE)")
    at = tail.index(CONFIG_FLAG)
    tail = [*tail[:at], CONFIG_FLAG, config, *tail[at + 2:]]
    return (blender, "-b", blendfile, *options, "--", *tail)


def option_value(argv: Sequence[str], option: str) -> str | None:
    """The value of ``option`` before ``--`` in a Blender argv, or None."""
    for index, arg in enumerate(argv):
        if arg == "--":
            return None
        if arg == option and index + 1 < len(argv):
            return argv[index + 1]
    return None


def config_path(argv: Sequence[str]) -> str:
    args = list(argv)
    if CONFIG_FLAG in args and args.index(CONFIG_FLAG) + 1 < len(args):
        return args[args.index(CONFIG_FLAG) + 1]
    raise FarmError(f"the command line names no job file ({CONFIG_FLAG} FILE)")
