"""Every path that touches a stored batch checks its owner first: a restored batch started
directly, a new start that would drop the interrupted batch, and the recovery of a dead run
(docs/engine-api.md, Ownership)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from renderplus.batch import ownership
from renderplus.batch.options import RunOptions
from renderplus.batch.runner import Batch
from renderplus.batch.service import BatchOwnedError, BatchService
from renderplus.batch.store import BatchStore, Owner
from renderplus.batch.store.claims import Claimant
from renderplus.batch.view import BatchStatus
from tests.batch.conftest import make_recipe
from tests.batch.interrupted import make_interrupted_batch, sleeping_blender
from tests.procs import processes_with
from tests.waiting import wait_for


def other_live_owner() -> Claimant:
    """Another claimant of a live process (this one, with its own token: as two services)."""
    return Claimant(Owner.current(), "the-other", "python3 -m renderplus.server",
                    socket.gethostname())


def test_a_restored_batch_owned_elsewhere_ends_at_once_and_writes_nothing(tmp_path: Path) -> None:
    work = tmp_path / "work"
    blender = sleeping_blender(tmp_path, seconds=95.5)
    batch_id = make_interrupted_batch(work, blender, Path(__file__), tmp_path / "out")
    store = BatchStore.open(work)
    stored = store.load(batch_id)
    ownership.take(store, ownership.batch_subject(batch_id), other_live_owner())
    batch = Batch.restore(stored, store, RunOptions(kill_grace=0.5))
    batch.start()
    assert batch.wait(20)
    view = batch.view()
    assert view.status is BatchStatus.CANCELLED and not view.resumable
    assert any(f"is owned by python3 -m renderplus.server (pid {os.getpid()} on " in message
               for message in view.messages)
    assert not processes_with("95.5")                       # no Blender started
    after = store.load(batch_id)
    assert after.status is BatchStatus.RUNNING and after.messages == stored.messages
    claim = store.claim(ownership.batch_subject(batch_id))
    assert claim is not None and claim.token == "the-other"     # the owner's claim stays
    store.close()


def test_a_new_start_leaves_an_interrupted_batch_another_process_took(tmp_path: Path) -> None:
    work = tmp_path / "work"
    blender = sleeping_blender(tmp_path, seconds=95.75)
    batch_id = make_interrupted_batch(work, blender, Path(__file__), tmp_path / "out")
    service = BatchService(RunOptions(kill_grace=0.5), work_dir=work, store=BatchStore.open(work))
    assert service.interrupted_view() is not None
    with BatchStore.open(work) as other:
        ownership.take(other, ownership.batch_subject(batch_id), other_live_owner())
    service.load_recipe(make_recipe([{"blend_file": __file__}], blender_bin="/bin/true"))
    new = service.start()
    assert new.wait(30)
    assert service.store is not None
    assert service.store.load(batch_id).status is BatchStatus.RUNNING     # not CANCELLED by us


def test_recovery_never_ends_the_blender_of_a_batch_another_process_runs(tmp_path: Path) -> None:
    work = tmp_path / "work"
    blender = sleeping_blender(tmp_path, seconds=96.25)
    make_interrupted_batch(work, blender, Path(__file__), tmp_path / "out")
    owner = BatchService(RunOptions(kill_grace=0.5), work_dir=work, store=BatchStore.open(work))
    batch = owner.resume()
    wait_for(lambda: len(processes_with("96.25")) == 1, timeout=30)
    wait_for(lambda: batch.view().job(0).status == "RUNNING", timeout=30)
    later = BatchService(RunOptions(kill_grace=0.5), work_dir=work, store=BatchStore.open(work),
                         claimant=ownership.new_claimant())
    assert later.interrupted_view() is None
    assert "(this process)" in (later.owned_elsewhere() or "")
    assert len(processes_with("96.25")) == 1 and batch.running
    owner.shutdown(timeout=20)                              # a clean stop releases the batch
    assert owner.store is not None
    assert owner.store.claim(ownership.batch_subject(batch.resumed_id or 0)) is None
    wait_for(lambda: not processes_with("96.25"), timeout=30)


def test_a_batch_handed_to_a_named_successor_is_resumed_by_it_only(tmp_path: Path) -> None:
    work = tmp_path / "work"
    blender = sleeping_blender(tmp_path, seconds=96.75)
    batch_id = make_interrupted_batch(work, blender, Path(__file__), tmp_path / "out")
    subject = ownership.batch_subject(batch_id)
    leaving = ownership.new_claimant(label="the Blender add-on")
    with BatchStore.open(work) as store:
        ownership.take(store, subject, leaving)
        assert ownership.release(store, subject, leaving, successor="server-token", wait=60)
    third = BatchService(RunOptions(kill_grace=0.5), work_dir=work, store=BatchStore.open(work),
                         claimant=ownership.new_claimant())
    assert third.interrupted_view() is None       # awaited by its successor: not offered here
    with pytest.raises(BatchOwnedError, match="being handed over to another Render"):
        third.resume()
    successor = BatchService(RunOptions(kill_grace=0.5), work_dir=work,
                             store=BatchStore.open(work),
                             claimant=ownership.new_claimant(token="server-token"))
    batch = successor.resume()
    wait_for(lambda: len(processes_with("96.75")) == 1, timeout=30)
    assert successor.store is not None
    claim = successor.store.claim(subject)
    assert claim is not None and claim.token == "server-token" and claim.held()
    successor.shutdown(timeout=20)
    assert not batch.running and successor.store.claim(subject) is None
    wait_for(lambda: not processes_with("96.75"), timeout=30)


def test_a_dead_runs_blender_is_ended_only_while_no_live_process_owns_its_batch(
        tmp_path: Path) -> None:
    from renderplus.batch import spawner
    from renderplus.batch.executors import JobHandle

    work = tmp_path / "work"
    blender = sleeping_blender(tmp_path, seconds=97.25)
    batch_id = make_interrupted_batch(work, blender, Path(__file__), tmp_path / "out")
    orphan = subprocess.Popen(["sleep", "98.5"], start_new_session=True)   # the dead run's Blender
    try:
        wait_for(lambda: spawner.cmdline(orphan.pid) == ("sleep", "98.5"), timeout=10)
        handle = JobHandle("local", 0, pid=orphan.pid, pgid=orphan.pid, boot_id=spawner.boot_id(),
                           start_ticks=spawner.start_ticks(orphan.pid), argv=("sleep", "98.5"))
        subject = ownership.batch_subject(batch_id)
        with BatchStore.open(work) as store:
            store.update_job(batch_id, 0, handle=handle)
            ownership.take(store, subject, other_live_owner())   # another Render+ took it over
        owned = BatchService(work_dir=work, store=BatchStore.open(work))
        assert owned.interrupted_view() is None and orphan.poll() is None   # not touched
        with BatchStore.open(work) as store:
            assert ownership.release(store, subject, other_live_owner())
        free = BatchService(RunOptions(kill_grace=0.5), work_dir=work, store=BatchStore.open(work))
        assert orphan.wait(10) == -signal.SIGKILL
        shown = free.interrupted_view()
        assert shown is not None and any("left by the dead run" in m for m in shown.messages)
        batch = free.resume()
        assert batch is free.batch and any("left by the dead run" in m
                                           for m in batch.view().messages)
        free.shutdown(timeout=20)
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()
    wait_for(lambda: not processes_with("97.25"), timeout=30)
