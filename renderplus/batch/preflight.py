"""``--check``: find what would make a batch fail before a night is spent on it.

Looking at paths finds missing files and unwritable folders; only Blender knows what is inside
a .blend. So the check runs the batch's Blender once per distinct .blend file with a small probe
script (scripts in the file stay disabled) that prints the file's scenes, cameras, view layers,
worlds and which render engines this Blender has, as one marker line (``markers.py``). Each
job's names are then compared with what the file holds, and every problem is reported with the
names that do exist, the way the override script would report them at render time.

Engine ids change between versions (``BLENDER_EEVEE_NEXT`` in 4.2-4.5, ``BLENDER_EEVEE`` before
and again in 5.x), so each job's engine is compared with the list the rendering binary itself
prints (``blender -b -E help``, asked once per binary and cached: ``blender_engines``), and the
message says which id to use where the translation is obvious. The add-on asks the same
(``engine_problem``) before a batch starts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .blendfile import (  # re-exported: the upload checks import them from here
    BLEND_MAGIC,
    GZIP_MAGIC,
    HEADER_BYTES,
    ZSTD_MAGIC,
    blend_file_version,
    blend_header_problem,
    read_head,
)
from .command import output_pattern
from .markers import parse_marker
from .options import choose_blender
from .recipe import Job, Recipe
from .script_paths import PROBE_SCRIPT

PROBE_TIMEOUT = 180.0
VERSION_TIMEOUT = 60.0
ENGINES_TIMEOUT = 60.0
# One engine under two ids: the id a Blender lacks -> the id it may have instead.
ENGINE_RENAMES = {"BLENDER_EEVEE_NEXT": "BLENDER_EEVEE", "BLENDER_EEVEE": "BLENDER_EEVEE_NEXT"}

Runner = Callable[..., "subprocess.CompletedProcess[str]"]

__all__ = ["BLEND_MAGIC", "GZIP_MAGIC", "HEADER_BYTES", "ZSTD_MAGIC", "BinaryFacts", "CheckReport",
           "FileFacts", "Problem", "blend_file_version", "blend_header_problem", "blender_engines",
           "blender_version", "check_recipe", "engine_problem", "find_binary", "folder_problem",
           "inspect_binary", "parse_engine_listing", "probe_file", "read_head", "source_problem"]



@dataclass
class Problem:
    """One thing that would make a job (``job`` is its id) or the whole batch (None) fail."""

    job: int | None
    message: str

    def __str__(self) -> str:
        return f"job {self.job}: {self.message}" if self.job is not None else self.message


@dataclass
class FileFacts:
    """What the probe found in one .blend file."""

    blender: str
    active_scene: str
    scenes: dict[str, dict[str, Any]]
    worlds: list[str]
    engines: list[str]


@dataclass
class CheckReport:
    blender_bin: str
    blender_version: str | None = None
    engines: tuple[str, ...] | None = None  # what blender_bin can render with, when it told us
    problems: list[Problem] = field(default_factory=list)
    checked_jobs: list[int] = field(default_factory=list)
    files: dict[str, FileFacts] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, job: Job | None, message: str) -> None:
        self.problems.append(Problem(job.id if job is not None else None, message))


# -------------------------------------------------------------------------- the Blender binary

def find_binary(blender_bin: str) -> str | None:
    """The executable's path, or None when there is no such executable file."""
    if os.sep in blender_bin or (os.altsep and os.altsep in blender_bin):
        return blender_bin if os.path.isfile(blender_bin) and os.access(blender_bin, os.X_OK) else None
    return shutil.which(blender_bin)


