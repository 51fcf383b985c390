"""``BatchQueue``: positions kept dense by every change, in the store or in memory, and a
hand-over a kill interrupted put back (docs/engine-api.md, The queue)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from renderplus.batch.queue import BatchQueue, NotQueued
from renderplus.batch.recipe import Recipe
from renderplus.batch.secrets import SecretFiles, redacted_keys, secrets_of
from renderplus.batch.store import BatchStore, Owner
from renderplus.batch.store import queue_table as table
from renderplus.batch.view import BatchStatus
from tests.batch.conftest import make_recipe


def recipe(name: str, jobs: int = 1, **top: object) -> Recipe:
    return make_recipe([{"blend_file": __file__} for _ in range(jobs)], name=name, **top)


@pytest.fixture(params=["store", "memory"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> BatchQueue:
    return BatchQueue(BatchStore.open(tmp_path) if request.param == "store" else None)


def positions(queue: BatchQueue) -> list[tuple[str, int]]:
    return [(entry.name, entry.position) for entry in queue.view().entries]


def test_add_move_drop_keep_positions_dense(queue: BatchQueue) -> None:
    ids = {name: queue.add(recipe(name, jobs=2)).id for name in "ABCD"}
    assert positions(queue) == [("A", 0), ("B", 1), ("C", 2), ("D", 3)]
    assert queue.view().entries[0].jobs == 2 and not queue.view().held
    queue.move(ids["D"], 0)
    assert positions(queue) == [("D", 0), ("A", 1), ("B", 2), ("C", 3)]
    queue.move(ids["D"], 2)
    assert positions(queue) == [("A", 0), ("B", 1), ("D", 2), ("C", 3)]
    queue.move(ids["A"], 1000)
    assert positions(queue) == [("B", 0), ("D", 1), ("C", 2), ("A", 3)]
    queue.drop(ids["D"])
    assert positions(queue) == [("B", 0), ("C", 1), ("A", 2)]
    with pytest.raises(NotQueued) as unknown:
        queue.drop(ids["D"])
    assert not unknown.value.started
    with pytest.raises(ValueError):
        queue.move(ids["A"], -1)
    handed = queue.take_next()
    assert handed is not None and handed.entry.name == "B" and handed.recipe.name == "B"
    assert positions(queue) == [("C", 0), ("A", 1)]
    with pytest.raises(NotQueued) as started:
        queue.drop(ids["B"])
    assert started.value.started
    assert queue.hold(True).held and queue.held and not queue.hold(False).held
    assert [queue.take_next() is not None for _ in range(3)] == [True, True, False]
    assert queue.empty()


def test_moves_from_many_threads_leave_positions_dense(queue: BatchQueue) -> None:
    ids = [queue.add(recipe(f"b{i}")).id for i in range(12)]

    def shuffle(seed: int) -> None:
        for step in range(20):
            queue.move(ids[(seed * 7 + step) % len(ids)], (seed + step) % 13)

    threads = [threading.Thread(target=shuffle, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    view = queue.view()
    assert [entry.position for entry in view.entries] == list(range(12))
    assert sorted(entry.id for entry in view.entries) == ids


def test_the_queue_is_in_the_store(tmp_path: Path) -> None:
    with BatchStore.open(tmp_path) as store:
        queue = BatchQueue(store)
        first, second = queue.add(recipe("A")), queue.add(recipe("B"))
        queue.move(second.id, 0)
        queue.hold(True)
    with BatchStore.open(tmp_path) as store:
        view = BatchQueue(store).view()
        assert view.held and [(e.id, e.position) for e in view.entries] == [(second.id, 0),
                                                                            (first.id, 1)]
        assert view.entries[1].added == first.added


def test_a_hand_over_cut_short_goes_back_to_the_front(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    queue = BatchQueue(store)
    a, b, c = (queue.add(recipe(name)).id for name in "ABC")
    assert queue.take_next() is not None            # killed before its batch was recorded
    handed = queue.take_next()                      # recorded, killed before it ran
    assert handed is not None
    with store.transaction():
        waiting = store.create_batch("B", "{}", "", Owner.current())
        queue.link(b)(store, waiting)
    assert positions(queue) == [("C", 0)]
    again = BatchQueue(store)
    assert again.recover() == [a, b]
    assert [(e.id, e.position) for e in again.view().entries] == [(a, 0), (b, 1), (c, 2)]
    assert store.history() == []                    # the WAITING record is gone
    assert again.recover() == []


def test_a_started_batch_stays_out_of_the_queue_after_a_restart(tmp_path: Path) -> None:
    store = BatchStore.open(tmp_path)
    queue = BatchQueue(store)
    a = queue.add(recipe("A")).id
    queue.take_next()
    with store.transaction():
        ran = store.create_batch("A", "{}", "", Owner.current(), status=BatchStatus.RUNNING)
        queue.link(a)(store, ran)
    assert BatchQueue(store).recover() == [] and queue.started_as(ran) == a
    assert store.read(lambda conn: table.row(conn, a)) is not None


def test_secrets_are_found_by_the_field_table(tmp_path: Path) -> None:
    mail = {"mail": {"enabled": False, "pass": "hunter2", "user": "me"}}
    whole = recipe("A", notifications=mail)
    assert secrets_of(whole) == {"notifications.mail.pass": "hunter2"}
    assert secrets_of(recipe("B")) == {}
    files = SecretFiles(tmp_path / "secrets")
    assert files.keep("x", recipe("B")) is None and not files.path("x").exists()
    assert files.keep("x", whole) is None
    read_back = make_recipe([{"blend_file": __file__}], name="A", notifications={
        "mail": {"enabled": False, "pass": "***", "user": "me"}})
    assert redacted_keys(read_back) == ["notifications.mail.pass"]
    assert files.restore("x", read_back) is None
    assert read_back.notifications.mail.password == "hunter2"
    files.remove("x")
    assert not files.path("x").exists()
    lost = make_recipe([{"blend_file": __file__}], name="A", notifications={
        "mail": {"pass": "***"}})
    sentence = files.restore("x", lost)
    assert sentence is not None and "lost" in sentence and lost.notifications.mail.password == ""
    files.path("x").write_text("[1]")
    damaged = make_recipe([{"blend_file": __file__}], notifications={"mail": {"pass": "***"}})
    assert "damaged" in (files.restore("x", damaged) or "")
