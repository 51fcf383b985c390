"""One live owner per batch (docs/engine-api.md, Ownership): taken atomically in the store,
refused with a sentence naming the owner, found dead when its process is gone or its pid
reused, handed over to a named successor, and won by exactly one of many racing claimants."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from renderplus.batch import ownership
from renderplus.batch.spawner import boot_id, start_ticks
from renderplus.batch.store import STORE_FILE, BatchStore, NewJob, Owner
from renderplus.batch.store import schema as store_schema
from renderplus.batch.store.claims import Claimant
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.interrupted import dead_owner

ROOT = Path(__file__).resolve().parents[2]


def claimant_as(owner: Owner, token: str = "other", label: str = "python3 -m renderplus.server") -> Claimant:
    return Claimant(owner, token, label, socket.gethostname())


def test_the_first_claimant_wins_and_the_other_is_told_by_whom_and_since_when(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    server = claimant_as(Owner.current(), "server", "python3 -m renderplus.server")
    addon = ownership.new_claimant(label="the Blender add-on")
    claim = ownership.take(store, "batch:7", server, "night")
    assert ownership.take(store, "batch:7", server).since == claim.since   # taking again: a no-op
    with pytest.raises(ownership.ClaimRefused) as refused:
        ownership.take(store, "batch:7", addon, "night")
    sentence = str(refused.value)
    assert sentence.startswith("The batch 'night' is owned by python3 -m renderplus.server "
                               f"(pid {os.getpid()} on {socket.gethostname()})")
    assert time.strftime("%Y-%m-%d %H:%M", time.localtime(claim.since)) in sentence
    assert "cannot be resumed here" in sentence
    assert ownership.describe(refused.value.claim) == {
        "pid": os.getpid(), "name": "python3 -m renderplus.server", "host": socket.gethostname(),
        "since": claim.since, "handed_over": False}
    assert ownership.owner_of(store, "batch:7") == claim
    assert not ownership.release(store, "batch:7", addon)     # only the owner releases
    assert ownership.release(store, "batch:7", server)
    assert ownership.owner_of(store, "batch:7") is None
    assert ownership.take(store, "batch:7", addon).label == "the Blender add-on"
    store.close()


def test_a_dead_owner_is_taken_over_whether_its_pid_is_gone_reused_or_from_another_boot(
        tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    me = ownership.new_claimant()
    pid, ticks = os.getpid(), start_ticks(os.getpid())
    assert ticks is not None
    dead = {"gone": dead_owner(),
            "pid reused": Owner(pid, boot_id(), ticks + 1),        # same pid, later start
            "another boot": Owner(pid, "not-this-boot", ticks)}
    for name, owner in dead.items():
        store.take_claim(f"batch:{name}", claimant_as(owner))
        assert ownership.owner_of(store, f"batch:{name}") is None, name
        assert ownership.take(store, f"batch:{name}", me).owner == me.owner, name
    store.take_claim("batch:alive", claimant_as(Owner(pid, boot_id(), ticks)))
    with pytest.raises(ownership.ClaimRefused):
        ownership.take(store, "batch:alive", me)
    store.close()


def test_a_hand_over_waits_for_its_named_successor_only(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    blender = ownership.new_claimant(label="the Blender add-on")
    successor = ownership.new_claimant(token="for-the-server", label="python3 -m renderplus.server")
    third = ownership.new_claimant()
    ownership.take(store, ownership.QUEUE, blender)
    assert ownership.release(store, ownership.QUEUE, blender, successor="for-the-server", wait=30)
    handed = ownership.owner_of(store, ownership.QUEUE)
    assert handed is not None and handed.owner is None and handed.reserved()
    with pytest.raises(ownership.ClaimRefused, match="being handed over to another Render"):
        ownership.take(store, ownership.QUEUE, third)
    with pytest.raises(ownership.ClaimRefused):
        ownership.take(store, ownership.QUEUE, blender)       # given away is given away
    assert ownership.take(store, ownership.QUEUE, successor).label == "python3 -m renderplus.server"
    # a successor that never comes: after the wait anybody may take it
    assert ownership.release(store, ownership.QUEUE, successor, successor="never", wait=0.05)
    time.sleep(0.1)  # the reservation's own deadline, not synchronisation
    assert ownership.take(store, ownership.QUEUE, third).owner == third.owner
    store.close()


def test_many_threads_taking_one_batch_at_once_yield_exactly_one_winner(tmp_path: Path) -> None:
    BatchStore.open(tmp_path).close()
    stores = [BatchStore.open(tmp_path, busy_timeout=30) for _ in range(12)]
    start = threading.Barrier(len(stores))
    won: list[str] = []

    def race(store: BatchStore, index: int) -> None:
        claimant = ownership.new_claimant(token=f"thread-{index}")
        start.wait()
        try:
            ownership.take(store, "batch:1", claimant)
            won.append(claimant.token)
        except ownership.ClaimRefused:
            pass

    threads = [threading.Thread(target=race, args=(store, i)) for i, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(won) == 1
    claim = stores[0].claim("batch:1")
    assert claim is not None and claim.token == won[0]
    for store in stores:
        store.close()


RACER = """
import sys
from renderplus.batch import ownership
from renderplus.batch.store import BatchStore
store = BatchStore.open(sys.argv[1], busy_timeout=60)
print("ready", flush=True)
sys.stdin.readline()
try:
    ownership.take(store, "batch:1")
    print("won", flush=True)
