"""A saved copy of the .blend per batch, and the sweep that removes the copies of ended batches.

Why one copy per batch: a queued or paused batch renders later, and a copy re-saved on every
Render (one per source file) would make it render the artist's later edits. Each Render saves a
new copy named after its source file and the moment it was made
(``shots.batch-20261203-181530-a1b2c3.blend``); the recipe's jobs name it, so the batch, the
queue and the panel all know which copy is whose.

Beside each copy a small JSON note (``<copy>.json``) says which Render+ made it (pid, boot and
start time: a pid alone is reused) and, while the batch waits in the queue, its queue id. The
sweep keeps a copy while its batch may still render: the service's current (last) batch has not
ended (running, PAUSED, interrupted and resumable) or can still be retried (FAILED or CANCELLED
jobs), its queue id is still queued, or another live Blender made it
(that one sweeps its own). Everything else goes: the copies of batches that finished every job
or that a newer batch replaced, and at start the left-overs of a Blender that quit or crashed.

No ``bpy`` here: the add-on hands in its folder and what is live, so plain tests can check it.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batch.store import Owner
from ..batch.view import BatchView, JobStatus

NOTE_SUFFIX = ".json"
COPY_PATTERNS = ("*.blend", "*.blend1")  # .blend1: what Blender keeps of an overwritten file


def new_copy_path(folder: Path, blend_path: str, now: float | None = None) -> Path:
    """A copy path no other batch uses: the source file's name, the time and a random tag."""
    stem = Path(blend_path).stem if blend_path else "untitled"
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return folder / f"{stem}.batch-{stamp}-{secrets.token_hex(3)}.blend"


def note_path(copy: Path | str) -> Path:
    return Path(f"{copy}{NOTE_SUFFIX}")


@dataclass(frozen=True)
class CopyNote:
    """Who made a copy and, while its batch is queued, the queue id."""

    owner: Owner
    queue_id: int | None = None
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        owner = self.owner
        return {"pid": owner.pid, "boot_id": owner.boot_id, "start_ticks": owner.start_ticks,
                "queue_id": self.queue_id, "source": self.source}


def write_note(copy: Path | str, *, source: str, queue_id: int | None = None) -> None:
    """Record that this process made ``copy`` (and its queue id, once it is queued)."""
    note = CopyNote(Owner.current(), queue_id, source)
    target = note_path(copy)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(note.to_json()))
    os.replace(temporary, target)


def read_note(copy: Path | str) -> CopyNote | None:
    """The note beside ``copy``; None when there is none or it cannot be read."""
    try:
        data = json.loads(note_path(copy).read_text())
        owner = Owner(int(data["pid"]), data.get("boot_id"), data.get("start_ticks"))
        queue_id = data.get("queue_id")
        return CopyNote(owner, int(queue_id) if queue_id is not None else None, str(data.get("source", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})  # what a resume renders again


def may_render_again(view: BatchView) -> bool:
    """The batch may still render from its copy: it has not ended (running, PAUSED), it is
    interrupted and resumable, or it has FAILED or CANCELLED jobs that *Resume* (or ``GET
    /batch/resume``) renders again. Its copy stays until a newer batch replaces it as the
    service's last one, or a retry finishes every job."""
    if not view.status.ended or view.resumable:
        return True
    return any(job.status in RETRYABLE for job in view.jobs)


def copies_in(recipe: Any, folder: Path) -> set[str]:
    """The copies in ``folder`` that the jobs of ``recipe`` render (``blend_file``)."""
    found = set()
    for job in getattr(recipe, "jobs", ()):
        path = getattr(job, "blend_file", "")
        if path and Path(path).parent == folder:
            found.add(os.path.normpath(path))
    return found


def sweep(folder: Path, *, keep: Iterable[str], queued_ids: Iterable[int]) -> list[Path]:
    """Remove the copies in ``folder`` whose batch has ended; returns what was removed.

    ``keep``: the copies of the batch that has not ended (running, paused, resumable);
    ``queued_ids``: the ids in the queue now (a copy whose note names one of them waits there).
    Copies another live process made are left to it; a copy that cannot be removed stays (the
    next sweep tries again)."""
    if not folder.is_dir():
        return []
    kept = {os.path.normpath(path) for path in keep}
    queued = set(queued_ids)
    me = os.getpid()
    removed: list[Path] = []
    for copy in sorted(path for pattern in COPY_PATTERNS for path in folder.glob(pattern)):
        main = copy.with_suffix(".blend")  # x.blend1 belongs with x.blend
        if os.path.normpath(main) in kept:
            continue
        note = read_note(main)
        if note is not None and note.queue_id is not None and note.queue_id in queued:
            continue
        if note is not None and note.owner.pid != me and note.owner.alive():
            continue
        try:
            copy.unlink()
            removed.append(copy)
        except FileNotFoundError:
            continue
        except OSError:
            continue
        if copy == main:
            note_path(main).unlink(missing_ok=True)
    for note_file in folder.glob(f"*.blend{NOTE_SUFFIX}"):  # a note whose copy is gone
        if not Path(str(note_file)[:-len(NOTE_SUFFIX)]).exists():
            note_file.unlink(missing_ok=True)
    return removed
