"""The check before Render: what would make a job fail, said with the names the artist gave.

The recipe validator catches malformed values; this catches what is well-formed but wrong *now*:
a camera, scene, world or view layer deleted or renamed since the job was made, an output folder
that cannot be written, an end frame before the start, an engine the rendering Blender does not
have, a .blend newer than that Blender. Each problem names its job by name ("Job 'Cam Left':
..."), never by position.

No ``bpy`` import: the caller hands in ``bpy.data`` (or a stand-in), a path resolver and what
the rendering binary said about itself (``binary_info``; None while it is still being asked).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..batch import preflight
from .recipe_io import engine_id

if TYPE_CHECKING:
    from .binary_info import BinaryInfo
    from .props import RenderPlusJob

PathResolver = Callable[[str], str]


def _names(items: Iterable[Any]) -> str:
    names = [repr(item.name) for item in items][:12]
    return ", ".join(names) or "none"


def job_problems(job: RenderPlusJob, *, data: Any, default_scene: Any, abspath: PathResolver,
                 binary: BinaryInfo | None, file_version: int) -> list[str]:
    """What would make ``job`` fail (empty when nothing would), without the job's name.

    ``file_version`` is the version the copy will be saved with (``bpy.app.version`` as
    ``major * 100 + minor``); external jobs read theirs from the file's header.
    """
    problems: list[str] = []
    scene = None
    if job.external:
        source = abspath(job.filepath) if job.filepath.strip() else ""
        version, why = preflight.source_problem(source)
        if why:
            problems.append(why)
        file_version = version or 0
    else:
        scene = _check_names(job, data, default_scene, problems)
    if job.mode == "ANIMATION" and job.frame_end < job.frame_start:
        problems.append(f"the end frame ({job.frame_end}) is before the start frame ({job.frame_start})")
    folder = _output_folder(job, scene, abspath)
    if folder:
        why = preflight.folder_problem(folder)
        if why:
            problems.append(why)
    if binary is not None and binary.problem is None:
        engine = engine_id(job.engine, job.engine_other)
        if not engine and scene is not None:
            engine = str(scene.render.engine)  # "From File": the scene's own engine
        if binary.engines:
            why = preflight.engine_problem(engine, binary.engines, binary.version)
            if why:
                problems.append(why)
        binary_version = binary.version_number
        if file_version and binary_version and file_version > binary_version:
            saved = f"{file_version // 100}.{file_version % 100}"
            problems.append(f"the .blend is saved by Blender {saved}, newer than the Blender that renders "
                            f"it ({binary.version}, {binary.binary}): set another in the add-on preferences")
    return problems


def _check_names(job: RenderPlusJob, data: Any, default_scene: Any, problems: list[str]) -> Any:
    """The job's scene (None when it is gone); the deleted names go into ``problems``."""
    scene = data.scenes.get(job.scene) if job.scene else default_scene
    if scene is None:
        problems.append(f"scene {job.scene!r} does not exist (deleted or renamed?); "
                        f"scenes: {_names(data.scenes)}")
        return None
    if job.camera:
        camera = scene.objects.get(job.camera)
        if camera is None or camera.type != "CAMERA":
            cameras = [obj for obj in scene.objects if obj.type == "CAMERA"]
            problems.append(f"camera {job.camera!r} is not in scene {scene.name!r} (deleted or renamed?); "
                            f"cameras: {_names(cameras)}")
    elif scene.camera is None:
        problems.append(f"scene {scene.name!r} has no active camera and the job names none")
    if job.world and data.worlds.get(job.world) is None:
        problems.append(f"world {job.world!r} does not exist (deleted or renamed?); "
                        f"worlds: {_names(data.worlds)}")
    if job.layer and scene.view_layers.get(job.layer) is None:
        problems.append(f"view layer {job.layer!r} is not in scene {scene.name!r} (deleted or renamed?); "
                        f"view layers: {_names(scene.view_layers)}")
    return scene


def _output_folder(job: RenderPlusJob, scene: Any, abspath: PathResolver) -> str:
    """The folder the job's frames go into ("" when only Blender can tell: an external file's own)."""
    pattern = job.output.strip()
    if not pattern and scene is not None:
        pattern = str(scene.render.filepath)
    if not pattern:
        return ""
    resolved = abspath(pattern)
    return resolved if resolved.endswith(("/", os.sep)) else os.path.dirname(resolved)


def batch_problems(jobs: Iterable[RenderPlusJob], **kwargs: Any) -> list[str]:
    """``Job 'name': problem`` for every enabled job's every problem."""
    found: list[str] = []
    for job in jobs:
        if job.enabled:
            found.extend(f"Job {job.name!r}: {problem}" for problem in job_problems(job, **kwargs))
    return found
