"""``--farm``: render on a farm instead of this machine (chosen where Render+ runs, never in
the recipe). ``--farm slurm[:PARTITION]`` submits through Slurm's command line; ``--farm
flamenco=URL`` through a Flamenco Manager's REST API. Farm nodes must see the .blend, its
assets and the outputs at the same paths: ``--farm-storage`` names the shared folder (its
``renderplus-staging`` subfolder holds what Render+ stages; default: the work folder), and
``--farm-blender`` the Blender the nodes run (Slurm; Flamenco uses its ``{blender}``),
``--farm-ffmpeg`` the FFmpeg that makes a job's movie on a node (its ``encode``, the farm job's
last step).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .common import UsageError, work_folder

if TYPE_CHECKING:
    from ..batch.executors import Executor
    from ..batch.executors.farm import FarmEngine, SharedStorage
    from ..batch.recipe import Recipe


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("render farm (Render+'s additions)")
    group.add_argument("--farm", default=None, metavar="slurm[:PARTITION]|flamenco=URL",
                       help="Render on a farm: Slurm (optionally one partition) or a Flamenco Manager")
    group.add_argument("--farm-storage", default=None, metavar="DIR",
                       help="Shared folder every farm node sees at the same path (default: the work folder)")
    group.add_argument("--farm-blender", default=None, metavar="PATH",
                       help="The Blender the Slurm nodes run (default: the recipe's or 'blender')")
    group.add_argument("--farm-ffmpeg", default="ffmpeg", metavar="PATH",
                       help="The FFmpeg the farm nodes make movies with (default: 'ffmpeg' on their PATH)")


def farm_engine(spec: str, blender: str | None = None, ffmpeg: str = "ffmpeg") -> FarmEngine:
    """The engine ``--farm`` names; UsageError with a sentence for anything else."""
    from ..batch.executors.farm import FlamencoEngine, SlurmEngine

    if spec == "slurm" or spec.startswith("slurm:"):
        partition = spec.partition(":")[2] or None
        return SlurmEngine(partition, blender=blender, ffmpeg=ffmpeg)
    if spec.startswith("flamenco="):
        url = spec.partition("=")[2]
        if not url.startswith(("http://", "https://")):
            raise UsageError(f"--farm flamenco=URL: the Manager's address, e.g. http://manager:8080 "
                             f"(got {url!r})")
        return FlamencoEngine(url, ffmpeg=ffmpeg)
    raise UsageError(f"--farm {spec!r}: use slurm, slurm:PARTITION or flamenco=URL")


def farm_storage(args: argparse.Namespace) -> SharedStorage:
    from ..batch.executors.farm import SharedStorage

    root = Path(args.farm_storage or work_folder(args)).resolve()
    return SharedStorage(roots=[str(root)], staging_dir=str(root / "renderplus-staging"))


def executor_factory(args: argparse.Namespace) -> Callable[[Recipe], Executor] | None:
    """What makes each batch's executor when ``--farm`` is given, else None (this machine)."""
    if not args.farm:
        return None
    from ..batch.executors.farm import FarmExecutor

    engine = farm_engine(args.farm, args.farm_blender, getattr(args, "farm_ffmpeg", "ffmpeg"))
    storage = farm_storage(args)

    def make(recipe: Recipe) -> Executor:
        return FarmExecutor(engine, storage, chunk_size=recipe.settings.farm_chunk, recipe=recipe)

    return make


def farm_status(args: argparse.Namespace) -> Callable[[], dict[str, object]]:
    """What ``/test`` reports about the farm: whether it answers and what it offers."""
    from ..batch.executors.farm import check_farm

    engine, storage = farm_engine(args.farm, args.farm_blender), farm_storage(args)
    return lambda: check_farm(engine, storage).to_json()
