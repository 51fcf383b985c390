"""Which Blender renders a job, with ``blender_bin: "auto"`` resolved: the path, its version, and
the warnings or the problem that go with the choice.

``options.choose_blender`` is the name a job gives (job, recipe, the default); this resolves
"auto" for the job's own .blend (``blender_choice``) among the Blenders found (``blenders``).
"auto" is never looked up on PATH: an executable named ``auto`` there is never run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .blend_version import saved_version
from .blender_choice import choose_for_file, no_blender
from .blenders import Survey, survey
from .options import AUTO
from .preflight.binary import find_binary, version_if_known

if TYPE_CHECKING:
    from .recipe import Job, Recipe


Surveyor = Callable[[Sequence[str]], Survey]


@dataclass(frozen=True)
class BlenderPick:
    """``path`` runs the job; with a ``problem`` nothing may run (``path`` is then the name)."""

    path: str
    version: str | None = None
    auto: bool = False
    warnings: tuple[str, ...] = ()
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The poll's job ``blender``."""
        return {"path": self.path, "version": self.version}


def pick_named(name: str, *, candidates: Sequence[str] = (), file: str | None = None,
               surveyor: Surveyor | None = None) -> BlenderPick:
    """``name`` (already resolved against the recipe) as a pick; "auto" chooses for ``file``,
    or, without one, takes the newest Blender found."""
    if name != AUTO:
        return BlenderPick(name, version_if_known(name) if find_binary(name) else None)
    found = (surveyor or survey)(candidates)
    if file is not None:
        choice = choose_for_file(file, saved_version(file), found)
    elif found.problems or not found.found:
        return BlenderPick(AUTO, auto=True, problem="; ".join(found.problems) or no_blender("a batch", found))
    else:
        newest = max(found.found, key=lambda b: b.release)
        return BlenderPick(newest.path, newest.version, auto=True)
    if choice.blender is None:
        return BlenderPick(AUTO, auto=True, warnings=choice.warnings, problem=choice.problem)
    return BlenderPick(choice.blender.path, choice.blender.version, True, choice.warnings)


def pick_blender(recipe: Recipe | None, default: str | None = None, job: Job | None = None, *,
                 candidates: Sequence[str] = (), surveyor: Surveyor | None = None) -> BlenderPick:
    """The Blender ``job`` renders with (without a job: the batch's, "auto" choosing for the
    first enabled job's file)."""
    from .options import choose_blender_name

    name = choose_blender_name(recipe, default, job)
    if name != AUTO:
        return pick_named(name)
    if job is None and recipe is not None and recipe.enabled_jobs:
        job = recipe.enabled_jobs[0]
    file = recipe.resolve(job.source_file) if job is not None and recipe is not None else None
    return pick_named(AUTO, candidates=candidates, file=file, surveyor=surveyor)


def auto_picks(recipe: Recipe, default: str | None = None, *, candidates: Sequence[str] = (),
               surveyor: Surveyor | None = None) -> dict[int, BlenderPick]:
    """The pick of each enabled job that says "auto", by job id; each file is chosen for once."""
    from .options import says_auto

    by_file: dict[str, BlenderPick] = {}
    picks: dict[int, BlenderPick] = {}
    for job in recipe.enabled_jobs:
        if not says_auto(recipe, default, job):
            continue
        file = recipe.resolve(job.source_file)
        if file not in by_file:
            by_file[file] = pick_named(AUTO, candidates=candidates, file=file, surveyor=surveyor)
        picks[job.id] = by_file[file]
    return picks


def blender_problems(recipe: Recipe | None, default: str | None = None, *,
                     candidates: Sequence[str] = ()) -> list[str]:
    """Why jobs of ``recipe`` would find no Blender to render with, each sentence once: the
    server refuses to start such a batch."""
    batch = pick_blender(recipe, default, candidates=candidates)
    problems = [] if batch.auto or find_binary(batch.path) else [f"Blender binary not found: {batch.path}"]
    if recipe is None:
        return problems if not batch.problem else [batch.problem]
    for pick in auto_picks(recipe, default, candidates=candidates).values():
        if pick.problem and pick.problem not in problems:
            problems.append(pick.problem)
    return problems
