"""Batches that survive the night (issue 10), with the real Blender: a Render+ killed mid-job
comes back showing the batch as it was, and resuming renders only what is missing; crashed
jobs are retried; frame lists and skip_existing; File Output node files are outputs too."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.runner import Batch
from renderplus.batch.service import BatchService, NothingToResumeError
from renderplus.batch.store import BatchStore
from renderplus.batch.view import JobStatus
from tests.batch.conftest import make_recipe
from tests.batch.service_driver import start_service
from tests.blendfiles import file_output_script
from tests.procs import pids_in_group, processes_with
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
Factory = Callable[..., Path]


def three_animations(tmp_path: Path, blend: Path) -> dict[str, object]:
    return {"version": 2.2, "name": "night", "jobs": [
        {"id": i, "name": f"shot{i}", "blend_file": str(blend), "animated": True,
         "frame_start": 1, "frame_end": 4, "output": str(tmp_path / "out" / f"shot{i}_####")}
        for i in range(3)]}


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_mtime_ns, p.stat().st_ino) for p in folder.glob("*.png")}


@pytest.mark.parametrize("whole_group", [False, True], ids=["process", "process-group"])
def test_killed_mid_job_comes_back_as_it_was_and_resumes_only_what_is_missing(
        tmp_path: Path, blend_factory: Factory, whole_group: bool) -> None:
    blend = blend_factory(size=(96, 72), samples=600, frames=4)
    work = tmp_path / "work"
    recipe = three_animations(tmp_path, blend)
    driver = start_service(work, recipe)
    out = tmp_path / "out"
    wait_for(lambda: len(list(out.glob("shot1_*.png"))) >= 2, timeout=120)
    if whole_group:
        os.killpg(driver.pid, signal.SIGKILL)
    else:
        driver.send_signal(signal.SIGKILL)
    driver.wait(10)
    wait_for(lambda: not processes_with(str(out)), timeout=15)  # ended by the parent-death signal
    before = stamps(out)
    assert {f"shot0_000{i}.png" for i in range(1, 5)} <= set(before)

    store = BatchStore.open(work)
    service = BatchService(work_dir=work, store=store)
    shown = service.view()
    assert shown is not None and shown.resumable and shown.status == "CANCELLED"
    assert [job.status for job in shown.jobs] == ["FINISHED", "CANCELLED", "QUEUED"]
    assert shown.jobs[0].times.rendertime is not None
    assert any("Interrupted" in m for m in shown.jobs[1].messages)
    assert shown.to_json()["resumable"] is True
    # what the killed run had recorded; a file it wrote in the instant before the kill, before
    # recording it, is kept only when whole (resume.py: written after the job started)
    recorded = {Path(p).name for p in shown.jobs[1].outputs}
    assert "shot1_0001.png" in recorded and recorded <= set(before)
    assert shown.jobs[1].frames_done == len(recorded) and 0 < shown.jobs[1].progress < 100
    assert shown.jobs[0].frames_done == 4 and shown.jobs[0].progress == 100
    assert len(shown.jobs[0].outputs) == 4 and shown.jobs[2].outputs == ()

    batch = service.resume()
    assert batch.wait(300)
    view = batch.view()
    assert view.status == "FINISHED", [job.messages for job in view.jobs]
    assert [job.status for job in view.jobs] == ["FINISHED"] * 3
    assert view.stats.average_time is not None and view.stats.fastest_index is not None
    after = stamps(out)
    assert len(after) == 12
    for name in recorded | {n for n in before if n.startswith("shot0")}:  # done before: untouched
        assert after[name] == before[name], f"{name} was rendered again"
    kept = {name for name in before if name.startswith("shot1") and name not in recorded
            and any(m.startswith("Kept") for m in view.jobs[1].messages)
            and after[name] == before[name]}
    handle = batch.handle(1)
    assert handle is not None
    first_missing = min(f for f in range(1, 5) if f"shot1_{f:04d}.png" not in recorded | kept)
    assert handle.argv[handle.argv.index("-s") + 1] == str(first_missing)  # only what was missing
    assert view.jobs[1].frames_done == view.jobs[1].frames_total == 4
    with pytest.raises(NothingToResumeError):
        service.resume()
    store.close()


_KILL_SELF_SOON = ("import os, signal, threading; "
                   "threading.Timer(2.5, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()")


def test_a_crashed_job_is_retried_and_a_missing_camera_is_not(tmp_path: Path,
                                                             blend_factory: Factory) -> None:
    flaky = tmp_path / "crashes-once"
    flaky.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        if [ ! -e {tmp_path / 'crashed'} ]; then
          touch {tmp_path / 'crashed'}
          exec blender --python-expr "{_KILL_SELF_SOON}" "$@"
        fi
        exec blender "$@"
        """))
    flaky.chmod(0o755)
    blend = blend_factory(size=(96, 72), samples=300, frames=3)
    recipe = make_recipe([
        {"blend_file": str(blend), "animated": True, "frame_start": 1, "frame_end": 3,
         "output": str(tmp_path / "a_####")},
        {"blend_file": str(blend), "camera": "NoSuchCamera", "output": str(tmp_path / "b_####")},
    ], blender_bin=str(flaky))
    batch = Batch(recipe)
    batch.run()
    first, second = batch.view().jobs
    assert first.status == "FINISHED", first.messages
    assert len(first.messages) == 1 and first.messages[0].startswith("Attempt 1 of 2: Blender failed "
                                                                     "(killed by signal 9)")
    assert second.status == "FAILED"
    assert len(second.messages) == 1 and "NoSuchCamera" in second.messages[0]
    assert sorted(p.name for p in tmp_path.glob("a_*.png")) == ["a_0001.png", "a_0002.png", "a_0003.png"]


