"""A job's Blender run, split into what a session process needs and what one job of it needs.

A session Blender must do exactly what the job's own command line would, so both come from the
same ``command.BlenderCommand``: process-wide options (``-t``, ``--cycles-device`` after ``--``)
go on the session's own command line and are part of the key that decides which jobs may share
a session; per-job options (``-S``, ``-o``, ``-F``, ``-E``, ``-x``, the frames, the job file)
go in the job's line, which the session script applies as Blender's options would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..command import OVERRIDE_SCRIPT, BlenderCommand
from .base import ExecutorError


@dataclass(frozen=True)
class SessionJob:
    blender: str
    blend: str
    process_args: tuple[str, ...]     # before the script: -t N
    script_args: tuple[str, ...]      # after "--", the job file left out: --cycles-device D
    job: dict[str, Any]               # the job line's fields (without "job")


def session_job(command: BlenderCommand) -> SessionJob:
    """What a session needs of ``command``; ExecutorError when a session cannot run it."""
    if os.path.basename(command.script) != OVERRIDE_SCRIPT.name:
        raise ExecutorError(f"a session runs only jobs of {OVERRIDE_SCRIPT.name} (got {command.script!r})")
    job: dict[str, Any] = {"blend": command.blend, "scene": command.scene, "output": command.output,
                           "format": command.format, "engine": command.engine, "extension": True,
                           "frames": frame_fields(command.frame_range), "config": command.config}
    return SessionJob(command.blender, command.blend, command.process_args, command.script_args, job)


def frame_fields(span: tuple[int, int, int] | None) -> dict[str, int] | None:
    """The job line's frames, as Blender's options would set them (``-f N``: ``still``;
    ``-s A -e B [-j S] -a``: ``start``, ``end`` [, ``step``]); None: the job file's ``render_runs``."""
    if span is None:
        return None
    first, last, step = span
    if first == last:
        return {"still": first}
    return {"start": first, "end": last, **({"step": step} if step != 1 else {})}
