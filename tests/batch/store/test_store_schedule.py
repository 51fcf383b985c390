"""What the store keeps of when to render (schema version 7): a waiting batch's start time and
who paused a batch, read back after a restart; a queued batch waiting for its start stays the
current batch after its owner was killed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from renderplus.batch.queue import BatchQueue
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.store import STORE_FILE, BatchStore, NewJob, Owner
from renderplus.batch.store import schema as store_schema
from renderplus.batch.view import BatchStatus


def test_the_columns_come_with_step_7(tmp_path: Path) -> None:
    BatchStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / STORE_FILE)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(batches)")]
    conn.close()
    assert {"start_at", "paused_by"} <= set(columns)
    assert 7 in store_schema.MIGRATIONS and store_schema.SCHEMA_VERSION >= 7


def test_start_time_and_pauser_round_trip(tmp_path: Path) -> None:
    with BatchStore.open(tmp_path) as store:
        batch_id = store.create_batch("night", "{}", "/", Owner.current(), [NewJob(0, "a")])
        assert (store.load(batch_id).start_at, store.load(batch_id).paused_by) == (None, None)
        store.update_batch(batch_id, start_at=1_800_000_000.5)
        store.update_batch(batch_id, status=BatchStatus.PAUSED, paused_by="window")
    with BatchStore.open(tmp_path) as store:
        stored = store.load(batch_id)
        assert (stored.start_at, stored.paused_by) == (1_800_000_000.5, "window")
        store.update_batch(batch_id, start_at=None, paused_by=None)
        assert (store.load(batch_id).start_at, store.load(batch_id).paused_by) == (None, None)


def test_a_queued_batch_waiting_for_its_start_is_not_put_back(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    queue = BatchQueue(store)
    recipe = parse_recipe({"version": 2.2, "name": "A", "jobs": [{"blend_file": "a.blend"}]})
    first, second = queue.add(recipe).id, queue.add(recipe).id
    queue.take_next()
    with store.transaction():
        waiting = store.create_batch("A", "{}", "", Owner.current())
        queue.link(first)(store, waiting)
        store.update_batch(waiting, start_at=1_800_000_000.0)
    assert BatchQueue(store).recover() == []
    assert queue.started_as(waiting) == first
    assert [entry.id for entry in queue.view().entries] == [second]
    store.close()
