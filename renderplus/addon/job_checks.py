"""The check before Render: what would make a job fail, said with the names the artist gave.

The recipe validator catches malformed values; this catches what is well-formed but wrong *now*:
a camera, scene, world or view layer deleted or renamed since the job was made, a custom
override whose path leads nowhere in the open file or whose value the setting cannot take
(resolved by the job script's own rules, ``blender_scripts/override_paths``), an output folder
that cannot be written, an end frame before the start, an engine the rendering Blender does not
have, a .blend newer than that Blender. Each problem names its job by name ("Job 'Cam Left':
..."), never by position.

The names are judged by the rules ``--check`` uses (``batch/preflight/rules``), fed with facts
read from the open file (``file_facts``) instead of a Blender probe; only the wording is the
add-on's ("deleted or renamed?").

No ``bpy`` import: the caller hands in ``bpy.data`` (or a stand-in), a path resolver and what
the rendering binary said about itself (``binary_info``; None while it is still being asked).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..batch import preflight
from ..batch.preflight import JobNames, Missing, SceneFacts
from ..batch.preflight.rules import listing
from ..batch.recipe.datapath import split_data_path
from ..blender_scripts import override_paths
from .file_facts import file_facts
from .recipe_io import engine_id, value_from_text

if TYPE_CHECKING:
    from .binary_info import BinaryInfo
    from .props import RenderPlusJob

PathResolver = Callable[[str], str]


def _names(names: Iterable[str]) -> str:
    return listing(names, limit=12)


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
        problems.extend(override_findings(job, data, default_scene,
                                          settings=judges_settings(binary, file_version)).values())
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
            engine = scene.engine  # "From File": the scene's own engine
        if binary.engines:
            why = preflight.engine_problem(engine, binary.engines, binary.version)
            if why:
                problems.append(why)
        saved = preflight.newer_file(file_version, binary.version)
        if saved:
            problems.append(f"the .blend is saved by Blender {saved}, newer than the Blender that renders "
                            f"it ({binary.version}, {binary.binary}): set another in the add-on preferences")
    return problems


def _check_names(job: RenderPlusJob, data: Any, default_scene: Any, problems: list[str]) -> SceneFacts | None:
    """The job's scene (None when it is gone); the deleted names go into ``problems``."""
    names = JobNames(scene=job.scene, camera=job.camera, world=job.world, layer=job.layer)
    _, scene, missing = preflight.missing_names(names, file_facts(data, default_scene))
    problems.extend(missing_message(finding) for finding in missing)
    return scene


def judges_settings(binary: BinaryInfo | None, file_version: int) -> bool:
    """Whether the check may judge overrides' setting names and values by this Blender's: the
    rendering one is the same version (or not known yet). Another version's settings may
    differ; then only the file's data is judged (``override_paths.problem``)."""
    return binary is None or binary.version_number in (None, file_version)


def override_findings(job: RenderPlusJob, data: Any, default_scene: Any, *,
                      settings: bool = True) -> dict[int, str]:
    """Each enabled custom override that would fail (by its index in ``job.overrides``: the
    panel marks its row), resolved against the open file as the job script resolves it in the
    rendering Blender (``override_paths``: the same functions), from the job's scene with the
    job's camera and world in place. ``settings``: see ``judges_settings``."""
    overrides = [(i, o) for i, o in enumerate(getattr(job, "overrides", ())) if o.enabled and o.path.strip()]
    scene = data.scenes.get(job.scene) if job.scene else default_scene
    if not overrides or scene is None:
        return {}  # a missing scene is said already
    view = JobScene(scene, _named(scene.objects, job.camera), _named(data.worlds, job.world))
    found = {}
    for index, override in overrides:
        path = override.path.strip()
        steps = split_data_path(path)
        if steps is None:
            found[index] = (f"override {path!r} is not a plain attribute path: use names and "
                            'subscripts only, e.g. render.fps or objects["Cube"].hide_render')
            continue
        why = override_paths.problem(view, data, path, steps, value_from_text(override.value),
                                     settings=settings)
        if why:
            found[index] = why
    return found


def _named(collection: Any, name: str) -> Any:
    return collection.get(name) if name else None


class JobScene:
    """The job's scene as the job script leaves it before its overrides: the job's camera and
    world (when it names them) in place of the scene's own. Everything else is the scene's."""

    def __init__(self, scene: Any, camera: Any, world: Any) -> None:
        self._scene = scene
        self._own = {"camera": camera, "world": world}

    def __getattr__(self, name: str) -> Any:
        replaced = self._own.get(name)
        return replaced if replaced is not None else getattr(self._scene, name)

    def __getitem__(self, key: Any) -> Any:
        return self._scene[key]

    def __dir__(self) -> list[str]:
        return dir(self._scene)


def missing_message(finding: Missing) -> str:
    """A missing name as the add-on says it: it was probably deleted or renamed."""
    kind, name, scene = finding.kind, finding.name, finding.scene
    there = _names(finding.existing)
    if kind == "active camera":
        return f"scene {scene!r} has no active camera and the job names none"
    if kind in ("scene", "world"):
        return f"{kind} {name!r} does not exist (deleted or renamed?); {kind}s: {there}"
    return f"{kind} {name!r} is not in scene {scene!r} (deleted or renamed?); {kind}s: {there}"


def _output_folder(job: RenderPlusJob, scene: SceneFacts | None, abspath: PathResolver) -> str:
    """The folder the job's frames go into ("" when only Blender can tell: an external file's own)."""
    pattern = job.output.strip()
    if not pattern and scene is not None:
        pattern = scene.output
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
