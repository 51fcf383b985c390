"""``dependencies``: whether a queued job may start, the first job of an order that may, and
the order the poll shows (waiting jobs after the queued jobs they wait for)."""

from __future__ import annotations

from renderplus.batch.dependencies import (
    READY,
    Readiness,
    first_startable,
    readiness,
    start_order,
    waiting_sentence,
)
from renderplus.batch.view import JobStatus

NAMES = {0: "Plates", 1: "Smoke", 2: "Comp"}


def ask(after: list[int], statuses: dict[int, JobStatus], can_run: set[int] | None = None) -> Readiness:
    return readiness(after, statuses.__getitem__, NAMES.__getitem__,
                     can_run=None if can_run is None else can_run.__contains__)


def test_no_dependency_or_finished_ones_are_ready() -> None:
    assert ask([], {}) is READY and READY.ready
    assert ask([0, 1], {0: JobStatus.FINISHED, 1: JobStatus.FINISHED}).ready


def test_queued_or_running_dependencies_make_it_wait() -> None:
    found = ask([0, 1, 2], {0: JobStatus.RUNNING, 1: JobStatus.FINISHED, 2: JobStatus.QUEUED})
    assert not found.ready and found.waiting_for == (0, 2) and found.failure is None


def test_a_failed_cancelled_or_disabled_dependency_is_the_reason() -> None:
    running = {0: JobStatus.RUNNING}
    assert ask([0, 1], {**running, 1: JobStatus.FAILED}).failure == "Not rendered: job 1 'Smoke' failed"
    assert ask([1], {1: JobStatus.CANCELLED}).failure == "Not rendered: job 1 'Smoke' was cancelled"
    assert ask([2], {2: JobStatus.DISABLED}).failure == "Not rendered: job 2 'Comp' is disabled"
    assert ask([1, 2], {1: JobStatus.DISABLED, 2: JobStatus.FAILED}).failure == \
        "Not rendered: job 1 'Smoke' is disabled"


def test_a_dependency_that_can_no_longer_run_fails_rather_than_waits_forever() -> None:
    queued = {0: JobStatus.QUEUED}
    assert ask([0], queued, can_run={0}).waiting_for == (0,)
    assert ask([0], queued, can_run=set()).failure == "Not rendered: job 0 'Plates' did not run"


def test_the_waiting_sentence() -> None:
    assert waiting_sentence([0], NAMES.__getitem__) == "Waiting for job 0 'Plates'"
    assert waiting_sentence([0, 2], NAMES.__getitem__) == "Waiting for jobs 0 'Plates', 2 'Comp'"


def test_first_startable_passes_over_waiting_jobs_and_stops_at_a_failed_one() -> None:
    answers = {5: Readiness(waiting_for=(1,)), 6: READY, 7: Readiness(failure="no")}
    pick = first_startable([5, 6, 7], answers.__getitem__)
    assert pick.job_id == 6 and pick.waiting == ((5, (1,)),) and pick.failed is None
    pick = first_startable([5, 7, 6], answers.__getitem__)
    assert pick.job_id is None and pick.failed == (7, "no")
    assert first_startable([5], answers.__getitem__).job_id is None
    assert first_startable([], answers.__getitem__).job_id is None
    assert first_startable([9, 6], {9: None, 6: READY}.__getitem__).job_id == 9  # the loop's own


def test_start_order_puts_waiting_jobs_after_what_they_wait_for() -> None:
    after = {0: [2], 1: [], 2: [], 3: [0, 1]}
    assert start_order([0, 1, 2, 3], after.__getitem__) == [1, 2, 0, 3]
    assert start_order([3, 2, 1, 0], after.__getitem__) == [2, 1, 0, 3]
    assert start_order([0, 1], after.__getitem__) == [0, 1]   # 2 is not queued: no reorder
    plain = list(range(1000))
    assert start_order(plain, lambda job_id: []) == plain
