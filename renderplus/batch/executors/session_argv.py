"""A job's ``blender -b`` command line, split into what a session process needs and what one job
of the session needs.

``command.build_argv`` writes the argv a process-per-job run executes. A session Blender must do
exactly what that argv would, so the argv is read back here rather than rebuilt from the recipe:
process-wide options (``-t``, ``--cycles-device`` after ``--``) go on the session's own command
line and are part of the key that decides which jobs may share a session; per-job options
(``-S``, ``-o``, ``-F``, ``-E``, ``-x``, the frames, the settings file) go in the job's line.
An option this module does not know is an error (never silently dropped): a job whose argv
grows a new option cannot run in a session until it is taught here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..command import CONFIG_FLAG, OVERRIDE_SCRIPT
from .base import ExecutorError

_JOB_OPTIONS = {"-S": "scene", "-o": "output", "-F": "format", "-E": "engine", "-x": "extension"}
_FRAME_OPTIONS = {"-s": "start", "-e": "end", "-j": "step", "-f": "still"}


@dataclass(frozen=True)
class SplitArgv:
    blender: str
    blend: str
    process_args: tuple[str, ...]     # before the script: -t N
    script_args: tuple[str, ...]      # after "--", the settings file left out: --cycles-device D
    job: dict[str, Any]               # the job line's fields (without "job")


def split_argv(argv: tuple[str, ...] | list[str]) -> SplitArgv:
    """Read a ``build_argv`` command line; ExecutorError naming what a session cannot do."""
    args = list(argv)
    if len(args) < 3 or args[1] != "-b":
        raise ExecutorError("a session needs a 'blender -b FILE ...' command line")
    blender, blend = args[0], args[2]
    job: dict[str, Any] = {"blend": blend, "scene": "", "output": "", "format": "", "engine": "",
                           "extension": None, "frames": None, "config": ""}
    frames: dict[str, int] = {}
    animation = False
    process_args: list[str] = []
    script = ""
    index = 3
    while index < len(args) and args[index] != "--":
        option = args[index]
        if option == "-a":
            animation = True
            index += 1
            continue
        if index + 1 >= len(args):
            raise ExecutorError(f"option {option!r} has no value")
        value = args[index + 1]
        index += 2
        if option in _JOB_OPTIONS:
            job[_JOB_OPTIONS[option]] = value if option != "-x" else value != "0"
        elif option in _FRAME_OPTIONS:
            frames[_FRAME_OPTIONS[option]] = _integer(option, value)
        elif option == "-t":
            process_args += [option, value]
        elif option == "--python":
            script = value
        elif option != "--python-exit-code":
            raise ExecutorError(f"a session cannot run option {option!r} of this job's command line")
    if os.path.basename(script) != OVERRIDE_SCRIPT.name:
        raise ExecutorError(f"a session runs only jobs of {OVERRIDE_SCRIPT.name} (got {script!r})")
    job["frames"] = _frames(frames, animation)
    script_args: list[str] = []
    rest = args[index + 1:]
    position = 0
    while position < len(rest):
        if rest[position] == CONFIG_FLAG and position + 1 < len(rest):
            job["config"] = rest[position + 1]
            position += 2
        else:
            script_args.append(rest[position])
            position += 1
    if not job["config"]:
        raise ExecutorError(f"the command line names no job settings ({CONFIG_FLAG} FILE)")
    return SplitArgv(blender, blend, tuple(process_args), tuple(script_args), job)


def _integer(option: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ExecutorError(f"option {option} {value!r}: a session takes one frame number") from None


def _frames(frames: dict[str, int], animation: bool) -> dict[str, int] | None:
    if "still" in frames:
        if animation or len(frames) > 1:
            raise ExecutorError("a command line with both -f and -a/-s/-e cannot run in a session")
        return {"still": frames["still"]}
    if animation:
        return frames
    return None  # no frame options: the settings file's render_runs, or nothing to render
