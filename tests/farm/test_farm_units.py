"""The farm executor's own logic, without a farm: chunks, task command lines, Slurm's fields,
and how the watcher turns task states and output into the runner's events (a fake engine)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from renderplus.batch.command import BlenderCommand
from renderplus.batch.executors import ExecEvent, Exited, FramesWritten, JobHandle, Output, Started
from renderplus.batch.executors.farm.base import (
    FarmJobStatus,
    FarmTask,
    TaskState,
    TaskStatus,
)
from renderplus.batch.executors.farm.slurm import _exit_code, _indexes, batch_script
from renderplus.batch.executors.farm.staging import SharedStorage
from renderplus.batch.executors.farm.tasks import chunk_command, chunk_frames
from renderplus.batch.executors.farm.watch import FarmWatch
from renderplus.batch.frames import FrameSet
from renderplus.batch.markers import format_marker
from tests.waiting import wait_for


def test_chunks_keep_order_and_never_pass_the_size() -> None:
    assert [c.to_spec() for c in chunk_frames(FrameSet.parse("1-25"), 10)] == ["1-10", "11-20", "21-25"]
    assert [c.to_spec() for c in chunk_frames(FrameSet.parse("1-3,10-12"), 4)] == ["1-3,10", "11-12"]
    assert [c.to_spec() for c in chunk_frames(FrameSet.parse("1-9x2"), 2)] == ["1-3x2", "5-7x2", "9"]
    with pytest.raises(ValueError):
        chunk_frames(FrameSet.parse("1"), 0)


def test_chunk_command_swaps_frames_files_and_makes_relative_output_absolute() -> None:
    command = BlenderCommand(blender="/local/blender", blend="/home/u/a.blend", config="/tmp/job.json",
                             frames=FrameSet.parse("1-20"), output="//out/f_####", engine="CYCLES",
                             cycles_device="CUDA", script="/repo/job_overrides.py")
    assert command.argv[-3:] == ("/tmp/job.json", "--cycles-device", "CUDA")
    task = chunk_command(command, FrameSet.parse("5-8"), blender="/farm/blender",
                         blendfile="/shared/st/a.blend", script="/shared/st/job_overrides.py",
                         config="/shared/st/chunk-1.json", output_base="/home/u")
    assert task.argv == ("/farm/blender", "-b", "/shared/st/a.blend", "-o", "/home/u/out/f_####",
                         "-E", "CYCLES", "-x", "1", "--python-exit-code", "17", "--python",
                         "/shared/st/job_overrides.py", "-s", "5", "-e", "8", "-a", "--",
                         "--renderplus-job", "/shared/st/chunk-1.json", "--cycles-device", "CUDA")
    # several runs: no frame options, the chunk's job file renders them
    two_runs = chunk_command(command, FrameSet.parse("1,5"), blender="b", blendfile="f", script="s",
                             config="c").argv
    assert "-a" not in two_runs and "-f" not in two_runs and "//out/f_####" in two_runs


def test_slurm_fields() -> None:
    assert _indexes("3") == [3]
    assert _indexes("0-2,5%2") == [0, 1, 2, 5]
    assert _exit_code("0:15") == -15 and _exit_code("2:0") == 2 and _exit_code("") is None
    spec_task = FarmTask(0, FrameSet.single(1), ("blender", "-b", "it's.blend"))
    from renderplus.batch.executors.farm.base import FarmJobSpec
    script = batch_script(FarmJobSpec("n", 0, "it's.blend", "/d", (spec_task,)))
    assert "0) exec blender -b 'it'\"'\"'s.blend' ;;" in script


def test_shared_storage_sees_only_its_roots(tmp_path: Path) -> None:
    storage = SharedStorage([str(tmp_path / "shared")], str(tmp_path / "shared" / "staging"))
    assert storage.sees(tmp_path / "shared" / "a.blend")
    assert not storage.sees(tmp_path / "sharedness" / "a.blend")
    with pytest.raises(ValueError, match="not under a shared root"):
        SharedStorage([str(tmp_path / "shared")], str(tmp_path / "elsewhere"))


class FakeEngine:
    """Task states and logs set by the test."""

    name = "fake"
    blender = None

    def __init__(self, tasks: int) -> None:
        self.states = [TaskStatus(i, TaskState.QUEUED) for i in range(tasks)]
        self.logs = ["" for _ in range(tasks)]
        self.cancels: list[str] = []

    def poll(self, farm_id: str, tasks: Sequence[FarmTask]) -> FarmJobStatus:
        return FarmJobStatus(tuple(self.states), "fake queue (Priority)")

    def read_log(self, farm_id: str, task: FarmTask, offset: int, *,
                 final: bool = False) -> tuple[str, int]:
        text = self.logs[task.index][offset:]
        return text, offset + len(text)

    def cancel(self, farm_id: str, reason: str) -> None:
        self.cancels.append(reason)

    def where(self) -> str:
        return "fake"

    def set(self, index: int, state: TaskState, code: int | None = None, reason: str = "") -> None:
        self.states[index] = TaskStatus(index, state, code, reason, started=time.time())


def follow(engine: FakeEngine, frames: str, chunks: list[str]) -> tuple[FarmWatch, list[ExecEvent]]:
    watch = FarmWatch(engine, poll_interval=0.02, lost_after=5)  # type: ignore[arg-type]
    events: list[ExecEvent] = []
    tasks = [FarmTask(i, FrameSet.parse(c), ("b",)) for i, c in enumerate(chunks)]
    where = watch.follow(JobHandle("farm:fake", 0, farm_id="7"), tasks, FrameSet.parse(frames),
                         events.append)
    queued = all(state.state is TaskState.QUEUED for state in engine.states)
    assert where == ("waiting in fake queue (Priority)" if queued else "")
    return watch, events


def wait_exit(events: list[ExecEvent]) -> Exited:
    exits = wait_for(lambda: [e for e in events if isinstance(e, Exited)], timeout=5, interval=0.01)
    time.sleep(0.1)  # not a wait for something: a second Exited would arrive within it
    assert len([e for e in events if isinstance(e, Exited)]) == 1
    return exits[0]


def counted_polls(engine: FakeEngine) -> Callable[[], int]:
    """From now on count the watcher's polls of ``engine``; returns the count so far."""
    count = [0]
    poll = engine.poll

    def counting(farm_id: str, tasks: Sequence[FarmTask]) -> FarmJobStatus:
        count[0] += 1
        return poll(farm_id, tasks)

    engine.poll = counting  # type: ignore[method-assign]
    return lambda: count[0]


