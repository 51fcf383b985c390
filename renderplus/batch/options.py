"""How a batch runs beyond what its recipe says, frozen per batch, and which Blender renders.

A batch takes its options when it is made and they never change under it: the add-on's
preference for the Blender binary (or the server's ``--blender``) may change while a batch
renders, and only later batches see the new value. ``choose_blender`` is the one place that
says which binary a job uses.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import Clock
    from .recipe import Job, Recipe

DEFAULT_BLENDER = "blender"
AUTO = "auto"  # blender_bin: the Blender whose version fits each .blend (blender_pick)


@dataclass(frozen=True)
class RunOptions:
    """Frozen: make a changed copy with ``options.with_changes(blender_bin=...)``."""

    cleanup: bool = True                 # remove each job's temp folder afterwards
    write_log: bool | None = None        # None: the recipe's settings.write_log
    log_dir: str | None = None           # default: the server's log folder
    debug: bool = False                  # log every Blender line at DEBUG level
    kill_grace: float = 5.0              # seconds between SIGTERM and SIGKILL on cancel
    blender_bin: str | None = None       # used when neither the job nor the recipe names one
    blenders: tuple[str, ...] = ()       # candidates of "auto" (--blender flags, the add-on's list)
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # extra env
    memory_floor_mb: float = 512.0       # a job starts beside others only above this free memory
    memory_needed_mb: Callable[[str, str], float] | None = None  # (blend, job name) -> MB last time
    clock: Clock | None = None           # start times and windows go by it (None: the wall clock)

    def __post_init__(self) -> None:
        if not isinstance(self.env, MappingProxyType):
            object.__setattr__(self, "env", MappingProxyType(dict(self.env or {})))

    def with_changes(self, **changes: Any) -> RunOptions:
        return replace(self, **changes)


def child_environment(options: RunOptions, extra: Mapping[str, str]) -> dict[str, str]:
    """What a child of a batch (Blender, a hook) sees: this process's environment, the options'
    extra variables, then ``extra``."""
    env = dict(os.environ)
    env.update(options.env)
    env.update(extra)
    return env


def choose_blender(recipe: Recipe | None, default: str | None = None, job: Job | None = None, *,
                   candidates: Sequence[str] = ()) -> str:
    """The binary a job (or, without one, the batch) renders with.

    In order: the job's ``blender_bin`` (an extension), the recipe's, ``default`` (the
    server's first ``--blender`` or the add-on's preference), ``blender`` on PATH, the bare name
    (a check then reports it missing). A recipe's path is relative to the recipe; a bare name
    is looked up on PATH as a shell would. ``"auto"`` is the Blender chosen for the job's .blend
    among ``candidates`` and the installed ones (``blender_pick``), ``"auto"`` itself when none
    fits (never an executable of that name): ``pick_blender`` also says why.
    """
    from .blender_pick import pick_blender

    return pick_blender(recipe, default, job, candidates=candidates).path


def choose_blender_name(recipe: Recipe | None, default: str | None = None, job: Job | None = None) -> str:
    """``choose_blender`` before "auto" is resolved: the name, resolved against the recipe."""
    if says_auto(recipe, default, job):
        return AUTO
    named = _named(recipe, job)
    if named and recipe is not None:
        return _resolve(recipe, named)
    if default:
        return default
    return shutil.which(DEFAULT_BLENDER) or DEFAULT_BLENDER


def says_auto(recipe: Recipe | None, default: str | None = None, job: Job | None = None) -> bool:
    """Whether ``job`` (or the batch) renders with "auto", without looking anything up."""
    named = _named(recipe, job)
    return named == AUTO or (not named and default == AUTO)


def _named(recipe: Recipe | None, job: Job | None) -> str:
    named = str(getattr(job, "blender_bin", "") or "") if job is not None else ""
    if not named and recipe is not None:
        named = recipe.blender_bin or ""
    return named


def _resolve(recipe: Recipe, name: str) -> str:
    if os.sep in name or (os.altsep and os.altsep in name) or name.startswith("~"):
        return recipe.resolve(name)
    return shutil.which(name) or name
