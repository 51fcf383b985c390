"""``FarmChoice``: where a Render+ renders (this machine, a Slurm partition or a Flamenco
Manager) and what the farm's nodes share, as one frozen value.

The standalone server's ``--farm`` flags and the add-on's "Render on" preference both make one,
so the wiring below them (the farm engine, shared storage, the executor each batch gets, what
``/test`` says about the farm) lives here once. A choice that cannot work (an address that is not
a Manager's, no shared storage folder) is refused when it is made, with a sentence naming the
problem (``FarmChoiceError``), never when a batch starts.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...recipe import Recipe
    from ..base import Executor
    from .base import FarmEngine
    from .check import FarmCheck
    from .staging import SharedStorage

LOCAL, SLURM, FLAMENCO = "local", "slurm", "flamenco"
PLACES = (LOCAL, SLURM, FLAMENCO)
STAGING_FOLDER = "renderplus-staging"   # under the storage folder: what Render+ stages for the nodes
SPEC_HELP = "use slurm, slurm:PARTITION or flamenco=URL"


class FarmChoiceError(ValueError):
    """A farm choice that cannot work; ``str()`` is the sentence that says why."""


@dataclass(frozen=True)
class FarmChoice:
    """``where``: ``local`` (this machine: no farm), ``slurm`` (``partition``, None: the
    cluster's default) or ``flamenco`` (the Manager at ``url``). ``storage``: the folder every
    farm node sees at the same path (its ``renderplus-staging`` subfolder holds what Render+
    stages); ``blender``: the Blender the Slurm nodes run (None: the job's own; Flamenco uses
    each Worker's ``{blender}``); ``ffmpeg``: the FFmpeg a node makes a job's movie with."""

    where: str = LOCAL
    partition: str | None = None
    url: str = ""
    storage: str = ""
    blender: str | None = None
    ffmpeg: str = "ffmpeg"

    def __post_init__(self) -> None:
        if self.where not in PLACES:
            raise FarmChoiceError(f"render on {self.where!r}: choose {', '.join(PLACES)}")
        if self.where == LOCAL:
            return
        if self.where == FLAMENCO:
            check_manager_url(self.url)
        if not self.storage.strip():
            raise FarmChoiceError("a farm needs a shared storage folder: the folder every farm "
                                  "node sees at the same path")
        if not os.path.isabs(os.path.expanduser(self.storage)):
            raise FarmChoiceError(f"the shared storage folder {self.storage!r} is not an absolute "
                                  "path: farm nodes need the same path this machine uses")

    @classmethod
    def parse(cls, spec: str | None, *, storage: str | os.PathLike[str] = "",
              blender: str | None = None, ffmpeg: str = "ffmpeg") -> FarmChoice:
        """The choice a ``--farm`` value names: ``slurm``, ``slurm:PARTITION``,
        ``flamenco=URL``; None or empty: this machine. FarmChoiceError for anything else."""
        if not spec:
            return cls()
        folder = os.path.abspath(os.path.expanduser(os.fspath(storage))) if storage else ""
        if spec == SLURM or spec.startswith(SLURM + ":"):
            return cls(SLURM, partition=spec.partition(":")[2] or None, storage=folder,
                       blender=blender or None, ffmpeg=ffmpeg)
        if spec.startswith(FLAMENCO + "="):
            return cls(FLAMENCO, url=spec.partition("=")[2], storage=folder, blender=blender or None,
                       ffmpeg=ffmpeg)
        raise FarmChoiceError(f"{spec!r}: {SPEC_HELP}")

    @property
    def on_farm(self) -> bool:
        return self.where != LOCAL

    def spec(self) -> str:
        """The ``--farm`` value naming this choice ("" for this machine)."""
        if self.where == SLURM:
            return f"slurm:{self.partition}" if self.partition else "slurm"
        return f"flamenco={self.url}" if self.where == FLAMENCO else ""

    def describe(self) -> str:
        """Where batches render, in words."""
        if self.where == SLURM:
            return f"Slurm partition '{self.partition}'" if self.partition else "Slurm's default partition"
        if self.where == FLAMENCO:
            return f"the Flamenco Manager at {self.url}"
        return "this machine"

    def engine(self) -> FarmEngine:
        """The farm engine (FarmChoiceError for this machine, which has none)."""
        from .flamenco import FlamencoEngine
        from .slurm import SlurmEngine

        if self.where == SLURM:
            return SlurmEngine(self.partition, blender=self.blender, ffmpeg=self.ffmpeg)
        if self.where == FLAMENCO:
            return FlamencoEngine(self.url, ffmpeg=self.ffmpeg)
        raise FarmChoiceError("this machine is not a farm: it has no farm engine")

    def shared_storage(self) -> SharedStorage:
        from .staging import SharedStorage

        root = os.path.realpath(os.path.expanduser(self.storage))
        return SharedStorage(roots=[root], staging_dir=os.path.join(root, STAGING_FOLDER))

    def executor_factory(self) -> Callable[[Recipe], Executor] | None:
        """What makes each batch's executor (a ``FarmExecutor`` with the batch's recipe, so
        its chunk size and movies are the recipe's); None for this machine."""
        if not self.on_farm:
            return None
        from .executor import FarmExecutor

        engine, storage = self.engine(), self.shared_storage()

        def make(recipe: Recipe) -> Executor:
            return FarmExecutor(engine, storage, chunk_size=recipe.settings.farm_chunk, recipe=recipe)

        return make

    def check(self, blendfiles: Iterable[str] = ()) -> FarmCheck:
        """``check_farm``: does the farm answer, what it offers, and which files of each .blend
        its nodes could not see (never raises; FarmChoiceError for this machine)."""
        from .check import check_farm

        return check_farm(self.engine(), self.shared_storage(), blendfiles)

    def unseen_outputs(self, recipe: Recipe) -> list[str]:
        """One sentence per enabled job whose output lies outside shared storage: its nodes
        would write the frames on their own disks ([] for this machine; a job whose output is
        the file's own cannot be told here)."""
        if not self.on_farm:
            return []
        storage = self.shared_storage()
        return [f"job {job.name or job.id!r} writes to {recipe.resolve(job.output)}, outside shared "
                f"storage ({self.storage}): farm nodes would keep its frames on their own disks"
                for job in recipe.enabled_jobs
                if job.output and not storage.sees(os.path.dirname(recipe.resolve(job.output)) or "/")]

    def status(self) -> dict[str, object] | None:
        """What ``/test`` reports as ``farm`` (asks the farm now); None for this machine."""
        return self.check().to_json() if self.on_farm else None


def check_manager_url(url: str) -> None:
    """FarmChoiceError unless ``url`` is a Flamenco Manager's address (http(s)://host[:port])."""
    parsed = urllib.parse.urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise FarmChoiceError(f"flamenco=URL: the Manager's address, e.g. http://manager:8080 "
                              f"(got {url!r})")
