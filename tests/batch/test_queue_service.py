"""The service's queue of batches (docs/engine-api.md, The queue), without Blender: each batch
is one job of a stand-in that waits for its own gate file, so the test decides when it ends."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from renderplus.around.watchers import watchers_factory
from renderplus.batch import ownership
from renderplus.batch.observers import BatchEvent, ObserverContext, QueueEnded
from renderplus.batch.recipe import Recipe
from renderplus.batch.runner import RunOptions
from renderplus.batch.secrets import SECRETS_FOLDER, SecretFiles, batch_name
from renderplus.batch.service import (
    BatchService,
    QueuedStartedError,
    QueueOwnedError,
    QueueStoreError,
    UnknownQueuedError,
)
from renderplus.batch.store import BatchStore, NewJob
from renderplus.batch.view import BatchStatus, JobStatus
from tests.batch.conftest import make_recipe
from tests.batch.interrupted import dead_owner
from tests.waiting import wait_for

Gates = Callable[..., tuple[Recipe, Path]]


@pytest.fixture
def gated(tmp_path: Path, fake_blender: Callable[[str], str]) -> Gates:
    """``gated(name, **top)`` -> a one-job recipe whose stand-in Blender waits for ``gate``."""
    def make(name: str, **top: Any) -> tuple[Recipe, Path]:
        gate = tmp_path / f"gate-{name}"
        fake = fake_blender(f"while not os.path.exists({str(gate)!r}):\n    time.sleep(0.02)\n")
        return make_recipe([{"blend_file": __file__}], blender_bin=fake, name=name, **top), gate
    return make


class Recorder:
    """An observer factory that keeps every event of every batch, and each context."""

    after_batch = None

    def __init__(self) -> None:
        self.events: list[BatchEvent] = []
        self.contexts: list[ObserverContext] = []

    def __call__(self, context: ObserverContext) -> Recorder:
        self.contexts.append(context)
        return self

    def notify(self, event: BatchEvent) -> None:
        self.events.append(event)

    def queue_ends(self) -> list[str]:
        return [event.view.name for event in self.events if isinstance(event, QueueEnded)]


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Callable[..., BatchService]]:
    made: list[BatchService] = []

    def make(**kwargs: Any) -> BatchService:
        service = BatchService(RunOptions(kill_grace=0.5), work_dir=tmp_path / "work", **kwargs)
        made.append(service)
        return service
    yield make
    for service in made:
        service.shutdown(timeout=10)


def current(service: BatchService) -> str:
    batch = service.batch
    return batch.recipe.name if batch is not None and batch.running else ""


def names(service: BatchService) -> list[str]:
    return [entry.name for entry in service.queue_view().entries]


def test_queued_batches_start_by_themselves_in_queue_order(
        services: Callable[..., BatchService], gated: Gates) -> None:
    recorder = Recorder()
    service = services(observers=[recorder])
    (a, gate_a), (b, gate_b), (c, gate_c) = gated("A"), gated("B"), gated("C")
    first = service.enqueue(a)                  # nothing runs: it starts at once
    assert current(service) == "A" and service.queue_view().entries == ()
    assert first.position == 0 and first.jobs == 1
    entry_b, entry_c = service.enqueue(b), service.enqueue(c)
    assert (entry_b.position, entry_c.position) == (0, 1) and entry_c.id > entry_b.id
    view = service.move_queued(entry_c.id, 0)
    assert [(e.name, e.position) for e in view.entries] == [("C", 0), ("B", 1)]
    assert view.to_json() == {"held": False, "batches": [e.to_json() for e in view.entries],
                              "estimated_end": view.estimated_end}
    assert set(view.entries[0].to_json()) == {"id", "name", "jobs", "position", "added",
                                              "estimated_start", "estimated_end", "estimate_runs"}
    assert service.move_queued(entry_c.id, 99).entries[-1].name == "C"   # past the end: last
    service.move_queued(entry_c.id, 0)
    gate_a.touch()
    wait_for(lambda: current(service) == "C", timeout=20)
    assert names(service) == ["B"] and recorder.queue_ends() == []
    gate_c.touch()
    wait_for(lambda: current(service) == "B", timeout=20)
    assert names(service) == [] and recorder.queue_ends() == []
    gate_b.touch()
    wait_for(lambda: recorder.queue_ends() == ["B"], timeout=20)   # once, with the last batch
    batch = service.batch
    assert batch is not None and batch.wait(10) and batch.status == "FINISHED"
    assert all(context.queue_empty() for context in recorder.contexts)
    assert recorder.queue_ends() == ["B"]


def test_a_held_queue_waits_and_continue_goes_on(services: Callable[..., BatchService],
                                                 gated: Gates) -> None:
    service = services()
    (a, gate_a), (b, gate_b) = gated("A"), gated("B")
    service.enqueue(a)
    service.enqueue(b)
    assert service.hold_queue().held and service.queue_view().held
    gate_a.touch()
    batch = service.batch
    assert batch is not None and batch.wait(20)
    assert current(service) == "" and names(service) == ["B"]   # held: B waits
    view = service.continue_queue()
    assert not view.held and view.entries == () and current(service) == "B"
    service.hold_queue()
    (c, _) = gated("C")
    assert service.enqueue(c).position == 0 and current(service) == "B"   # held: queued
    gate_b.touch()


def test_drop_and_move_name_the_problem(services: Callable[..., BatchService], gated: Gates) -> None:
    service = services()
    (a, gate_a), (b, _), (c, _) = gated("A"), gated("B"), gated("C")
    service.enqueue(a)
    entry_b, entry_c = service.enqueue(b), service.enqueue(c)
    service.drop_queued(entry_c.id)
    assert names(service) == ["B"]
    with pytest.raises(UnknownQueuedError, match="No queued batch 99") as unknown:
        service.drop_queued(99)
    assert unknown.value.status == 404
    with pytest.raises(UnknownQueuedError):
        service.move_queued(entry_c.id, 0)          # dropped: unknown now
    with pytest.raises(ValueError):
        service.move_queued(entry_b.id, -1)
    gate_a.touch()
    wait_for(lambda: current(service) == "B", timeout=20)
    with pytest.raises(QueuedStartedError, match="current batch now; DELETE /batch") as started:
        service.drop_queued(entry_b.id)
    assert started.value.status == 409
    with pytest.raises(UnknownQueuedError, match="has started"):
        service.move_queued(entry_b.id, 0)
    assert current(service) == "B"


def test_delete_racing_the_hand_over_either_drops_it_or_is_told_it_started(
        services: Callable[..., BatchService], gated: Gates) -> None:
    service = services()
    for round_ in range(4):
        (a, gate_a), (x, gate_x) = gated(f"A{round_}"), gated(f"X{round_}")
        service.enqueue(a)
        entry = service.enqueue(x)
        answers: list[str] = []

        def drop(queue_id: int = entry.id, said: list[str] = answers) -> None:
            try:
                service.drop_queued(queue_id)
                said.append("dropped")
            except QueuedStartedError:
                said.append("started")

        dropper = threading.Thread(target=drop)
        gate_a.touch()
        dropper.start()
        dropper.join(20)
        batch = service.batch
        assert batch is not None
        if answers == ["dropped"]:     # it never starts
            assert batch.recipe.name == f"A{round_}" and batch.wait(20)
            assert current(service) == "" and names(service) == []
        else:                          # it is the current batch now
            assert answers == ["started"] and batch.recipe.name == f"X{round_}"
        gate_x.touch()
        assert service.batch is not None and service.batch.wait(20)


def test_the_queue_outlives_its_service_held_unless_continue(
        tmp_path: Path, services: Callable[..., BatchService], gated: Gates) -> None:
    work = tmp_path / "work"
    (a, _), (b, gate_b), (c, gate_c) = gated("A"), gated("B"), gated("C")
    first = services(store=BatchStore.open(work))
    first.enqueue(a)
    entry_b, entry_c = first.enqueue(b), first.enqueue(c)
    first.shutdown(timeout=10)                       # A is cancelled; B must not start
    assert current(first) == "" and names(first) == ["B", "C"]

    again = services(store=BatchStore.open(work))    # a restart finds it held
    view = again.queue_view()
    assert view.held and [(e.id, e.position) for e in view.entries] == [(entry_b.id, 0),
                                                                        (entry_c.id, 1)]
    assert current(again) == ""
    again.shutdown(timeout=10)

    going = services(store=BatchStore.open(work), continue_queue=True)
    assert current(going) == "B" and names(going) == ["C"] and not going.queue_view().held
    gate_b.touch()
    wait_for(lambda: current(going) == "C", timeout=20)
    gate_c.touch()


def test_a_service_that_stopped_holds_its_queue_and_can_go_on(
        services: Callable[..., BatchService], gated: Gates) -> None:
    service = services()
    (a, _), (b, gate_b) = gated("A"), gated("B")
    service.enqueue(a)
    service.enqueue(b)
    service.shutdown(timeout=10)        # the add-on's DELETE /server: its service lives on
    assert not service.stopping and current(service) == ""
    view = service.queue_view()
    assert view.held and [e.name for e in view.entries] == ["B"]
    service.continue_queue()
    assert current(service) == "B"
    gate_b.touch()


def test_one_live_process_runs_a_queue(tmp_path: Path, services: Callable[..., BatchService],
                                       gated: Gates) -> None:
    work = tmp_path / "work"
    (a, gate_a), (b, _) = gated("A"), gated("B")
    owner = services(store=BatchStore.open(work))
    owner.enqueue(a)
    other = services(store=BatchStore.open(work), claimant=ownership.new_claimant(label="other"))
    with pytest.raises(QueueOwnedError, match=r"The queue is run by .* \(pid \d+ on .*since") as refused:
        other.enqueue(b)
    assert refused.value.status == 409 and refused.value.claim.owner is not None
    with pytest.raises(QueueOwnedError):
        other.hold_queue()
    assert other.queue_view().entries == ()         # reading is anybody's
    gate_a.touch()
    owner.shutdown(timeout=10)                      # frees the queue
    assert other.enqueue(b).name == "B" and current(other) == "B"


def test_a_store_that_fails_is_a_sentence(tmp_path: Path, services: Callable[..., BatchService],
                                          gated: Gates) -> None:
    store = BatchStore.open(tmp_path / "work")
    service = services(store=store)
    store.close()
    with pytest.raises(QueueStoreError, match=r"The queue cannot be changed now: .* is closed") as failed:
        service.enqueue(gated("A")[0])
    assert failed.value.status == 503
    with pytest.raises(QueueStoreError):
        service.queue_view()


def test_a_queued_batch_keeps_its_mail_password_beside_the_store_until_it_ends(
        tmp_path: Path, services: Callable[..., BatchService], gated: Gates) -> None:
    work = tmp_path / "work"
    mail = {"mail": {"enabled": False, "user": "me", "pass": "hunter2", "to": "me@example.org",
                     "server": "smtp.example.org"}}
    (a, gate_a), (b, gate_b) = gated("A"), gated("B", notifications=mail)
    store = BatchStore.open(work)
    service = services(store=store)
    service.enqueue(a)
    entry = service.enqueue(b)
    kept = work / SECRETS_FOLDER / f"queued-{entry.id}.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert json.loads(kept.read_text()) == {"notifications.mail.pass": "hunter2"}
    stored = store.read(lambda conn: conn.execute("SELECT recipe_json FROM queued_batches").fetchall())
    assert "hunter2" not in str(stored) and '"pass": "***"' in str(stored)
    gate_a.touch()
    wait_for(lambda: current(service) == "B", timeout=20)
    batch = service.batch
    assert batch is not None and batch.recipe.notifications.mail.password == "hunter2"
    assert not any("lost" in message for message in batch.view().messages)
    gate_b.touch()
    assert batch.wait(20)
    wait_for(lambda: not kept.exists(), timeout=10)        # removed with its batch
    assert "hunter2" not in json.dumps(store.load(batch.store_id or 0).recipe_json)


def test_a_queued_batch_that_lost_its_secrets_says_so(
        tmp_path: Path, services: Callable[..., BatchService], gated: Gates) -> None:
    work = tmp_path / "work"
    mail = {"mail": {"enabled": True, "user": "me", "pass": "hunter2", "to": "me@example.org",
                     "server": "smtp.example.org"}}
    (a, gate_a), (b, gate_b) = gated("A"), gated("B", notifications=mail)
    service = services(store=BatchStore.open(work))
    service.enqueue(a)
    entry = service.enqueue(b)
    os.remove(work / SECRETS_FOLDER / f"queued-{entry.id}.json")
    gate_a.touch()
    wait_for(lambda: current(service) == "B", timeout=20)
    batch = service.batch
    assert batch is not None and batch.recipe.notifications.mail.password == ""   # not "***"
    lost = [m for m in batch.view().messages if "secrets kept for this batch were lost" in m]
    assert lost and "notifications.mail.pass" in lost[0] and "it is missing" in lost[0]
    gate_b.touch()


class FakeRunner:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, argv: Any) -> Any:
        self.calls.append(list(argv))
        return 0, ""


def test_the_power_off_waits_for_the_end_of_the_queue(services: Callable[..., BatchService],
                                                       gated: Gates) -> None:
    runner = FakeRunner()
    service = services(observers=[watchers_factory(power_runner=runner, poweroff_grace=0.05)])
    power = {"poweroff": {"enabled": True, "action": "POWEROFF"}}
    (a, gate_a), (b, gate_b) = gated("A", **power), gated("B", **power)
    first = service.enqueue(a)
    service.enqueue(b)
    batch_a = service.batch
    assert batch_a is not None and first.position == 0
    gate_a.touch()
    wait_for(lambda: current(service) == "B", timeout=20)
    assert batch_a.wait(10) and not batch_a.poweroff_pending and runner.calls == []
    assert any("No poweroff yet: batches are queued" in m for m in batch_a.view().messages)
    batch_b = service.batch
    assert batch_b is not None
    gate_b.touch()
    assert batch_b.wait(20)
    wait_for(lambda: runner.calls != [], timeout=20)     # the last batch's setting, once
    assert runner.calls[0][-1] in ("poweroff", "now")


def test_a_batch_keeps_its_secrets_until_it_ends(tmp_path: Path, services: Callable[..., BatchService],
                                                 gated: Gates) -> None:
    work = tmp_path / "work"
    mail = {"mail": {"enabled": False, "pass": "hunter2"}}
    recipe, gate = gated("A", notifications=mail)
    service = services(store=BatchStore.open(work))
    service.load_recipe(recipe)
    batch = service.start()
    wait_for(lambda: batch.store_id is not None, timeout=10)
    kept = work / SECRETS_FOLDER / f"batch-{batch.store_id}.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600 and "hunter2" in kept.read_text()
    gate.touch()
    assert batch.wait(20)
    wait_for(lambda: not kept.exists(), timeout=10)


@pytest.mark.parametrize("kept", [True, False], ids=["kept", "lost"])
def test_an_interrupted_batch_gets_its_secrets_back(tmp_path: Path, kept: bool) -> None:
    work = tmp_path / "work"
    recipe = make_recipe([{"blend_file": __file__}], name="night",
                         notifications={"mail": {"enabled": False, "pass": "hunter2"}})
    with BatchStore.open(work) as store:
        batch_id = store.create_batch("night", recipe.to_json(redact=True), "", dead_owner(),
                                      [NewJob(0, "job0", __file__, JobStatus.RUNNING)],
                                      status=BatchStatus.RUNNING)
    if kept:
        assert SecretFiles.beside(work / "renderplus.db").keep(batch_name(batch_id), recipe) is None
    service = BatchService(work_dir=work, store=BatchStore.open(work))
    shown = service.batch
    assert shown is not None and shown.view().resumable
    assert shown.recipe.notifications.mail.password == ("hunter2" if kept else "")
    lost = [m for m in shown.view().messages if "were lost" in m]
    assert bool(lost) is not kept
    service.shutdown()