def frame_line(frame: int) -> str:
    return format_marker("frame", frame=frame, path=f"/out/{frame}.png") + "\n"


def test_outputs_frames_and_one_ready_marker_for_the_whole_job() -> None:
    engine = FakeEngine(2)
    for i, (first, last) in enumerate(((1, 2), (3, 4))):
        engine.logs[i] = (format_marker("ready", engine="CYCLES", frames=f"{first}-{last}") + "\n"
                          + f"Fra:{first} Mem:1M | Rendering\n" + frame_line(first)
                          + frame_line(last) + "Blender quit\n")
        engine.set(i, TaskState.RUNNING)
    _watch, events = follow(engine, "1-4", ["1-2", "3-4"])
    engine.set(0, TaskState.COMPLETED, 0)
    engine.set(1, TaskState.COMPLETED, 0)
    exited = wait_exit(events)
    assert exited.returncode == 0 and not exited.cancelled
    assert isinstance(events[0], Started)
    readies = [e.line for e in events if isinstance(e, Output) and "ready" in e.line]
    assert len(readies) == 1 and json.loads(readies[0].split("> ", 1)[1])["frames"] == "1-4"
    lines = [e.line for e in events if isinstance(e, Output)]
    assert "Blender quit" not in lines and "Fra:1 Mem:1M | Rendering" in lines
    assert "Fra:3 Mem:1M | Rendering" not in lines          # only the followed task's detail
    written = [(list(e.frames), e.paths) for e in events if isinstance(e, FramesWritten)]
    assert sorted(written) == [([f], (f"/out/{f}.png",)) for f in (1, 2, 3, 4)]


def test_a_job_that_completes_while_being_cancelled_is_finished() -> None:
    engine = FakeEngine(1)
    engine.set(0, TaskState.RUNNING)
    watch, events = follow(engine, "1", ["1"])
    assert watch.cancel(0)
    engine.set(0, TaskState.COMPLETED, 0)
    exited = wait_exit(events)
    assert exited.returncode == 0 and not exited.cancelled
    assert next(e for e in events if isinstance(e, FramesWritten)).frames == FrameSet.single(1)


def test_cancel_is_confirmed_by_the_farm_only() -> None:
    engine = FakeEngine(2)                                   # queued: Accepted says where
    watch, events = follow(engine, "1-2", ["1", "2"])
    engine.set(0, TaskState.RUNNING)
    assert watch.cancel(0) and engine.cancels
    polls = counted_polls(engine)
    wait_for(lambda: polls() >= 5)  # the watcher asked the farm again and again: no answer yet
    assert not any(isinstance(e, Exited) for e in events)   # the farm has not answered yet
    engine.set(0, TaskState.CANCELLED, -15)
    engine.set(1, TaskState.CANCELLED)
    exited = wait_exit(events)
    assert exited.cancelled and not exited.final


