"""``--check``: find what would make a batch fail before a night is spent on it.

Looking at paths finds missing files and unwritable folders; only Blender knows what is inside
a .blend. So the check asks the batch's Blender about itself (``binary.py``), probes each
distinct .blend once (``blend.py``), and judges each job by the rules (``rules.py``); every
problem is reported with the names that do exist, the way the override script would report
them at render time.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..command import output_pattern
from ..options import AUTO, choose_blender
from ..recipe import Job, Recipe
from .binary import BinaryFacts, Runner, inspect_binary
from .blend import FileFacts, probe_file, source_problem
from .movie import check_movie
from .rules import JobNames, Missing, engine_problem, folder_problem, listing, missing_names, newer_file

if TYPE_CHECKING:
    from ..blender_pick import BlenderPick


@dataclass
class Problem:
    """One thing that would make a job (``job`` is its id) or the whole batch (None) fail."""

    job: int | None
    message: str

    def __str__(self) -> str:
        return f"job {self.job}: {self.message}" if self.job is not None else self.message


@dataclass
class CheckReport:
    blender_bin: str
    blender_version: str | None = None
    engines: tuple[str, ...] | None = None  # what blender_bin can render with, when it told us
    problems: list[Problem] = field(default_factory=list)
    checked_jobs: list[int] = field(default_factory=list)
    files: dict[str, FileFacts] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)  # said, but nothing fails for them
    chosen: dict[int, BlenderPick] = field(default_factory=dict)  # what "auto" chose, by job id
    movies: dict[int, str] = field(default_factory=dict)  # what each encode will do, by job id

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, job: Job | None, message: str) -> None:
        self.problems.append(Problem(job.id if job is not None else None, message))


def check_recipe(recipe: Recipe, blender_bin: str, *, run: Runner = subprocess.run,
                 ask_blender: bool = True, default: str | None = None,
                 candidates: Sequence[str] = (), env: Mapping[str, str] | None = None) -> CheckReport:
    """Check every enabled job of ``recipe``; ``report.ok`` when nothing would fail.

    ``blender_bin`` is the batch's Blender; a job that names its own is checked with that one,
    and a job of ``blender_bin: "auto"`` with the one chosen for its file (``default`` and
    ``candidates``: the run's options, as ``choose_blender`` takes them). ``env`` names the
    FFmpeg of the jobs' movies (``RENDERPLUS_FFMPEG``, ``PATH``; default the process's).
    """
    from ..blender_pick import auto_picks

    report = CheckReport(blender_bin=blender_bin)
    picks = auto_picks(recipe, default, candidates=candidates)
    binaries: dict[str, BinaryFacts] = {}
    if blender_bin != AUTO:  # "auto" that chose nothing: each job says why, nothing named auto runs
        binaries[blender_bin] = main = inspect_binary(blender_bin, run=run)
        report.blender_version, report.engines = main.version, main.engines
        if main.problem:
            report.add(None, main.problem)
    jobs = recipe.enabled_jobs
    if not jobs:
        report.add(None, "no enabled job: the batch would render nothing")
    sources: dict[str, tuple[int | None, str | None]] = {}
    probes: dict[tuple[str, str], list[Job]] = {}
    for job in jobs:
        report.checked_jobs.append(job.id)
        _check_encode(report, recipe, job, env)
        source = recipe.resolve(job.source_file)
        if source not in sources:
            sources[source] = source_problem(source)
        if sources[source][1]:
            report.add(job, str(sources[source][1]))
        own = _job_blender(report, recipe, job, picks.get(job.id), blender_bin,
                           unreadable=bool(sources[source][1]))
        if own is None:
            _check_output(report, job, output_pattern(recipe, job), source)
            continue
        if own not in binaries:
            binaries[own] = inspect_binary(own, run=run)
        binary = binaries[own]
        if own != blender_bin and binary.problem:
            report.add(job, f"this job's Blender: {binary.problem}")
        _check_output(report, job, output_pattern(recipe, job), source)
        engine = engine_problem(job.engine, binary.engines, binary.version) if binary.engines else None
        if engine:
            report.add(job, engine)
        if binary.path is not None and not sources[source][1]:
            probes.setdefault((binary.path, source), []).append(job)
    if ask_blender:
        for (path, source), users in probes.items():
            facts = next(b for b in binaries.values() if b.path == path)
            _probe_and_check(report, facts, source, sources[source][0], users, run)
    return report


def _check_encode(report: CheckReport, recipe: Recipe, job: Job,
                  env: Mapping[str, str] | None) -> None:
    """The job's movie: what it will be (``report.movies``) and what would stop it."""
    if job.encode is None:
        return
    movie = check_movie(recipe, job, env)
    report.movies[job.id] = movie.line
    for problem in movie.problems:
        report.add(job, problem)


