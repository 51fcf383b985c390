"""``--check``: find what would make a batch fail before a night is spent on it.

Looking at paths finds missing files and unwritable folders; only Blender knows what is inside
a .blend. So the check runs the batch's Blender once per distinct .blend file with a small probe
script (scripts in the file stay disabled) that prints the file's scenes, cameras, view layers,
worlds and which render engines this Blender has, as one marker line (``markers.py``). Each
job's names are then compared with what the file holds, and every problem is reported with the
names that do exist, the way the override script would report them at render time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .command import output_pattern
from .markers import parse_marker
from .recipe import Job, Recipe

PROBE_TIMEOUT = 180.0
VERSION_TIMEOUT = 60.0
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
BLEND_MAGIC = b"BLENDER"
HEADER_BYTES = 64 * 1024  # enough of a gzip stream to inflate its first bytes

Runner = Callable[..., "subprocess.CompletedProcess[str]"]

PROBE_SCRIPT = Path(__file__).resolve().parent.parent / "blender_scripts" / "probe_file.py"


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
    problems: list[Problem] = field(default_factory=list)
    checked_jobs: list[int] = field(default_factory=list)
    files: dict[str, FileFacts] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, job: Job | None, message: str) -> None:
        self.problems.append(Problem(job.id if job is not None else None, message))


# -------------------------------------------------------------------------- .blend headers

def blend_header_problem(head: bytes) -> str | None:
    """None when ``head`` (a file's first bytes) starts a .blend: plain, gzip or zstd."""
    if head.startswith(BLEND_MAGIC):
        return None
    if head.startswith(ZSTD_MAGIC):
        return None  # Blender 3.0+ compression; the standard library cannot look inside
    if head.startswith(GZIP_MAGIC):
        try:
            inner = zlib.decompressobj(wbits=31).decompress(head, len(BLEND_MAGIC))
        except zlib.error:
            return "a gzip file that is not a valid gzip stream"
        if inner.startswith(BLEND_MAGIC):
            return None
        return "a gzip file that does not hold a Blender file"
    if not head:
        return "an empty file"
    return "not a Blender file (no BLENDER signature)"


def blend_file_version(head: bytes) -> int | None:
    """The Blender version that saved an uncompressed .blend (304 for 3.4), else None."""
    old = re.match(rb"BLENDER[-_][vV](\d{3})", head)  # before 5.0: BLENDER-v304
    if old:
        return int(old.group(1))
    new = re.match(rb"BLENDER\d\d-\d\d[vV](\d{4})", head)  # 5.0+: BLENDER17-01v0500
    return int(new.group(1)) if new else None


def read_head(path: str, size: int = HEADER_BYTES) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


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


# -------------------------------------------------------------------------- the check

def check_recipe(recipe: Recipe, blender_bin: str, *, run: Runner = subprocess.run,
                 ask_blender: bool = True) -> CheckReport:
    """Check every enabled job of ``recipe``; ``report.ok`` when nothing would fail."""
    report = CheckReport(blender_bin=blender_bin)
    binary = find_binary(blender_bin)
    if binary is None:
        report.add(None, f"Blender binary not found or not executable: {blender_bin}")
    else:
        report.blender_version, why = blender_version(binary, run=run)
        if why:
            report.add(None, why)
            binary = None
    jobs = recipe.enabled_jobs
    if not jobs:
        report.add(None, "no enabled job: the batch would render nothing")
    sources: dict[str, tuple[int | None, str | None]] = {}
    for job in jobs:
        report.checked_jobs.append(job.id)
        source = recipe.resolve(job.source_file)
        if source not in sources:
            sources[source] = source_problem(source)
        problem = sources[source][1]
        if problem:
            report.add(job, problem)
        _check_output(report, job, output_pattern(recipe, job), source)
    if binary is None or not ask_blender:
        return report
    for source, (version, problem) in sources.items():
        if problem:
            continue
        users = [job for job in jobs if recipe.resolve(job.source_file) == source]
        engines = sorted({job.engine for job in users if job.engine})
        facts, why = probe_file(binary, source, engines, run=run)
        if facts is None:
            newer = _newer_file_note(version, report.blender_version)
            for job in users:
                report.add(job, (why or "Blender could not read the file") + newer)
            continue
        report.files[source] = facts
        for job in users:
            _check_names(report, job, facts, source)
    return report


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


def _check_names(report: CheckReport, job: Job, facts: FileFacts, source: str) -> None:
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
    if job.engine and job.engine not in facts.engines:
        report.add(job, f"render engine {job.engine!r} is not available in Blender {facts.blender} "
                        f"(engines: {_listing(facts.engines)})")
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