def test_a_task_cancelled_on_the_farm_fails_the_job_for_good() -> None:
    engine = FakeEngine(2)
    engine.set(0, TaskState.RUNNING)
    engine.set(1, TaskState.RUNNING)
    _watch, events = follow(engine, "1-2", ["1", "2"])
    engine.set(0, TaskState.CANCELLED, -15, "Slurm: CANCELLED, JOB 8 ON n1 CANCELLED AT 12:00")
    assert wait_for(lambda: engine.cancels, timeout=5, interval=0.01), "the rest of the farm job is cancelled"
    engine.set(1, TaskState.CANCELLED, -15)
    exited = wait_exit(events)
    assert exited.returncode == -15 and exited.final and not exited.cancelled
    assert exited.detail.startswith("cancelled on the farm by someone other than Render+")
    assert "chunk 0, frames 1" in exited.detail and "CANCELLED AT 12:00" in exited.detail


# ---------------------------------------------------------------- frames checked on the node


def test_check_command_asks_what_validate_asks() -> None:
    from renderplus.batch.executors.farm.tasks import check_command
    from renderplus.batch.recipe.model import ValidateSettings
    structural = check_command(ValidateSettings(decode=True, black=False), blender="/farm/blender",
                               scripts_dir="/shared/st/scripts", log="/shared/st/task-0.log")
    assert structural == ("/farm/blender", "-b", "--factory-startup", "--python",
                          "/shared/st/scripts/check_frames.py", "--", "--from-log",
                          "/shared/st/task-0.log")
    black = check_command(ValidateSettings(decode=False, black=True), blender="b", scripts_dir="s",
                          log="l")
    assert black[-4:] == ("--black", "--nan", "--from-log", "l")


def test_a_slurm_task_checks_its_frames_after_blender_and_keeps_blenders_status(
        tmp_path: Path) -> None:
    """The array script run by bash: the check after Blender, in the same task, its exit status
    Blender's; a check script missing on the node is skipped."""
    import subprocess

    from renderplus.batch.executors.farm.base import FarmJobSpec
    check_script = tmp_path / "check_frames.py"
    check_script.write_text("")
    order = tmp_path / "order.txt"
    render = ("sh", "-c", f"echo render >> {order}; exit 3")
    check = ("sh", "-c", f"echo check >> {order}; exit 1", str(check_script))
    gone = ("sh", "-c", f"echo gone >> {order}", str(tmp_path / "gone" / "check_frames.py"))
    spec = FarmJobSpec("n", 0, "a.blend", str(tmp_path), (
        FarmTask(0, FrameSet.single(1), render, check_argv=check),
        FarmTask(1, FrameSet.single(2), render, check_argv=gone),
        FarmTask(2, FrameSet.single(3), render)))
    script = tmp_path / "farm-job.sh"
    script.write_text(batch_script(spec))
    codes = []
    for index in range(3):
        result = subprocess.run(["bash", str(script)], env={"SLURM_ARRAY_TASK_ID": str(index)},
                                check=False)
        codes.append(result.returncode)
    assert codes == [3, 3, 3]
    assert order.read_text().split() == ["render", "check", "render", "render"]
    assert "2) exec sh -c" in script.read_text()    # no check: the task is Blender alone


def test_the_node_check_reads_the_files_a_task_log_names(tmp_path: Path) -> None:
    from renderplus.blender_scripts import check_frames
    log = tmp_path / "task-0.log"
    log.write_text("\n".join([
        "Fra:1 Mem:10M | Rendering",
        format_marker("ready", frames="1-2"),
        format_marker("frame", frame=1, path="/o/f_0001.png", files=["/o/fo_0001.exr"]),
        "RENDERPLUS> {not json",
        format_marker("frame", frame=2, path="/o/f_0002.png"),
        format_marker("frame", frame=2, path="/o/f_0002.png"),    # said twice: checked once
        format_marker("frame_checked", path="/o/x.png", problem=None),
    ]) + "\n")
    # a frame's File Output files before its image: the image's verdict closes the frame
    assert check_frames.logged_files(str(log)) == [
        (1, "/o/fo_0001.exr"), (1, "/o/f_0001.png"), (2, "/o/f_0002.png")]
    assert check_frames.main(["blender", "--", "--from-log"]) == 2
    assert check_frames.main(["blender", "--", "--from-log", str(log), "/o/f.png"]) == 2
    assert check_frames.main(["blender", "--", "--from-log", str(tmp_path / "none.log")]) == 2