except ownership.ClaimRefused as exc:
    print("refused", exc, flush=True)
sys.stdin.readline()
"""


def test_many_processes_taking_one_batch_at_once_yield_exactly_one_winner(tmp_path: Path) -> None:
    BatchStore.open(tmp_path).close()
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path)], cwd=ROOT, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(6)]
    try:
        for racer in racers:
            assert racer.stdout is not None and racer.stdout.readline().strip() == "ready"
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        said = {racer.pid: racer.stdout.readline().strip() for racer in racers if racer.stdout}
    finally:
        for racer in racers:
            racer.kill()
            racer.wait(10)
    winners = [pid for pid, line in said.items() if line == "won"]
    assert len(winners) == 1, said
    assert all(f"(pid {winners[0]} on " in line for line in said.values() if line != "won")


def test_the_upgrade_keeps_a_running_batch_with_its_live_owner(tmp_path: Path) -> None:
    with BatchStore.open(tmp_path) as store:
        live = store.create_batch("live", "{}", "/", Owner.current(), status=BatchStatus.RUNNING)
        dead = store.create_batch("dead", "{}", "/", dead_owner(), status=BatchStatus.RUNNING)
    conn = sqlite3.connect(tmp_path / STORE_FILE)    # back to a store written before claims
    conn.execute("DROP TABLE claims")
    for later in ("process_groups", "queued_batches", "queue_state"):   # later versions' tables
        conn.execute(f"DROP TABLE IF EXISTS {later}")
    for column in ("run_order", "start_at", "paused_by"):   # and later columns
        conn.execute(f"ALTER TABLE batches DROP COLUMN {column}")
    conn.execute("UPDATE schema_version SET version = 1")
    conn.commit()
    conn.close()
    with BatchStore.open(tmp_path) as store:
        assert store_schema.SCHEMA_VERSION >= 2
        assert store.load(live).owned and not store.load(live).interrupted
        assert store.load(dead).interrupted
        assert [batch.id for batch in store.interrupted()] == [dead]
        with pytest.raises(ownership.ClaimRefused):
            ownership.take(store, ownership.batch_subject(live), ownership.new_claimant())


def test_a_new_batch_is_owned_from_its_first_commit_and_freed_at_its_end(tmp_path: Path) -> None:
    from renderplus.batch.store import StoreWriter
    from tests.batch.conftest import make_recipe

    store = BatchStore.open(tmp_path)
    writer = StoreWriter(store, lambda message: None)
    writer.create(make_recipe([{"blend_file": __file__}]), [JobStatus.QUEUED])
    assert writer.batch_id is not None
    subject = ownership.batch_subject(writer.batch_id)
    assert ownership.owner_of(store, subject) == store.claim(subject)
    assert store.claim(subject) is not None
    writer.end(status=BatchStatus.FINISHED, finished=time.time())
    assert store.claim(subject) is None and store.load(writer.batch_id).owner is None
    other = StoreWriter(store, lambda message: None)
    other.claimant = ownership.new_claimant()
    store.take_claim(subject, claimant_as(Owner.current(), "held"))
    with pytest.raises(ownership.ClaimRefused):
        other.attach(writer.batch_id, "night")
    assert other.batch_id is None and store.load(writer.batch_id).owner is None  # untouched
    store.close()


def test_a_batch_recorded_without_an_owner_is_unclaimed(tmp_path: Path) -> None:
    with BatchStore.open(tmp_path) as store:
        batch_id = store.create_batch("b", "{}", "/", None, [NewJob(0, "a")])
        assert store.load(batch_id).claim is None and not store.load(batch_id).owned