def blender_version(binary: str, *, run: Runner = subprocess.run,
                    timeout: float = VERSION_TIMEOUT) -> tuple[str | None, str | None]:
    """(``"3.4.1"``, None) when the binary runs, else (None, why not)."""
    try:
        result = run([binary, "--factory-startup", "--version"], capture_output=True, text=True,
                     timeout=timeout, stdin=subprocess.DEVNULL, errors="replace")
    except subprocess.TimeoutExpired:
        return None, f"{binary} --version did not answer within {timeout:g} s"
    except OSError as exc:
        return None, f"cannot run {binary}: {exc.strerror or exc}"
    match = re.search(r"^Blender (\d+\.\d+(?:\.\d+)?)", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        tail = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        return None, f"{binary} --version failed (exit code {result.returncode}): {tail[0]}"
    return match.group(1), None


def probe_file(binary: str, path: str, engines: list[str], *, run: Runner = subprocess.run,
               timeout: float = PROBE_TIMEOUT) -> tuple[FileFacts | None, str | None]:
    """Ask Blender what ``path`` holds: (facts, None) or (None, why it could not)."""
    argv = [binary, "-b", "--factory-startup", "--disable-autoexec", path,
            "--python-exit-code", "1", "--python", str(PROBE_SCRIPT), "--", json.dumps(engines)]
    try:
        result = run(argv, capture_output=True, text=True, timeout=timeout,
                     stdin=subprocess.DEVNULL, errors="replace")
    except subprocess.TimeoutExpired:
        return None, f"Blender did not finish reading {path} within {timeout:g} s"
    except OSError as exc:
        return None, f"cannot run {binary}: {exc.strerror or exc}"
    for line in result.stdout.splitlines():
        marker = parse_marker(line)
        if marker is not None and marker.get("event") == "probe":
            return FileFacts(blender=str(marker.get("blender", "")),
                             active_scene=str(marker.get("active_scene", "")),
                             scenes=dict(marker.get("scenes") or {}),
                             worlds=list(marker.get("worlds") or []),
                             engines=list(marker.get("engines") or [])), None
    errors = [line.strip() for line in result.stdout.splitlines() if line.lstrip().startswith("Error")]
    code = result.returncode
    how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
    detail = errors[-1] if errors else "no error message"
    return None, f"Blender could not read {path} ({how}): {detail}"


_ENGINE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
_LOG_PREFIX = re.compile(r"^(?:\d+:)?\d+:\d+\.\d+ +\S+ *\| ?")  # 5.x: "00:01.234  render  | "
_engines_cache: dict[tuple[str, int, int], tuple[str, ...]] = {}
_engines_lock = threading.Lock()


def parse_engine_listing(text: str) -> tuple[str, ...] | None:
    """The engine ids of ``blender -E help`` output, in order; None when there is no listing.

    3.4 prints ``Blender Engine Listing:`` then one tab-indented id a line; banners, warnings
    and 5.x log prefixes around it are skipped, and the listing ends at the first other line.
    """
    lines = [_LOG_PREFIX.sub("", line) for line in text.splitlines()]
    start = next((i for i, line in enumerate(lines) if "engine listing" in line.lower()), None)
    if start is None:
        return None
    engines: list[str] = []
    for line in lines[start + 1:]:
        token = line.strip()
        if not token:
            continue
        if line[:1].isspace() and _ENGINE_ID.match(token):
            engines.append(token)
        elif engines:
            break
    return tuple(engines)


def _binary_key(binary: str) -> tuple[str, int, int] | None:
    """Which file ``binary`` is, so a replaced Blender is asked again."""
    try:
        path = os.path.realpath(binary)
        info = os.stat(path)
    except OSError:
        return None
    return path, info.st_mtime_ns, info.st_size


def blender_engines(binary: str, *, run: Runner = subprocess.run,
                    timeout: float = ENGINES_TIMEOUT) -> tuple[tuple[str, ...] | None, str | None]:
    """(the render engine ids ``binary`` has, None), or (None, why it could not tell).

    Asked with ``-b --factory-startup -E help`` (about 1.5 s) and cached per binary file.
    """
    key = _binary_key(binary)
    with _engines_lock:
        cached = _engines_cache.get(key) if key else None
    if cached is not None:
        return cached, None
    try:
        result = run([binary, "-b", "--factory-startup", "-E", "help"], capture_output=True, text=True,
                     timeout=timeout, stdin=subprocess.DEVNULL, errors="replace")
    except subprocess.TimeoutExpired:
        return None, f"{binary} -E help did not answer within {timeout:g} s"
    except OSError as exc:
        return None, f"cannot run {binary}: {exc.strerror or exc}"
    engines = parse_engine_listing(result.stdout)
    if not engines:
        tail = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        return None, (f"{binary} -E help did not list its render engines "
                      f"(exit code {result.returncode}): {tail[0]}")
    if key is not None:
        with _engines_lock:
            _engines_cache[key] = engines
    return engines, None


def engine_problem(engine: str, engines: tuple[str, ...] | list[str],
                   blender_version: str | None = None) -> str | None:
    """None when ``engine`` is one of ``engines``; else a sentence naming the ones there are,
    and the id to use instead when the same engine goes by another name in this version."""
    if not engine or engine in engines:
        return None
    where = f"Blender {blender_version}" if blender_version else "this Blender"
    message = f"render engine {engine!r} is not available in {where} (engines: {_listing(list(engines))})"
    other = ENGINE_RENAMES.get(engine)
    if other in engines:
        message += f"; use {other!r}, the same engine's id in {where}"
    return message


# -------------------------------------------------------------------------- the check

@dataclass
class BinaryFacts:
    """What one Blender binary said about itself: ``path`` is None when it cannot render."""

    path: str | None
    version: str | None = None
    engines: tuple[str, ...] | None = None
    problem: str | None = None


def inspect_binary(blender_bin: str, *, run: Runner = subprocess.run) -> BinaryFacts:
    """Whether ``blender_bin`` runs, its version and its render engines."""
    binary = find_binary(blender_bin)
    if binary is None:
        return BinaryFacts(None, problem=f"Blender binary not found or not executable: {blender_bin}")
    version, why = blender_version(binary, run=run)
    if why:
        return BinaryFacts(None, problem=why)
    engines, _ = blender_engines(binary, run=run)  # unknown: the probe's list is used instead
    return BinaryFacts(binary, version, engines)


def check_recipe(recipe: Recipe, blender_bin: str, *, run: Runner = subprocess.run,
                 ask_blender: bool = True) -> CheckReport:
    """Check every enabled job of ``recipe``; ``report.ok`` when nothing would fail.

    ``blender_bin`` is the batch's Blender; a job that names its own is checked with that one.
    """
    report = CheckReport(blender_bin=blender_bin)
    binaries = {blender_bin: inspect_binary(blender_bin, run=run)}
    main = binaries[blender_bin]
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
        own = choose_blender(recipe, blender_bin, job) if job.blender_bin else blender_bin
        if own not in binaries:
            binaries[own] = inspect_binary(own, run=run)
        binary = binaries[own]
        if own != blender_bin and binary.problem:
            report.add(job, f"this job's Blender: {binary.problem}")
        source = recipe.resolve(job.source_file)
        if source not in sources:
            sources[source] = source_problem(source)
        if sources[source][1]:
            report.add(job, str(sources[source][1]))
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


def _probe_and_check(report: CheckReport, binary: BinaryFacts, source: str, file_version: int | None,
                     users: list[Job], run: Runner) -> None:
    """One Blender run reads ``source``; each job's names are compared with what it holds."""
    assert binary.path is not None
    engines = sorted({job.engine for job in users if job.engine})
    facts, why = probe_file(binary.path, source, engines, run=run)
    if facts is None:
        newer = _newer_file_note(file_version, binary.version)
        for job in users:
            report.add(job, (why or "Blender could not read the file") + newer)
        return
    report.files[source] = facts
    for job in users:
        _check_names(report, job, facts, source, engines_known=binary.engines is not None)


def source_problem(source: str) -> tuple[int | None, str | None]:
    """(the Blender version that saved it or None, None) for a usable .blend, else (None, why)."""
    if not source:
        return None, "no .blend file named"
    if not os.path.isfile(source):
        return None, f".blend file not found: {source}"
    try:
        head = read_head(source)
    except OSError as exc:
        return None, f"cannot read {source}: {exc.strerror or exc}"
    problem = blend_header_problem(head)
    if problem:
        return None, f"{source} is {problem}"
    return blend_file_version(head), None


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


def folder_problem(folder: str) -> str | None:
    """None when Blender could write into ``folder`` (creating it if needed)."""
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    if not os.path.isdir(existing):
        return f"output folder {folder} cannot be created: {existing} is a file"
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == os.path.abspath(folder):
            return f"output folder {folder} is not writable"
        return f"output folder {folder} cannot be created: {existing} is not writable"
    return None


def _listing(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names[:20]) or "none"


def _check_names(report: CheckReport, job: Job, facts: FileFacts, source: str, *,
                 engines_known: bool) -> None:
    where = os.path.basename(source)
    scene_name = job.scene or facts.active_scene
    scene = facts.scenes.get(scene_name)
    if scene is None:
        report.add(job, f"scene {scene_name!r} not found in {where} (scenes: {_listing(list(facts.scenes))})")
        return
    if job.camera:
        if job.camera not in scene["cameras"]:
            report.add(job, f"camera {job.camera!r} not found in scene {scene_name!r} of {where} "
                            f"(cameras: {_listing(scene['cameras'])})")
    elif not scene.get("camera"):
        report.add(job, f"scene {scene_name!r} of {where} has no active camera and the job names none")
    if job.world and job.world not in facts.worlds:
        report.add(job, f"world {job.world!r} not found in {where} (worlds: {_listing(facts.worlds)})")
    if job.layer and job.layer not in scene["layers"]:
        report.add(job, f"view layer {job.layer!r} not found in scene {scene_name!r} of {where} "
                        f"(view layers: {_listing(scene['layers'])})")
    problem = None if engines_known else engine_problem(job.engine, facts.engines, facts.blender)
    if problem:
        report.add(job, problem)
    if not job.output and scene.get("output"):
        problem = folder_problem(os.path.dirname(str(scene["output"])) or os.getcwd())
        if problem:
            report.add(job, f"{problem} (the file's own output path)")


def _newer_file_note(file_version: int | None, binary_version: str | None) -> str:
    if file_version is None or not binary_version:
        return ""
    major, minor = (int(part) for part in binary_version.split(".")[:2])
    if file_version > major * 100 + minor:
        saved = f"{file_version // 100}.{file_version % 100}"
        return f" (the file was saved by Blender {saved}, newer than this Blender {binary_version})"
    return ""
