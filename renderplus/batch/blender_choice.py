"""Choose the Blender for one .blend among those found: the "auto" rule, with its sentences.

The Blender of the file's own series (same major.minor) renders it; else the oldest newer one
(a newer Blender opens older files); else the newest older one of the same major version, with a
warning (it opens the file but may lose what the newer version added). A file newer than every
Blender of its major series and above (the ``newer_file`` rule: 3.4 cannot open 4.x files) is a
problem, said before anything renders, and so is a file whose header cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass

from .blend_version import SavedVersion
from .blenders import FoundBlender, Survey
from .preflight.rules import newer_file


@dataclass(frozen=True)
class Choice:
    """The chosen Blender (None with a ``problem``), and the warnings that go with it."""

    blender: FoundBlender | None
    warnings: tuple[str, ...] = ()
    problem: str | None = None


def no_blender(file: str, survey: Survey) -> str:
    """The sentence for "auto" with nothing found, with what was wrong with listed Blenders."""
    why = "".join(f"; {problem}" for problem in survey.problems)
    return (f"\"auto\" found no Blender to render {file}: list one with --blender PATH or "
            f"RENDERPLUS_BLENDERS, or install one where Blender installs itself{why}")


def versions(found: tuple[FoundBlender, ...]) -> str:
    """``3.4.1, 4.3.2`` in release order."""
    return ", ".join(sorted({b.version for b in found}, key=lambda v: tuple(int(p) for p in v.split("."))))


def choose_for_file(file: str, saved: SavedVersion, survey: Survey) -> Choice:
    """The Blender for ``file`` (saved by ``saved``) among ``survey.found``."""
    found = survey.found
    if survey.problems:
        return Choice(None, problem="; ".join(survey.problems))
    if saved.problem:
        return Choice(None, problem=f"\"auto\" cannot choose a Blender: {saved.problem}")
    if not found:
        return Choice(None, problem=no_blender(file, survey))
    newest = max(found, key=lambda b: b.release)
    if saved.version is None:
        warning = f"{saved.unknown}: using the newest Blender found, {newest.version} ({newest.path})"
        return _with_twins(Choice(newest, (warning,)), found)
    file_version = saved.version
    same = [b for b in found if b.number == file_version]
    if same:
        return _with_twins(Choice(max(same, key=lambda b: b.release)), found)
    newer = [b for b in found if b.number > file_version]
    if newer:
        return _with_twins(Choice(min(newer, key=lambda b: b.release)), found)
    saved_text = newer_file(file_version, newest.version)
    if file_version // 100 > newest.number // 100:
        return Choice(None, problem=(f"{file} was saved by Blender {saved_text}, newer than every Blender "
                                     f"found ({versions(found)}), and Blender cannot open files of a "
                                     f"newer major version: install Blender {saved_text} or newer, or "
                                     f"name it with --blender PATH"))
    warning = (f"{file} was saved by Blender {saved_text}, newer than every Blender found "
               f"({versions(found)}): using the newest older one, {newest.version} ({newest.path}), "
               f"which may lose what {saved_text} added")
    return _with_twins(Choice(newest, (warning,)), found)


def _with_twins(choice: Choice, found: tuple[FoundBlender, ...]) -> Choice:
    """The first of two Blenders reporting the same version renders (candidate order, listed
    ones first); a warning names both."""
    chosen = choice.blender
    assert chosen is not None
    twins = [b for b in found if b.version == chosen.version]
    first = twins[0]
    if len(twins) < 2:
        return choice
    others = ", ".join(b.path for b in twins[1:])
    note = (f"Blender {first.version} was found more than once ({first.path}, {others}): "
            f"using {first.path}, the first in the candidate order")
    return Choice(first, (*choice.warnings, note))
