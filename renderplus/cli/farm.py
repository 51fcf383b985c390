"""``--farm``: render on a farm instead of this machine (chosen where Render+ runs, never in
the recipe). ``--farm slurm[:PARTITION]`` submits through Slurm's command line; ``--farm
flamenco=URL`` through a Flamenco Manager's REST API. Farm nodes must see the .blend, its
assets and the outputs at the same paths: ``--farm-storage`` names the shared folder (its
``renderplus-staging`` subfolder holds what Render+ stages; default: the work folder), and
``--farm-blender`` the Blender the nodes run (Slurm; Flamenco uses its ``{blender}``),
``--farm-ffmpeg`` the FFmpeg that makes a job's movie on a node (its ``encode``, the farm job's
last step). The flags only name a ``FarmChoice`` (``renderplus.batch.executors.farm.choice``),
which the add-on's "Render on" preference makes too; the wiring is the choice's.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from .common import UsageError, work_folder

if TYPE_CHECKING:
    from ..batch.executors import Executor
    from ..batch.executors.farm.choice import FarmChoice
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


def farm_choice(args: argparse.Namespace) -> FarmChoice:
    """Where ``--farm`` renders (``FarmChoice``: this machine without it); UsageError with the
    choice's sentence for a bad value."""
    from ..batch.executors.farm.choice import FarmChoice, FarmChoiceError

    try:
        return FarmChoice.parse(args.farm, storage=args.farm_storage or work_folder(args),
                                blender=args.farm_blender,
                                ffmpeg=getattr(args, "farm_ffmpeg", None) or "ffmpeg")
    except FarmChoiceError as exc:
        raise UsageError(f"--farm {exc}") from None


def executor_factory(args: argparse.Namespace) -> Callable[[Recipe], Executor] | None:
    """What makes each batch's executor when ``--farm`` is given, else None (this machine)."""
    return farm_choice(args).executor_factory() if args.farm else None