def test_skip_existing_renders_only_the_missing_and_the_truncated(tmp_path: Path,
                                                                   blend_factory: Factory) -> None:
    blend = blend_factory(frames=4)
    job = {"blend_file": str(blend), "frames": "1-4", "output": str(tmp_path / "s_####")}
    Batch(make_recipe([dict(job)])).run()
    kept = {n: (tmp_path / n).stat().st_mtime_ns for n in ("s_0001.png", "s_0004.png")}
    (tmp_path / "s_0003.png").unlink()
    (tmp_path / "s_0002.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)  # cut short
    batch = Batch(make_recipe([{**job, "skip_existing": True}]))
    batch.run()
    view = batch.view().job(0)
    assert view.status == "FINISHED", view.messages
    assert view.frames_done == 4
    assert "Skipping 2 existing frame(s)" in view.messages
    handle = batch.handle(0)
    assert handle is not None
    assert list(handle.argv[handle.argv.index("-s") + 1:handle.argv.index("-a")]) == ["2", "-e", "3"]
    assert {n: (tmp_path / n).stat().st_mtime_ns for n in kept} == kept
    assert (tmp_path / "s_0002.png").stat().st_size > 100




def test_file_output_node_files_are_outputs_and_verified_on_resume(
        tmp_path: Path, blend_factory: Factory) -> None:
    blend = tmp_path / "with_file_output.blend"
    script = tmp_path / "add_node.py"
    script.write_text(file_output_script(str(tmp_path / "passes") + "/")
                      + f"bpy.ops.wm.save_as_mainfile(filepath={str(blend)!r})\n")
    subprocess.run(["blender", "-b", str(blend_factory(frames=2)), "--python", str(script)],
                   check=True, capture_output=True, timeout=120)
    store = BatchStore.open(tmp_path / "work")
    recipe = make_recipe([{"blend_file": str(blend), "frames": "1-2",
                           "output": str(tmp_path / "main_####")}])
    batch = Batch(recipe, store=store)
    batch.run()
    job = batch.view().job(0)
    assert job.status == "FINISHED", job.messages
    passes = sorted(str(p) for p in (tmp_path / "passes").glob("pass_*.png"))
    assert len(passes) == 2 and set(passes) <= set(job.outputs)
    assert batch.store_id is not None
    recorded = store.frames(batch.store_id, 0)
    assert {len(item.files) for item in recorded.values()} == {2}  # main + pass, both verified
    # A pass file that vanished makes its frame count as missing when the job runs again
    Path(passes[1]).unlink()
    store.update_job(batch.store_id, 0, status=JobStatus.FAILED)  # as if it had failed
    again = BatchService(work_dir=tmp_path / "work", store=store).resume()
    assert again.wait(120)
    assert again.view().job(0).status == "FINISHED"
    assert Path(passes[1]).exists()
    handle = again.handle(0)
    assert handle is not None and handle.argv[handle.argv.index("-f") + 1] == "2"
    store.close()


def test_no_orphan_after_resume(tmp_path: Path) -> None:
    """The handle check never ends a process that merely reuses a recorded pid."""
    from renderplus.batch.executors import JobHandle, ProcessExecutor
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        fake = JobHandle("local", 0, pid=sleeper.pid, pgid=sleeper.pid, boot_id="other-boot",
                         start_ticks=1, argv=("blender",))
        assert ProcessExecutor().end_orphan(fake) is False
        assert pids_in_group(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("executor", ["local", "session"])
def test_recovery_ends_a_recorded_process_of_either_local_executor(executor: str) -> None:
    """A dead run's Blender is ended whether it ran one job (local) or a session of several."""
    from renderplus.batch import recovery, spawner
    from renderplus.batch.executors import JobHandle
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        wait_for(lambda: spawner.cmdline(sleeper.pid) == ("sleep", "30"), timeout=10)  # exec'd
        argv = ("sleep", "30")
        handle = JobHandle(executor, 0, pid=sleeper.pid, pgid=sleeper.pid, boot_id=spawner.boot_id(),
                           start_ticks=spawner.start_ticks(sleeper.pid), argv=argv)
        assert recovery._end_orphan(handle) is True
        assert sleeper.wait(10) == -signal.SIGKILL
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()
