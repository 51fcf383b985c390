"""Changing a batch without Blender: add, move and skip jobs of a loaded and a running batch, the
poll's ``order``, the refusals, the store and a restore, two threads at once, the loop's end."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from renderplus.batch.edits import EditRefused, NoSuchJob
from renderplus.batch.order import RunOrder
from renderplus.batch.recipe import RecipeError, parse_jobs
from renderplus.batch.runner import Batch, stored_recipe
from renderplus.batch.service import (
    BatchEndedError,
    BatchService,
    JobNotQueuedError,
    NoRecipeError,
    UnknownJobError,
)
from renderplus.batch.store import BatchStore, NewJob
from renderplus.batch.store.database import STORE_FILE
from renderplus.batch.view import BatchStatus, BatchView, JobStatus
from tests.batch.conftest import make_recipe
from tests.batch.edits_helpers import HeldExecutor, job
from tests.waiting import wait_for


@pytest.fixture
def blend(tmp_path: Path) -> Path:
    path = tmp_path / "scene.blend"
    path.write_bytes(b"BLENDER-v304")   # the stand-in executor never opens it
    return path


def held_batch(tmp_path: Path, blend: Path, count: int, slots: int = 1,
               store: BatchStore | None = None) -> tuple[Batch, HeldExecutor]:
    executor = HeldExecutor(tmp_path, slots)
    recipe = make_recipe([job(blend, tmp_path, f"j{i}") for i in range(count)])
    return Batch(recipe, executor=executor, store=store), executor


def statuses(batch: Batch) -> list[str]:
    return [job.status.value for job in batch.view().jobs]


# ---------------------------------------------------------------- the order as data


def test_run_order_moves_clamps_and_refills() -> None:
    order = RunOrder([1, 2, 3, 4])
    assert order.move(4, 0) and list(order) == [4, 1, 2, 3]
    assert order.move(4, 99) and list(order) == [1, 2, 3, 4]
    assert not order.move(7, 0)
    with pytest.raises(ValueError, match="0 or more"):
        order.move(1, -1)
    order.replace([3, 1, 9, 3])
    assert order.refill([1, 3, 0, 2]) == [0, 2, 3, 1]   # new ones first, by id; kept in place


def test_view_order_ended_then_running_then_queued_then_disabled(tmp_path: Path, blend: Path) -> None:
    batch, executor = held_batch(tmp_path, blend, 5)
    batch.set_job_enabled(1, False)
    batch.move_job(4, 0)
    assert batch.view().order == (4, 0, 2, 3, 1)
    batch.start()
    wait_for(lambda: executor.running() == [4])
    executor.release(4)
    wait_for(lambda: executor.running() == [0])
    view = batch.view()
    assert view.order == (4, 0, 2, 3, 1)
    assert view.to_json()["order"] == [4, 0, 2, 3, 1]
    assert BatchView.from_json(view.to_json()).order == view.order
    batch.cancel()
    assert batch.wait(10)


# ---------------------------------------------------------------- validation


def test_added_jobs_are_validated_like_a_recipes_with_their_own_paths(tmp_path: Path) -> None:
    with pytest.raises(RecipeError) as caught:
        parse_jobs([{"blend_file": "a.blend"}, {"blend_file": "b.blend", "frame_strt": 1,
                                                "threads": "4", "id": 3}], first_id=5)
    paths = [issue.path for issue in caught.value.errors]
    assert paths == ["jobs[1].id", "jobs[1].threads"], caught.value.errors
    assert "this job gets 6" in str(caught.value.errors[0])
    one = parse_jobs({"blend_file": "a.blend", "id": 5}, first_id=5)
    assert [j.id for j in one] == [5]
    for bad, why in (([], "at least one"), (3, "job object or a list"), (["x"], "must be an object")):
        with pytest.raises(RecipeError, match=why):
            parse_jobs(bad, first_id=0)   # type: ignore[arg-type]
    with pytest.raises(RecipeError, match="at most 1 more"):
        parse_jobs([{"blend_file": "a"}, {"blend_file": "b"}], limit=1)
    with pytest.raises(RecipeError, match="duplicate key"):
        parse_jobs('{"blend_file": "a", "blend_file": "b"}')


def test_an_invalid_job_changes_nothing(tmp_path: Path, blend: Path) -> None:
    batch, _ = held_batch(tmp_path, blend, 2)
    revision = batch.revision
    with pytest.raises(RecipeError):
        batch.add_jobs([job(blend, tmp_path, "ok"), {"blend_file": 7}])
    assert len(batch.view().jobs) == 2 and len(batch.recipe.jobs) == 2
    assert batch.revision == revision


# ---------------------------------------------------------------- a loaded (WAITING) batch


def test_a_loaded_batch_takes_jobs_and_runs_them_in_the_changed_order(tmp_path: Path, blend: Path) -> None:
    batch, executor = held_batch(tmp_path, blend, 2)
    ids = batch.add_jobs([job(blend, tmp_path, "a"), job(blend, tmp_path, "b", enabled=False)])
    assert ids == [2, 3]
    assert [j.id for j in batch.recipe.jobs] == [0, 1, 2, 3]
    assert statuses(batch) == ["QUEUED", "QUEUED", "QUEUED", "DISABLED"]
    batch.move_job(2, 0)
    batch.set_job_enabled(3, True)
    batch.set_job_enabled(0, False)
    assert batch.view().order == (2, 1, 3, 0)
    batch.start()
    for expected in (2, 1, 3):
        wait_for(lambda expected=expected: executor.running() == [expected])
        executor.release(expected)
    assert batch.wait(10)
    assert executor.started == [2, 1, 3]
    assert statuses(batch) == ["DISABLED", "FINISHED", "FINISHED", "FINISHED"]


# ---------------------------------------------------------------- a running batch


def test_add_while_running_then_move_it_next(tmp_path: Path, blend: Path) -> None:
    batch, executor = held_batch(tmp_path, blend, 3)
    batch.start()
    wait_for(lambda: executor.running() == [0])
    [added] = batch.add_jobs(job(blend, tmp_path, "late"))
    assert added == 3 and batch.view().order == (0, 1, 2, 3)
    batch.move_job(3, 0)
    assert batch.view().order == (0, 3, 1, 2)
    executor.release(0)
    wait_for(lambda: executor.running() == [3])
    executor.release(3)
    wait_for(lambda: executor.running() == [1])
    executor.release(1)
    wait_for(lambda: executor.running() == [2])
    executor.release(2)
    assert batch.wait(10)
    assert executor.started == [0, 3, 1, 2]
    assert batch.status is BatchStatus.FINISHED


def test_skip_a_queued_job_it_never_starts(tmp_path: Path, blend: Path) -> None:
    batch, executor = held_batch(tmp_path, blend, 3)
    batch.start()
    wait_for(lambda: executor.running() == [0])
    batch.set_job_enabled(1, False)
    batch.set_job_enabled(1, False)   # again: no error
    executor.release(0)
    wait_for(lambda: executor.running() == [2])
    executor.release(2)
    assert batch.wait(10)
    assert executor.started == [0, 2]
    assert statuses(batch) == ["FINISHED", "DISABLED", "FINISHED"]
    assert batch.view().job(1).messages == ("Skipped (disabled)",)


def test_an_added_job_starts_at_once_in_a_free_slot(tmp_path: Path, blend: Path) -> None:
    """The loop waits for events while a job runs: an added job must wake it."""
    batch, executor = held_batch(tmp_path, blend, 1, slots=2)
    batch.start()
    wait_for(lambda: executor.running() == [0])
    batch.add_jobs(job(blend, tmp_path, "late"))
    wait_for(lambda: executor.running() == [0, 1], timeout=5)
    executor.release(0)
    executor.release(1)
    assert batch.wait(10)


def test_refusals_say_why(tmp_path: Path, blend: Path) -> None:
    batch, executor = held_batch(tmp_path, blend, 3)
    batch.start()
    wait_for(lambda: executor.running() == [0])
    with pytest.raises(NoSuchJob, match="No job 9 in this batch"):
        batch.move_job(9, 0)
    with pytest.raises(EditRefused, match="Job 0 cannot be moved: it is rendering") as caught:
        batch.move_job(0, 1)
    assert not caught.value.ended
    with pytest.raises(EditRefused, match="it is rendering"):
        batch.set_job_enabled(0, False)
    with pytest.raises(ValueError, match="0 or more"):
        batch.move_job(1, -1)
    executor.release(0)
    wait_for(lambda: executor.running() == [1])
    with pytest.raises(EditRefused, match=r"Job 0 cannot be moved: it has ended \(FINISHED\)"):
        batch.move_job(0, 0)
    batch.set_job_enabled(2, False)
    with pytest.raises(EditRefused, match="it is disabled"):
        batch.move_job(2, 0)
    batch.cancel()
    with pytest.raises(EditRefused, match=r"being cancelled|has ended") as caught:
        batch.add_jobs(job(blend, tmp_path, "late"))
    assert caught.value.ended
    assert batch.wait(10)
    with pytest.raises(EditRefused, match=r"has ended \(CANCELLED\)"):
        batch.add_jobs(job(blend, tmp_path, "late"))
    with pytest.raises(EditRefused, match="has ended"):
        batch.set_job_enabled(2, True)
    assert len(batch.view().jobs) == 3


def test_two_threads_moving_the_same_job_at_once(tmp_path: Path, blend: Path) -> None:
    """Both moves succeed, one after the other: the last one wins, in memory and in the store."""
    store = BatchStore.open(tmp_path / "state")
    batch, executor = held_batch(tmp_path, blend, 40, store=store)
    batch.start()
    wait_for(lambda: executor.running() == [0])
    go = threading.Barrier(2)
    errors: list[BaseException] = []

    def mover(position: int) -> None:
        go.wait()
        try:
            for _ in range(200):
                batch.move_job(20, position)
        except BaseException as exc:   # pragma: no cover - the failure is the assert below
            errors.append(exc)

    threads = [threading.Thread(target=mover, args=(p,)) for p in (0, 1000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    order = batch.view().order
    assert sorted(order) == list(range(40))    # every job once, none lost or doubled
    queued = order[1:]
    assert queued[0] == 20 or queued[-1] == 20
    assert batch.store_id is not None
    assert store.load(batch.store_id).run_order == queued   # the store holds the last move
    batch.cancel()
    assert batch.wait(10)
    store.close()


def test_a_job_added_as_the_loop_ends_runs_or_is_refused(tmp_path: Path) -> None:
    """Jobs whose .blend is missing end at once, without Blender. Another thread adds a job each
    time the last one it added has ended, so each add races the loop's end (a POST_BATCH hook
    holds the end open): every job added must end, and the last add be refused; none may stay
    QUEUED in the ended batch."""
    missing = tmp_path / "missing.blend"
    for _ in range(5):
        batch = Batch(make_recipe([job(missing, tmp_path, "j0")],
                                  hooks={"POST_BATCH": ["sleep 0.05"]}))
        added: list[int] = []
        refused = threading.Event()

        def adder(batch: Batch = batch, added: list[int] = added,
                  refused: threading.Event = refused) -> None:
            for _ in range(100):
                try:
                    [new] = batch.add_jobs(job(missing, tmp_path, "late"))
                except EditRefused:
                    refused.set()
                    return
                added.append(new)
                revision = batch.revision
                while not batch.view().job(new).status.ended and not batch.wait(0):
                    revision = batch.wait_change(revision, 1.0)

        thread = threading.Thread(target=adder)
        thread.start()
        batch.run()
        thread.join(30)
        assert not thread.is_alive()
        view = batch.view()
        assert view.status is BatchStatus.FINISHED
        assert all(j.status is JobStatus.FAILED for j in view.jobs), statuses(batch)
        assert len(view.jobs) == 1 + len(added)
        assert refused.is_set() or len(added) == 100


# ---------------------------------------------------------------- the store and a restore


def test_edits_are_stored_and_a_restore_shows_them(tmp_path: Path, blend: Path) -> None:
    store = BatchStore.open(tmp_path / "state")
    batch, executor = held_batch(tmp_path, blend, 3, store=store)
    batch.start()
    wait_for(lambda: executor.running() == [0])
    batch.add_jobs([job(blend, tmp_path, "late"), job(blend, tmp_path, "later")])
    batch.move_job(4, 0)
    batch.set_job_enabled(1, False)
    assert batch.store_id is not None
    stored = store.load(batch.store_id)
    assert [j.job_id for j in stored.jobs] == [0, 1, 2, 3, 4]
    assert [j.status for j in stored.jobs][1] is JobStatus.DISABLED
    assert stored.run_order == (4, 2, 3)
    assert [j.name for j in stored_recipe(stored).jobs] == ["j0", "j1", "j2", "late", "later"]
    restored = Batch.restore(stored, store)
    assert restored.view().order == batch.view().order == (0, 4, 2, 3, 1)
    batch.cancel()
    assert batch.wait(10)
    store.close()


def test_a_store_of_version_4_gets_the_run_order_column(tmp_path: Path) -> None:
    with BatchStore.open(tmp_path) as store:
        batch_id = store.create_batch("old", "{}", "/", None)
    conn = sqlite3.connect(tmp_path / STORE_FILE)    # back to a store written before run orders
    for column in ("run_order", "start_at", "paused_by"):   # every column added after 4
        conn.execute(f"ALTER TABLE batches DROP COLUMN {column}")
    conn.execute("UPDATE schema_version SET version = 4")
    conn.commit()
    conn.close()
    with BatchStore.open(tmp_path) as store:
        assert store.load(batch_id).run_order is None      # the recipe's order
        store.update_batch(batch_id, run_order=[2, 0])
        assert store.load(batch_id).run_order == (2, 0)
        store.update_batch(batch_id, run_order=None)
        assert store.load(batch_id).run_order is None


# ---------------------------------------------------------------- the service


def test_service_edits_a_loaded_recipe_and_starts_it_in_that_order(tmp_path: Path, blend: Path) -> None:
    executor = HeldExecutor(tmp_path)
    service = BatchService(work_dir=tmp_path / "work", executor_factory=lambda recipe: executor)
    with pytest.raises(NoRecipeError):
        service.add_jobs(job(blend, tmp_path, "x"))
    service.load_recipe(make_recipe([job(blend, tmp_path, f"j{i}") for i in range(2)]))
    assert service.add_jobs([job(blend, tmp_path, "a")]) == [2]
    assert service.recipe is not None and len(service.recipe.jobs) == 3   # the recipe got it
    service.move_job(2, 0)
    service.set_job_enabled(1, False)
    view = service.view()
    assert view is not None and view.order == (2, 0, 1) and view.status == "WAITING"
    with pytest.raises(UnknownJobError, match="No job 5"):
        service.move_job(5, 0)
    batch = service.start()
    wait_for(lambda: executor.running() == [2])
    with pytest.raises(JobNotQueuedError, match="it is rendering"):
        service.move_job(2, 1)
    executor.release(2)
    wait_for(lambda: executor.running() == [0])
    executor.release(0)
    assert batch.wait(10)
    assert executor.started == [2, 0]
    with pytest.raises(BatchEndedError, match=r"has ended \(FINISHED\)"):
        service.add_jobs(job(blend, tmp_path, "late"))
    with pytest.raises(BatchEndedError):
        service.set_job_enabled(1, True)


def test_jobs_added_to_a_restored_batch_before_it_runs_are_recorded_when_it_does(
        tmp_path: Path, blend: Path) -> None:
    """A restored batch that has not ended (a paused one) takes jobs before this process owns its
    record: they are recorded when it runs again."""
    store = BatchStore.open(tmp_path / "state")
    recipe = make_recipe([job(blend, tmp_path, "j0")])
    batch_id = store.create_batch("kept", recipe.to_json(), "", None,
                                  jobs=[NewJob(0, "j0", str(blend))])
    executor = HeldExecutor(tmp_path)
    batch = Batch.restore(store.load(batch_id), store, executor=executor)
    assert batch.add_jobs(job(blend, tmp_path, "late")) == [1]
    batch.move_job(1, 0)
    batch.start()
    wait_for(lambda: executor.running() == [1])
    stored = store.load(batch_id)
    assert [j.job_id for j in stored.jobs] == [0, 1] and stored.run_order == (1, 0)
    assert [j.name for j in stored_recipe(stored).jobs] == ["j0", "late"]
    executor.release(1)
    wait_for(lambda: executor.running() == [0])
    executor.release(0)
    assert batch.wait(10)
    assert [j.status for j in store.load(batch_id).jobs] == [JobStatus.FINISHED] * 2
    store.close()
