"""What the add-on holds while Blender runs: the service, the server handles, the batch it
launched and what the pump last showed. One instance, owned by ``bridge``; only Blender's main
thread reads or writes it. ``make_service`` composes the add-on's batch slot (bpy-free, so a
plain-Python test can check what it attaches)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..around import watchers_factory
from ..batch.executors.farm.choice import FarmChoice
from ..batch.options import RunOptions
from ..batch.recipe import Recipe
from ..batch.runner import Batch
from ..batch.service import BatchService
from ..batch.view import BatchView
from .binary_info import BinaryInfoCache
from .remote_batch import RemoteBatch
from .remote_service import RemoteService
from .run_io import RunMirror

if TYPE_CHECKING:
    from ..batch.store import BatchStore
    from ..server import ServerHandle


def make_service(*, default_blender: str | None, log_dir: str | os.PathLike[str],
                 work_dir: str | os.PathLike[str], store: BatchStore | None,
                 continue_queue: bool = False, blenders: tuple[str, ...] = ()) -> BatchService:
    """The add-on's one batch slot (shared with its server): logs in ``log_dir``, uploads in
    ``work_dir``, and on every batch it runs the recipe's RSS feed, desktop, sound and mail
    notices and its power action (``renderplus.around``). ``continue_queue``: a queue left by
    the last Blender goes on by itself (the preference; else it waits, held)."""
    options = RunOptions(log_dir=str(log_dir), blender_bin=default_blender, blenders=blenders)
    return BatchService(options, work_dir=work_dir, store=store, observers=(watchers_factory(),),
                        continue_queue=continue_queue)


@dataclass
class Launch:
    """What the add-on knows about a batch it started (HTTP-started batches have none)."""

    batch: Batch | RemoteBatch | None  # None while it waits in the queue
    scene: str
    uids: list[int]
    copy_path: str
    recipe: Recipe | None = None

    def started_as(self, batch: Batch | RemoteBatch) -> bool:
        """``batch`` is this queued launch, started: the same recipe, or one naming its copy."""
        if batch.recipe is self.recipe:
            return True
        return bool(self.copy_path) and any(job.blend_file == self.copy_path for job in batch.recipe.jobs)


@dataclass
class AddonState:
    service: BatchService | RemoteService | None = None  # RemoteService: attached to a server
    default_blender: str | None = None  # the add-on's preference (or this Blender's binary)
    blender_candidates: tuple[str, ...] = ()  # what "auto" chooses from: this Blender, the list
    server: ServerHandle | None = None
    stopping: list[ServerHandle] = field(default_factory=list)  # asked to stop, port not free yet
    launch: Launch | None = None
    shown_batch: Batch | RemoteBatch | None = None  # the batch whose state the UI shows
    seen_revision: int = -1
    mirror: RunMirror = field(default_factory=RunMirror)
    pump_error: str = ""
    followed_job: int | None = None  # the running job the job list last selected
    binaries: BinaryInfoCache = field(default_factory=BinaryInfoCache)
    redraw_pending: bool = False  # progress was written that the sidebar has not shown yet
    last_redraw: float = 0.0  # time.monotonic() of the pump's last sidebar redraw
    seen_milestones: int = 0  # RunMirror.milestones at the pump's last write
    seen_attached: str | None = None  # the attachment the Preferences window last showed
    interrupted: BatchView | None = None  # a batch a quit or crash cut short (the durable store)
    owned_elsewhere: str = ""  # the sentence naming another Render+ that runs the store's batch
    copies_of_others: set[str] = field(default_factory=set)  # copies that batch renders: kept
    continue_queue: bool = False  # the preference, read when the service is made
    queued_launches: dict[int, Launch] = field(default_factory=dict)  # queue id -> what it renders
    queue: Any = None  # the service's QueueView as the pump read it last (None: no queue)
    queue_read: float = 0.0  # time.monotonic() of that read
    farm: FarmChoice = field(default_factory=FarmChoice)  # "Render on" (farm_choice): the slot's farm
    farm_problem: str = ""  # why the farm chosen cannot be used ("": it can, or this machine)
    farm_wanted: str = "local"  # the place the preference names (a farm even when it cannot work)
