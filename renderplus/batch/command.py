"""A job as a Blender command line, and the settings its in-Blender override script applies.

Blender applies its options left to right, so ``-o``, ``-F``, ``-E``, ``-t``, ``-x`` and the
script come before the frame options (``-f 1 -o X`` would render before ``-o`` applies), and
what follows ``--`` is for scripts (``--cycles-device``, Render+'s ``--renderplus-job``). The
argv is a list, never a shell string.

Blender's own options cannot express everything a job asks for (camera, world, view layer,
border, samples, custom overrides), and some fail silently (``-S NoSuchScene`` renders the
active scene). So every job also runs ``blender_scripts/job_overrides.py`` with
``--python-exit-code`` in front of it. The script reads the job's settings from a JSON file
(``override_config``: data only), applies them, fails the job with a message naming what is
missing, prints one marker line per written frame (``markers.py``), which is how progress works
for any engine and Blender version, and ends its process group if Render+ itself dies.

What this module decides for one run is a ``BlenderCommand`` (the .blend, scene, frames,
engine, output, format, threads, device, the job file): executors read its fields (a session
sends them as a job line, a farm swaps the files and frames for a node) and a process per job
executes its ``argv``; nobody parses an argv back.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .frames import FrameSet
from .markers import OVERRIDE_EXIT_CODE
from .recipe import Job, Recipe, split_data_path
from .script_paths import OVERRIDE_SCRIPT

CONFIG_FLAG = "--renderplus-job"


def output_pattern(recipe: Recipe, job: Job) -> str:
    """The ``-o`` value: the job's output made absolute, with ``#`` frame padding added when
    the path has none (``//`` paths stay relative to the .blend, as Blender reads them)."""
    output = job.output
    if not output:
        return ""
    if not output.startswith("//"):
        output = recipe.resolve(output)
        if job.output.endswith(("/", "\\")):
            output += "/"
    if "#" in output.rsplit("/", 1)[-1]:
        return output
    tail = output.rsplit("/", 1)[-1]
    separator = "_" if tail and tail[-1].isalnum() else ""
    return output + separator + "####"


def frame_range(frames: FrameSet) -> tuple[int, int, int] | None:
    """(first, last, step) when Blender's own frame options can say ``frames``, or None when
    the override script renders them from the job file instead.

    Blender's ``-f -2`` counts from the end frame and ``-s``/``-e`` read a sign as relative, so
    negative frames go through the script; so does a list of several runs (a long ``-f`` list
    could pass the 128 KiB argument limit, and ``-f`` has no steps).
    """
    if len(frames.runs) != 1:
        return None
    first, last, step = frames.runs[0]
    return None if first < 0 else (first, last, step)


def frame_args(frames: FrameSet) -> list[str] | None:
    """Blender's own frame options for ``frames`` (``-f N`` or ``-s A -e B [-j S] -a``), or None
    (``frame_range``)."""
    span = frame_range(frames)
    if span is None:
        return None
    first, last, step = span
    if first == last:
        return ["-f", str(first)]
    return ["-s", str(first), "-e", str(last), *(["-j", str(step)] if step != 1 else []), "-a"]


@dataclass(frozen=True)
class BlenderCommand:
    """One Blender run of a job, as fields; ``argv`` is the command line they make.

    ``output`` is the ``-o`` pattern ("": the file's own), ``threads`` 0 for Blender's own
    count, ``cycles_device`` "" for the file's, ``config`` the job file the script reads."""

    blender: str
    blend: str
    config: str
    frames: FrameSet
    scene: str = ""
    output: str = ""
    format: str = ""
    engine: str = ""
    threads: int = 0
    cycles_device: str = ""
    script: str = str(OVERRIDE_SCRIPT)

    @property
    def frame_range(self) -> tuple[int, int, int] | None:
        """(first, last, step) for Blender's frame options; None: the job file's ``render_runs``."""
        return frame_range(self.frames)

    @property
    def frame_options(self) -> list[str] | None:
        """Blender's options for ``frames``; None when the job file's ``render_runs`` say them."""
        return frame_args(self.frames)

    @property
    def process_args(self) -> tuple[str, ...]:
        """The options before the script that apply to the whole process (``-t``)."""
        return ("-t", str(self.threads)) if self.threads else ()

    @property
    def script_args(self) -> tuple[str, ...]:
        """What follows the job file after ``--`` (``--cycles-device``)."""
        return ("--cycles-device", self.cycles_device) if self.cycles_device else ()

    @property
    def argv(self) -> tuple[str, ...]:
        argv = [self.blender, "-b", self.blend]
        if self.scene:
            argv += ["-S", self.scene]
        if self.output:
            argv += ["-o", self.output]
        if self.format:
            argv += ["-F", self.format]
        if self.engine:
            argv += ["-E", self.engine]
        argv += [*self.process_args, "-x", "1", "--python-exit-code", str(OVERRIDE_EXIT_CODE),
                 "--python", self.script, *(self.frame_options or []), "--", CONFIG_FLAG, self.config,
                 *self.script_args]
        return tuple(argv)


def build_command(recipe: Recipe, job: Job, *, blender_bin: str, config_path: str,
                  frames: FrameSet | None = None, threads: int | None = None) -> BlenderCommand:
    """What ``job``'s Blender run is; ``config_path`` is where the runner writes
    ``override_config`` as JSON (``write_override_config``). ``frames``: the frames to render
    (default: all of the job's; a resume or a retry renders only some); ``threads``: ``-t``
    when the job runs in a parallel slot (default: the job's own)."""
    device = job.cycles.device
    return BlenderCommand(blender=blender_bin, blend=recipe.resolve(job.source_file), config=config_path,
                          frames=job.frames if frames is None else frames, scene=job.scene,
                          output=output_pattern(recipe, job), format=job.format, engine=job.engine,
                          threads=threads or job.threads or 0,
                          cycles_device=device if device not in ("", "DEFAULT") else "")


def build_argv(recipe: Recipe, job: Job, *, blender_bin: str, config_path: str,
               frames: FrameSet | None = None, threads: int | None = None) -> list[str]:
    """The full Blender command line for ``job`` (``build_command``'s ``argv``)."""
    return list(build_command(recipe, job, blender_bin=blender_bin, config_path=config_path,
                              frames=frames, threads=threads).argv)


def format_argv(argv: Sequence[str]) -> str:
    """The command line as a user would paste it into a shell."""
    return shlex.join(argv)


def override_config(recipe: Recipe, job: Job, frames: FrameSet | None = None,
                    gpu_index: int | None = None) -> dict[str, Any]:
    """What the override script must apply, as plain data. ``frames``: the frames to render now
    (default all of the job's; a resume renders only the missing ones); the job file's
    ``frames`` is the whole job's compact spec (``1-10,20``) for the ready marker, and
    ``render_runs`` lists the (first, last, step) runs that the script renders itself when
    Blender's options cannot express them (``frame_args``);
    ``gpu_index``: the one GPU (``--list-gpus`` numbering) a parallel slot renders on."""
    frames = job.frames if frames is None else frames
    settings = recipe.settings
    size = list(job.size) if job.size else None
    if settings.global_size.enabled and settings.global_size.value:
        size = list(settings.global_size.value)
    percentage = settings.global_percentage.value if settings.global_percentage.enabled else None
    border = None
    if job.section.enabled and not settings.ignore_border:
        s = job.section
        border = [s.x, s.y, min(1.0, s.x + s.width), min(1.0, s.y + s.height)]
    overrides = []
    for override in job.custom_overrides:
        if not override.enabled:
            continue
        steps = split_data_path(override.path)
        if steps is None:  # validated already; never execute anything that slipped through
            raise ValueError(f"not a plain attribute path: {override.path!r}")
        overrides.append({"path": override.path, "steps": steps, "value": override.value})
    return {
        "job": job.id,
        "scene": job.scene,
        "camera": job.camera,
        "world": job.world,
        "layer": job.layer,
        "size": size,
        "percentage": percentage,
        "border": border,
        "ignore_border": settings.ignore_border,
        "samples": job.cycles.samples,
        "device": job.cycles.device,
        "gpu_index": gpu_index,
        "frames": job.frames.to_spec(),  # the whole job's: progress counts frames done before
        "render_runs": None if frame_args(frames) is not None else [list(run) for run in frames.runs],
        "overrides": overrides,
    }


def write_override_config(recipe: Recipe, job: Job, path: str,
                          frames: FrameSet | None = None, gpu_index: int | None = None) -> None:
    """Write what the override script must apply for ``job`` to ``path`` (JSON)."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(override_config(recipe, job, frames, gpu_index), handle, indent=1)
