"""Shared storage: what farm nodes can see, and putting a job where they can.

Farm nodes read the .blend, its assets, the job file and the override script, and write the
outputs, at the same paths Render+ uses; that holds for folders under the configured shared
roots. Each farm job gets a staging folder there holding the override script, one job file per
chunk and, when the .blend or one of its textures, libraries or caches lies outside shared
storage, a copy of the .blend packed with its dependencies by Blender Asset Tracer (BAT: the
library Flamenco uses for the same job), whose relative paths then resolve inside the folder.

BAT is imported only when a .blend is read: installed (``blender-asset-tracer`` on PyPI), else
the wheel the add-on bundles for this Python (``wheel_imports``); a farm whose files all live on
shared storage works without it as long as nothing needs packing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...wheel_imports import import_bundled
from .base import FarmError

log = logging.getLogger("renderplus.farm")

_MOVIE_IMTYPES = frozenset({15, 16, 25})   # Blender's R_IMF_IMTYPE_AVIRAW, AVIJPEG, FFMPEG
PACK_MODES = ("auto", "always", "never")


class SharedStorage:
    """The folders every farm node sees at the same path, and where jobs are staged."""

    def __init__(self, roots: Sequence[str], staging_dir: str) -> None:
        if not roots:
            raise ValueError("shared storage needs at least one root folder")
        self.roots = tuple(os.path.realpath(root) for root in roots)
        self.staging_dir = os.path.realpath(staging_dir)
        if not self.sees(self.staging_dir):
            raise ValueError(f"the staging folder {staging_dir} is not under a shared root "
                             f"({', '.join(self.roots)}): farm nodes could not read it")

    def sees(self, path: str | os.PathLike[str]) -> bool:
        real = os.path.realpath(path)
        return any(real == root or real.startswith(root.rstrip("/") + "/") for root in self.roots)


@dataclass(frozen=True)
class Asset:
    path: str       # absolute, resolved against the .blend that uses it
    used_by: str    # the data-block, e.g. "IMbrick.png"
    exists: bool


@dataclass(frozen=True)
class StagedBlend:
    path: str               # what the nodes open: the original or its packed copy
    original: str
    packed: bool
    missing: tuple[str, ...] = ()   # dependencies BAT could not find (rendered without them)


def _bat() -> Any:
    """BAT's ``trace``: installed, else the add-on's bundled wheel for this Python."""
    try:
        import_bundled("blender_asset_tracer")
        from blender_asset_tracer import trace
    except ImportError as exc:
        raise FarmError("reading a .blend's dependencies needs Blender Asset Tracer "
                        "(pip install blender-asset-tracer)") from exc
    return trace


def blend_assets(blend: str) -> list[Asset]:
    """Every file the .blend uses (textures, libraries, caches, sounds...), as BAT reads it."""
    trace = _bat()
    assets: dict[str, Asset] = {}
    try:
        for usage in trace.deps(Path(blend)):
            path = str(usage.abspath)
            name = usage.block_name.decode("utf-8", "replace")
            exists = any(True for _ in usage.files()) if usage.is_sequence else os.path.exists(path)
            assets.setdefault(path, Asset(path, name, exists))
    except FarmError:
        raise
    except Exception as exc:  # BAT raises its own errors for files it cannot parse
        raise FarmError(f"cannot read the dependencies of {blend}: {exc}") from exc
    finally:
        _close_bat_files()
    return list(assets.values())


def invisible_assets(blend: str, storage: SharedStorage) -> list[str]:
    """One sentence per file a farm node could not see (what ``--check`` prints)."""
    problems = []
    if not storage.sees(blend):
        problems.append(f"{blend}: the .blend is not on shared storage ({', '.join(storage.roots)})")
    for asset in blend_assets(blend):
        if not asset.exists:
            problems.append(f"{asset.path} (used by {asset.used_by}): missing")
        elif not storage.sees(asset.path):
            problems.append(f"{asset.path} (used by {asset.used_by}): not on shared storage")
    return problems


def stage_blend(blend: str, storage: SharedStorage, folder: str, pack: str = "auto") -> StagedBlend:
    """The .blend the nodes open: the original when it and every dependency is on shared
    storage (``pack="auto"``), else a BAT-packed copy in ``folder/packed``."""
    if pack not in PACK_MODES:
        raise ValueError(f"pack must be one of {', '.join(PACK_MODES)}, not {pack!r}")
    if pack == "never" or (pack == "auto" and _all_visible(blend, storage)):
        if not storage.sees(blend):
            raise FarmError(f"the .blend {blend} is not on shared storage and packing is off")
        return StagedBlend(blend, blend, packed=False)
    return _pack(blend, os.path.join(folder, "packed"))


def _all_visible(blend: str, storage: SharedStorage) -> bool:
    if not storage.sees(blend):
        return False
    return all(storage.sees(asset.path) for asset in blend_assets(blend) if asset.exists)


def _pack(blend: str, target: str) -> StagedBlend:
    _bat()
    from blender_asset_tracer import pack as bat_pack

    source = Path(blend).resolve()
    try:
        with bat_pack.Packer(source, source.parent, target) as packer:
            packer.strategise()
            packer.execute()
            packed = str(packer.output_path)
            missing = tuple(sorted(str(path) for path in packer.missing_files))
    except Exception as exc:
        raise FarmError(f"cannot pack {blend} for the farm: {exc}") from exc
    finally:
        _close_bat_files()
    log.info("packed %s into %s (%d missing)", blend, packed, len(missing))
    return StagedBlend(packed, blend, packed=True, missing=missing)


def scene_is_movie(blend: str, scene: str = "") -> bool:
    """True when the scene (or the file's first scene) writes a movie, which cannot be split
    into chunks. False when the file cannot be read (the job then renders in chunks)."""
    try:
        _bat()
        from blender_asset_tracer import blendfile
    except FarmError:
        return False
    try:
        with blendfile.BlendFile(Path(blend)) as bfile:
            for block in bfile.find_blocks_from_code(b"SC"):
                name = (block.id_name or b"SC")[2:].decode("utf-8", "replace")
                if scene and name != scene:
                    continue
                return int(block.get((b"r", b"im_format", b"imtype"))) in _MOVIE_IMTYPES
    except Exception:  # an unreadable or newer file: assume frames
        log.debug("cannot read the output format of %s", blend, exc_info=True)
    return False


def write_chunk_config(template: dict[str, Any], frames_spec: str,
                       render_runs: list[list[int]] | None, path: str) -> None:
    """The job file of one chunk: the job's own, with the chunk's frames."""
    config = dict(template, frames=frames_spec, render_runs=render_runs)
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(config, stream, indent=1)


def stage_script(script: str, folder: str) -> str:
    """Copy the override script with the modules beside it (it imports its siblings) into
    ``folder/scripts``; the staged script's path."""
    source_dir = os.path.dirname(os.path.abspath(script))
    target_dir = os.path.join(folder, "scripts")
    os.makedirs(target_dir, exist_ok=True)
    for name in os.listdir(source_dir):
        if name.endswith(".py"):
            shutil.copyfile(os.path.join(source_dir, name), os.path.join(target_dir, name))
    target = os.path.join(target_dir, os.path.basename(script))
    if not os.path.exists(target):
        shutil.copyfile(script, target)
    return target


def _close_bat_files() -> None:
    try:
        from blender_asset_tracer import blendfile
    except ImportError:
        return
    blendfile.close_all_cached()
