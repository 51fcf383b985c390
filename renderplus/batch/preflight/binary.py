"""Facts about a Blender binary: where it is, its version and the render engines it has.

Engine ids change between versions (``BLENDER_EEVEE_NEXT`` in 4.2-4.5, ``BLENDER_EEVEE`` before
and again in 5.x), so a job's engine is compared with the list the rendering binary itself
prints (``blender -b -E help``, asked once per binary file and cached: ``blender_engines``).
Asking takes seconds: the add-on asks in a thread (``addon/binary_info.py``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass

VERSION_TIMEOUT = 60.0
ENGINES_TIMEOUT = 60.0

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass
class BinaryFacts:
    """What one Blender binary said about itself: ``path`` is None when it cannot render."""

    path: str | None
    version: str | None = None
    engines: tuple[str, ...] | None = None
    problem: str | None = None


def version_number(version: str | None) -> int | None:
    """``304`` for ``"3.4.1"``: the form a .blend header stores (``blend_file_version``)."""
    if not version:
        return None
    major, minor = (int(part) for part in version.split(".")[:2])
    return major * 100 + minor


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


_version_cache: dict[tuple[str, int, int], tuple[str | None, str | None]] = {}
_version_lock = threading.Lock()


def known_blender_version(binary: str, *, run: Runner = subprocess.run,
                          timeout: float = VERSION_TIMEOUT) -> tuple[str | None, str | None]:
    """``blender_version``, asked once per binary file (``_binary_key``: a replaced file is asked
    again), answers and failures alike: "auto" asks every candidate on every choice."""
    key = _binary_key(binary)
    with _version_lock:
        cached = _version_cache.get(key) if key else None
    if cached is not None:
        return cached
    answer = blender_version(binary, run=run, timeout=timeout)
    if key is not None:
        with _version_lock:
            _version_cache[key] = answer
    return answer


def version_if_known(binary: str) -> str | None:
    """The version ``known_blender_version`` found for this binary file, without asking it."""
    key = _binary_key(binary)
    with _version_lock:
        cached = _version_cache.get(key) if key else None
    return cached[0] if cached else None


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
