"""Facts about a .blend: its header (read here) and what it holds (only Blender can tell).

``probe_file`` runs a Blender once with ``blender_scripts/probe_file.py`` (scripts in the file
stay disabled), which prints the file's scenes, cameras, view layers, worlds and which render
engines this Blender has as one marker line (``markers.py``). The add-on builds the same
``FileFacts`` from ``bpy.data`` of the open file, so both are judged by the same rules
(``rules.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ..blend_version import saved_version
from ..blendfile import blend_file_version, blend_header_problem, read_head
from ..markers import parse_marker
from ..script_paths import PROBE_SCRIPT
from .binary import Runner

PROBE_TIMEOUT = 180.0


@dataclass(frozen=True)
class SceneFacts:
    """One scene: its camera objects, active camera, view layers, output path and engine."""

    cameras: Collection[str]
    camera: str | None
    layers: Collection[str]
    output: str = ""
    engine: str = ""


@dataclass
class FileFacts:
    """What one .blend holds (``blender``: the version that read it)."""

    blender: str
    active_scene: str
    scenes: Mapping[str, SceneFacts]
    worlds: Collection[str]
    engines: list[str]


def scene_facts(data: Mapping[str, Any]) -> SceneFacts:
    """A scene as the probe script reports it (JSON)."""
    camera = data.get("camera")
    return SceneFacts(cameras=list(data.get("cameras") or []), camera=str(camera) if camera else None,
                      layers=list(data.get("layers") or []), output=str(data.get("output") or ""),
                      engine=str(data.get("engine") or ""))


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
            scenes = dict(marker.get("scenes") or {})
            return FileFacts(blender=str(marker.get("blender", "")),
                             active_scene=str(marker.get("active_scene", "")),
                             scenes={str(name): scene_facts(scene) for name, scene in scenes.items()},
                             worlds=list(marker.get("worlds") or []),
                             engines=list(marker.get("engines") or [])), None
    errors = [line.strip() for line in result.stdout.splitlines() if line.lstrip().startswith("Error")]
    code = result.returncode
    how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
    detail = errors[-1] if errors else "no error message"
    return None, f"Blender could not read {path} ({how}): {detail}"


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
    return blend_file_version(head) or saved_version(source).version, None  # or compressed
