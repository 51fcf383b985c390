"""Pausing a batch: the request and its rules (docs/engine-api.md, Pause).

A pause is asked with a ``when``: ``"now"`` ends every running Blender at once (the frame in
progress renders again later), ``"frame"`` lets each running job finish the frame it is writing,
``"job"`` lets the running jobs finish. No job starts once a pause is asked. A stronger ``when``
upgrades a pause under way (job < frame < now); asking the same or a weaker one again changes
nothing.

"After the frame" reaches the Blender without a signal (SIGINT would make Blender drop the
frame it renders, and a signal to a group also reaches wrappers): the job loop names a file in
the job's temp folder in ``STOP_FILE_VAR``; an executor asked to pause a job "after the frame"
creates it (``ask_to_stop``); the job script looks for it after each frame it wrote and then
exits with ``markers.PAUSED_EXIT_CODE`` (docs/blender.md, Pausing after the frame).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

PAUSE_WHEN = ("now", "frame", "job")       # weakest last: job < frame < now
STOP_FILE_VAR = "RENDERPLUS_STOP_FILE"
STOP_FILE_NAME = "renderplus-stop"
_STRENGTH = {"job": 0, "frame": 1, "now": 2}
_SAID = {"now": "now", "frame": "after the frame in progress", "job": "after the running jobs"}


def check_when(when: str) -> str:
    """``when`` itself; ValueError naming the accepted values when it is none of them."""
    if when not in _STRENGTH:
        raise ValueError(f"Unknown pause {when!r}: use one of {', '.join(PAUSE_WHEN)}")
    return when


@dataclass(frozen=True)
class PauseRequest:
    """A pause under way: when the running jobs stop, and when it was asked (epoch seconds)."""

    when: str
    asked: float

    @property
    def stops_jobs(self) -> bool:
        """Whether running jobs are asked to stop (``now``, ``frame``), not only left to end."""
        return self.when != "job"

    def stronger_than(self, other: PauseRequest | None) -> bool:
        """Whether this request changes anything after ``other`` (None: no pause under way)."""
        return other is None or _STRENGTH[self.when] > _STRENGTH[other.when]

    @property
    def sentence(self) -> str:
        return f"Pausing {_SAID[self.when]}: no new job starts"


def stop_file(workdir: str) -> str:
    """The stop file of a job run whose temp folder is ``workdir``."""
    return os.path.join(workdir, STOP_FILE_NAME)


def ask_to_stop(env: Mapping[str, str]) -> bool:
    """Create the stop file a job's environment names (its Blender stops after the frame it is
    writing); False when it names none or the file cannot be made."""
    path = env.get(STOP_FILE_VAR)
    if not path:
        return False
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8"):
        return True
    return False


def stronger(first: str | None, second: str) -> str:
    """The stronger of two ``when``s (``first`` None: ``second``)."""
    return second if first is None or _STRENGTH[second] > _STRENGTH[first] else first


def put_back_index(order: Iterable[int], held: Collection[int], job_id: int,
                   started: Callable[[int], float]) -> int:
    """Where a job a pause stopped goes back in the run order: at the front, after the jobs
    the pause put back already (``held``) that had started before it."""
    index = 0
    for other in order:
        if other not in held or started(other) > started(job_id):
            break
        index += 1
    return index
