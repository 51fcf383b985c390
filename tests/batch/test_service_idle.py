"""``BatchService.idle()``: when a handed-over server may stop. Without Blender: each batch is
one job of a stand-in that waits for its own gate file, so the test decides when it ends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from renderplus.batch.recipe import Recipe
from renderplus.batch.runner import RunOptions
from renderplus.batch.service import BatchService
from renderplus.batch.view import BatchStatus
from tests.batch.conftest import make_recipe
from tests.waiting import wait_for


def test_idle_once_nothing_runs_or_is_paused_and_the_queue_starts_nothing(
        tmp_path: Path, fake_blender: Callable[[str], str]) -> None:
    def gated(name: str) -> tuple[Recipe, Path]:
        gate = tmp_path / f"gate-{name}"
        fake = fake_blender(f"while not os.path.exists({str(gate)!r}):\n    time.sleep(0.02)\n")
        return make_recipe([{"blend_file": __file__}], blender_bin=fake, name=name), gate

    service = BatchService(RunOptions(kill_grace=0.5), work_dir=tmp_path / "work")
    try:
        assert service.idle()                           # nothing was ever run
        (a, gate_a), (b, gate_b) = gated("A"), gated("B")
        service.enqueue(a)
        service.enqueue(b)
        assert not service.idle()                       # A runs
        service.hold_queue()
        gate_a.touch()
        wait_for(lambda: service.batch is not None and service.batch.status.ended, timeout=20)
        assert service.idle()                           # B waits in a held queue: nothing starts
        service.continue_queue()
        assert service.batch is not None and service.batch.recipe.name == "B"
        assert not service.idle()
        service.pause("now")
        wait_for(lambda: service.paused, timeout=20)
        assert not service.idle()                       # a paused batch waits for its resume
        gate_b.touch()
        service.resume()
        wait_for(lambda: service.batch is not None and service.batch.status is BatchStatus.FINISHED,
                 timeout=20)
        assert service.idle()                           # the queue is empty
    finally:
        service.shutdown(timeout=10)