def _job_blender(report: CheckReport, recipe: Recipe, job: Job, pick: BlenderPick | None,
                 blender_bin: str, *, unreadable: bool) -> str | None:
    """The Blender ``job`` is checked with; None when "auto" chose none (the report says why,
    unless the file is unreadable, which is said already)."""
    if pick is None:
        return choose_blender(recipe, blender_bin, job) if job.blender_bin else blender_bin
    report.chosen[job.id] = pick
    report.warnings += [Problem(job.id, warning) for warning in pick.warnings]
    if pick.problem:
        if not unreadable:
            report.add(job, pick.problem)
        return None
    return pick.path


def _probe_and_check(report: CheckReport, binary: BinaryFacts, source: str, file_version: int | None,
                     users: list[Job], run: Runner) -> None:
    """One Blender run reads ``source``; each job's names are compared with what it holds."""
    assert binary.path is not None
    engines = sorted({job.engine for job in users if job.engine})
    facts, why = probe_file(binary.path, source, engines, run=run)
    if facts is None:
        saved = newer_file(file_version, binary.version)
        newer = f" (the file was saved by Blender {saved}, newer than this Blender {binary.version})" \
            if saved else ""
        for job in users:
            report.add(job, (why or "Blender could not read the file") + newer)
        return
    report.files[source] = facts
    for job in users:
        _check_names(report, job, facts, source, engines_known=binary.engines is not None)


def _output_dir(pattern: str, source: str) -> str:
    if pattern.startswith("//"):  # relative to the .blend, as Blender reads it
        pattern = os.path.join(os.path.dirname(source), pattern[2:])
    return os.path.dirname(pattern) or os.getcwd()


def _check_output(report: CheckReport, job: Job, pattern: str, source: str) -> None:
    if not pattern:
        return  # the file's own output path: checked once Blender has told us what it is
    problem = folder_problem(_output_dir(pattern, source))
    if problem:
        report.add(job, problem)


def _check_names(report: CheckReport, job: Job, facts: FileFacts, source: str, *,
                 engines_known: bool) -> None:
    where = os.path.basename(source)
    names = JobNames(scene=job.scene, camera=job.camera, world=job.world, layer=job.layer)
    _, scene, missing = missing_names(names, facts)
    for finding in missing:
        report.add(job, missing_message(finding, where))
    if scene is None:
        return
    problem = None if engines_known else engine_problem(job.engine, facts.engines, facts.blender)
    if problem:
        report.add(job, problem)
    if not job.output and scene.output:
        problem = folder_problem(os.path.dirname(scene.output) or os.getcwd())
        if problem:
            report.add(job, f"{problem} (the file's own output path)")


def missing_message(finding: Missing, where: str) -> str:
    """A missing name as ``--check`` says it: with the file's name (``where``)."""
    kind, name, scene = finding.kind, finding.name, finding.scene
    there = listing(finding.existing)
    if kind == "scene":
        return f"scene {name!r} not found in {where} (scenes: {there})"
    if kind == "active camera":
        return f"scene {scene!r} of {where} has no active camera and the job names none"
    if kind == "world":
        return f"world {name!r} not found in {where} (worlds: {there})"
    plural = "cameras" if kind == "camera" else "view layers"
    return f"{kind} {name!r} not found in scene {scene!r} of {where} ({plural}: {there})"
