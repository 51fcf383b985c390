"""blend_copies without Blender: one copy per batch, and the sweep that keeps the copies of
batches that may still render (the current one, queued ones, another live Blender's) and
removes the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from renderplus.addon import blend_copies
from renderplus.batch.store import Owner


def make_copy(folder: Path, name: str, *, queue_id: int | None = None, owner: Owner | None = None,
              note: bool = True) -> Path:
    copy = folder / name
    copy.write_bytes(b"BLENDER")
    if note:
        blend_copies.write_note(copy, source="/projects/shots.blend", queue_id=queue_id)
        if owner is not None:  # as if another process had written it
            data = json.loads(blend_copies.note_path(copy).read_text())
            data.update(pid=owner.pid, boot_id=owner.boot_id, start_ticks=owner.start_ticks)
            blend_copies.note_path(copy).write_text(json.dumps(data))
    return copy


def test_every_batch_gets_its_own_copy_named_after_its_file(tmp_path: Path) -> None:
    paths = {blend_copies.new_copy_path(tmp_path, "/projects/shots.blend", now=0.0) for _ in range(50)}
    assert len(paths) == 50
    assert all(p.parent == tmp_path and p.name.startswith("shots.batch-") and p.suffix == ".blend"
               for p in paths)
    assert blend_copies.new_copy_path(tmp_path, "").name.startswith("untitled.batch-")


def test_the_note_says_who_made_it_and_its_queue_id(tmp_path: Path) -> None:
    copy = make_copy(tmp_path, "a.blend", queue_id=7)
    note = blend_copies.read_note(copy)
    assert note is not None and note.owner == Owner.current() and note.queue_id == 7
    assert note.source == "/projects/shots.blend"
    blend_copies.note_path(copy).write_text("{broken")
    assert blend_copies.read_note(copy) is None


def test_copies_in_names_only_this_folders_copies(tmp_path: Path) -> None:
    recipe = SimpleNamespace(jobs=[SimpleNamespace(blend_file=str(tmp_path / "a.blend")),
                                   SimpleNamespace(blend_file=""),           # an external job
                                   SimpleNamespace(blend_file="/elsewhere/b.blend")])
    assert blend_copies.copies_in(recipe, tmp_path) == {str(tmp_path / "a.blend")}


def test_the_sweep_keeps_live_batches_copies_and_removes_ended_ones(tmp_path: Path) -> None:
    current = make_copy(tmp_path, "current.blend")
    queued = make_copy(tmp_path, "queued.blend", queue_id=3)
    dropped = make_copy(tmp_path, "dropped.blend", queue_id=4)     # left the queue, never started
    ended = make_copy(tmp_path, "ended.blend")
    (tmp_path / "ended.blend1").write_bytes(b"old")                # what Blender keeps on overwrite
    old_style = make_copy(tmp_path, "shots-1a2b3c4d.blend", note=False)  # one copy per file, before
    orphan_note = blend_copies.note_path(tmp_path / "gone.blend")
    orphan_note.write_text("{}")

    removed = blend_copies.sweep(tmp_path, keep=[str(current)], queued_ids=[3, 9])

    assert sorted(p.name for p in removed) == ["dropped.blend", "ended.blend", "ended.blend1",
                                               "shots-1a2b3c4d.blend"]
    assert current.exists() and queued.exists() and blend_copies.note_path(queued).exists()
    assert not dropped.exists() and not ended.exists() and not old_style.exists()
    assert not blend_copies.note_path(ended).exists() and not orphan_note.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.blend", "current.blend.json",
                                                          "queued.blend", "queued.blend.json"]


def test_the_sweep_leaves_another_live_blenders_copies_alone(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        alive = Owner(other.pid, Owner.current().boot_id, None)  # no start time: the pid decides
        theirs = make_copy(tmp_path, "theirs.blend", owner=alive)
        blend_copies.sweep(tmp_path, keep=[], queued_ids=[])
        assert theirs.exists()
    finally:
        other.communicate(b"")
    # once that Blender is gone, its copies are left-overs like any other
    assert [p.name for p in blend_copies.sweep(tmp_path, keep=[], queued_ids=[])] == ["theirs.blend"]


def test_a_missing_folder_sweeps_nothing(tmp_path: Path) -> None:
    assert blend_copies.sweep(tmp_path / "none", keep=[], queued_ids=[]) == []


def test_the_last_batch_keeps_its_copy_while_a_resume_may_render_it_again() -> None:
    """Running, PAUSED, resumable, or ended with FAILED or CANCELLED jobs: ``Resume`` (``GET
    /batch/resume``) renders those from the copy. Every job finished: it may go."""
    from renderplus.batch.view import BatchStatus, JobStatus

    def view(status: BatchStatus, *jobs: JobStatus, resumable: bool = False) -> Any:
        return SimpleNamespace(status=status, resumable=resumable,
                               jobs=[SimpleNamespace(status=job) for job in jobs])

    may = blend_copies.may_render_again
    assert may(view(BatchStatus.RUNNING, JobStatus.RUNNING))
    assert may(view(BatchStatus.PAUSED, JobStatus.QUEUED))
    assert may(view(BatchStatus.CANCELLED, JobStatus.FINISHED, resumable=True))
    assert may(view(BatchStatus.FINISHED, JobStatus.FINISHED, JobStatus.FAILED))
    assert may(view(BatchStatus.CANCELLED, JobStatus.FINISHED, JobStatus.CANCELLED))
    assert not may(view(BatchStatus.FINISHED, JobStatus.FINISHED, JobStatus.DISABLED))
