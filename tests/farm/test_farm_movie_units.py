"""The farm's encode without a farm: Slurm's dependent job's command line, the watcher following
the encode after the chunks (its lines, a failure it did not say, a cancel, a pause, chunks
that failed), what the executor stages and keeps for a restart, and Flamenco's job settings and
job type."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from renderplus.batch.command import build_command, write_override_config
from renderplus.batch.encode import movie_output
from renderplus.batch.executors import ExecEvent, Exited, FramesWritten, JobHandle, JobLaunch, Output
from renderplus.batch.executors.farm import FarmExecutor, FarmFate, SharedStorage
from renderplus.batch.executors.farm.base import (
    ENCODE_INDEX,
    FarmJobSpec,
    FarmTask,
    TaskState,
    TaskStatus,
    UnknownFarmJob,
)
from renderplus.batch.executors.farm.flamenco import job_settings
from renderplus.batch.executors.farm.slurm import encode_sbatch_argv
from renderplus.batch.executors.farm.watch import FarmWatch
from renderplus.batch.frames import FrameSet
from renderplus.batch.markers import format_marker, parse_marker
from renderplus.batch.recipe import Recipe
from renderplus.batch.script_paths import FLAMENCO_JOB_TYPE
from tests.batch.conftest import make_recipe
from tests.farm.test_farm_units import FakeEngine, frame_line
from tests.waiting import wait_for

ARRAY, ENCODE = "7", "8"


class EncodingEngine(FakeEngine):
    """A fake farm with an encode queued as a job of its own (as Slurm's)."""

    ffmpeg = "/nodes/bin/ffmpeg"

    def __init__(self, tasks: int) -> None:
        super().__init__(tasks)
        self.encode = TaskStatus(ENCODE_INDEX, TaskState.QUEUED)
        self.encode_log = ""
        self.cancelled: list[str] = []      # the farm ids cancelled
        self.specs: list[FarmJobSpec] = []

    def submit(self, spec: FarmJobSpec) -> str:
        self.specs.append(spec)
        return ARRAY

    def submit_encode(self, spec: FarmJobSpec, farm_id: str) -> str:
        assert farm_id == ARRAY and spec.encode is not None
        return ENCODE

    def poll_encode(self, encode: FarmTask) -> TaskStatus:
        assert encode.farm_id == ENCODE
        return self.encode

    def read_log(self, farm_id: str, task: FarmTask, offset: int, *,
                 final: bool = False) -> tuple[str, int]:
        if task.index != ENCODE_INDEX:
            return super().read_log(farm_id, task, offset, final=final)
        text = self.encode_log[offset:]
        return text, offset + len(text)

    def cancel(self, farm_id: str, reason: str) -> None:
        super().cancel(farm_id, reason)
        self.cancelled.append(farm_id)

    def pause(self, farm_id: str, reason: str) -> None:
        """A hold: nothing of the job waits any more here (the encode runs)."""

    def end_encode(self, state: TaskState, code: int | None, reason: str = "") -> None:
        self.encode = TaskStatus(ENCODE_INDEX, state, code, reason)


def follow(engine: EncodingEngine, chunks: Sequence[str]) -> tuple[FarmWatch, list[ExecEvent]]:
    watch = FarmWatch(engine, poll_interval=0.02, lost_after=5)  # type: ignore[arg-type]
    events: list[ExecEvent] = []
    tasks = [FarmTask(i, FrameSet.parse(c), ("b",)) for i, c in enumerate(chunks)]
    frames = FrameSet.from_frames(f for t in tasks for f in t.frames)
    encode = FarmTask(ENCODE_INDEX, frames, ("b", "-b", "x.blend"), "", ENCODE)
    watch.follow(JobHandle("farm:fake", 0, farm_id=ARRAY), tasks, frames, events.append, encode=encode)
    return watch, events


def rendered(engine: EncodingEngine, frames: Sequence[int]) -> None:
    """Every chunk (one frame each) wrote its frame and completed."""
    for index, frame in enumerate(frames):
        engine.logs[index] = frame_line(frame)
        engine.set(index, TaskState.COMPLETED, 0)


def exit_of(events: list[ExecEvent]) -> Exited:
    found: list[Exited] = wait_for(lambda: [e for e in events if isinstance(e, Exited)],
                                   timeout=5, interval=0.01)
    return found[0]


def said(events: list[ExecEvent]) -> list[dict[str, object]]:
    lines = [e.line for e in events if isinstance(e, Output)]
    return [m for m in (parse_marker(line) for line in lines) if m is not None]


def test_encode_sbatch_waits_for_every_array_task_and_dies_with_it() -> None:
    encode = FarmTask(ENCODE_INDEX, FrameSet.parse("1-4"), ("blender", "-b", "x.blend"),
                      "/shared/staging/job0/encode.log")
    spec = FarmJobSpec("renderplus-job0", 0, "x.blend", "/shared/staging/job0", (), encode=encode)
    argv = encode_sbatch_argv(spec, "1234", "/shared/staging/job0/encode-job.sh", "render",
                              ("--cpus-per-task=2",))
    assert argv == ["sbatch", "--parsable", "--dependency=afterok:1234", "--kill-on-invalid-dep=yes",
                    "--job-name=renderplus-job0-encode", "--chdir=/shared/staging/job0",
                    "--output=/shared/staging/job0/encode.log", "--export=ALL", "--partition=render",
                    "--cpus-per-task=2", "/shared/staging/job0/encode-job.sh"]


def test_the_encode_lines_follow_the_frames_and_the_end_follows_the_encode() -> None:
    engine = EncodingEngine(2)
    _watch, events = follow(engine, ["1", "2"])
    rendered(engine, [1, 2])
    wait_for(lambda: len([e for e in events if isinstance(e, FramesWritten)]) == 2)
    engine.encode_log = (format_marker("encode_ready", movie="/out/shot.mp4", frames=2) + "\n"
                         + "Blender quit\n")
    engine.end_encode(TaskState.RUNNING, None)
    wait_for(lambda: any(isinstance(e, Output) and "encode_ready" in e.line for e in events))
    assert not any(isinstance(e, Exited) for e in events)    # the encode still runs
    engine.encode_log += format_marker("movie", path="/out/shot.mp4", frames=2) + "\n"
    engine.end_encode(TaskState.COMPLETED, 0)
    exited = exit_of(events)
    assert exited.returncode == 0 and not exited.cancelled
    kinds = [type(e).__name__ for e in events if not (isinstance(e, Output) and "ready" not in e.line
                                                       and "movie" not in e.line)]
    assert kinds[-4:] == ["FramesWritten", "Output", "Output", "Exited"]
    assert [m["event"] for m in said(events)] == ["encode_ready", "movie"]
    assert "Blender quit" not in [e.line for e in events if isinstance(e, Output)]


def test_an_encode_that_failed_without_saying_so_gets_a_failure_marker(tmp_path: Path) -> None:
    movie = tmp_path / "shot.mp4"
    partial = tmp_path / ".shot.partial.mp4"   # what a hard kill left
    partial.write_bytes(b"half")
    engine = EncodingEngine(1)
    _watch, events = follow(engine, ["1"])
    rendered(engine, [1])
    engine.encode_log = format_marker("encode_ready", movie=str(movie), frames=1) + "\n"
    engine.end_encode(TaskState.FAILED, 1, "Slurm: FAILED, NonZeroExitCode")
    exited = exit_of(events)
    assert exited.returncode == 0                            # every frame was rendered
    failed = said(events)[-1]
    assert failed["event"] == "encode_failed"
    assert failed["message"] == ("the farm's encode job 8 ended FAILED (exit code 1; "
                                 "Slurm: FAILED, NonZeroExitCode)")
    assert isinstance(events[-2], Output) and events[-2].line.endswith("}")
    assert not partial.exists()


def test_an_encode_that_said_why_it_failed_gets_no_second_reason() -> None:
    engine = EncodingEngine(1)
    _watch, events = follow(engine, ["1"])
    rendered(engine, [1])
    engine.encode_log = format_marker("encode_failed", message="Frame 1 is missing: /out/1.png") + "\n"
    engine.end_encode(TaskState.FAILED, 17)
    assert exit_of(events).returncode == 0
    assert [m["message"] for m in said(events)] == ["Frame 1 is missing: /out/1.png"]


def test_failed_chunks_end_the_job_without_waiting_for_the_encode() -> None:
    engine = EncodingEngine(2)
    _watch, events = follow(engine, ["1", "2"])
    engine.set(0, TaskState.FAILED, 1, "Slurm: FAILED")
    engine.set(1, TaskState.CANCELLED, -15)            # the rest, cancelled by the watcher
    exited = exit_of(events)                           # the encode stays queued: no wait
    assert exited.returncode == 1 and "chunk 0" in exited.detail
    assert ENCODE in engine.cancelled and ARRAY in engine.cancelled
    assert not said(events)


def test_a_cancel_while_the_movie_is_made_cancels_the_encode_job() -> None:
    engine = EncodingEngine(1)
    watch, events = follow(engine, ["1"])
    rendered(engine, [1])
    engine.end_encode(TaskState.RUNNING, None)
    wait_for(lambda: any(isinstance(e, FramesWritten) for e in events))
    assert watch.cancel(0)
    assert engine.cancelled[:2] == [ARRAY, ENCODE]
    engine.end_encode(TaskState.CANCELLED, -15)
    exited = exit_of(events)
    assert exited.cancelled and not exited.paused and not said(events)


@pytest.mark.parametrize("when", ["now", "frame"])
def test_a_pause_while_the_movie_is_made_cancels_the_encode_and_ends_paused(when: str) -> None:
    engine = EncodingEngine(1)
    watch, events = follow(engine, ["1"])
    rendered(engine, [1])
    engine.end_encode(TaskState.RUNNING, None)
    wait_for(lambda: any(isinstance(e, FramesWritten) for e in events))
    assert watch.pause(0, when)
    wait_for(lambda: ENCODE in engine.cancelled)
    engine.end_encode(TaskState.CANCELLED, -15)
    exited = exit_of(events)
    assert exited.paused and not exited.cancelled and "movie" in exited.detail
    assert not said(events)


# ---------------------------------------------------------------- the executor


def movie_recipe(shared: Path, encode: dict[str, object] | None) -> Recipe:
    blend = shared / "shot.blend"
    blend.write_bytes(b"BLENDER")  # never read: staged with pack="never"
    job: dict[str, object] = {"blend_file": str(blend), "output": str(shared / "out" / "shot_"),
                              "format": "PNG", "animated": True, "frame_start": 1, "frame_end": 4}
    if encode is not None:
        job["encode"] = encode
    return make_recipe([job])


def launch(recipe: Recipe, workdir: Path) -> JobLaunch:
    config = workdir / "renderplus_job0.json"
    write_override_config(recipe, recipe.jobs[0], str(config))
    command = build_command(recipe, recipe.jobs[0], blender_bin="blender", config_path=str(config))
    return JobLaunch(0, command, {}, str(workdir))


def executor(engine: EncodingEngine, shared: Path, recipe: Recipe | None) -> FarmExecutor:
    storage = SharedStorage([str(shared)], str(shared / "staging"))
    return FarmExecutor(engine, storage, pack="never", poll_interval=0.02,  # type: ignore[arg-type]
                        recipe=recipe)


def test_the_executor_stages_the_encode_on_the_nodes_files(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    recipe = movie_recipe(shared, {"format": "h264", "output": str(shared / "movies") + "/"})
    engine = EncodingEngine(4)
    farm = executor(engine, shared, recipe)
    assert farm.makes_movies
    handle = farm.submit(launch(recipe, tmp_path), lambda event: None)
    spec = engine.specs[0]
    assert spec.encode is not None
    folder = Path(spec.folder)
    argv = list(spec.encode.argv)
    assert argv[:3] == ["blender", "-b", str(shared / "shot.blend")]
    assert argv[argv.index("--python") + 1] == str(folder / "scripts" / "encode_movie.py")
    assert (folder / "scripts" / "encode_movie.py").is_file()
    assert argv[argv.index("-o") + 1] == spec.tasks[0].argv[spec.tasks[0].argv.index("-o") + 1]
    config = json.loads((folder / "encode.json").read_text())
    assert config["paths"] is None and config["movie"] == ""
    assert config["output"] == movie_output(recipe, recipe.jobs[0]) == str(shared / "movies") + "/"
    assert config["ffmpeg"]["binary"] == "/nodes/bin/ffmpeg"
    assert config["frames"] == [1, 2, 3, 4] and config["format"] == "h264"
    assert Path(config["workdir"]) == folder / "encode" and (folder / "encode").is_dir()
    assert spec.encode.log_path == str(folder / "encode.log")
    assert handle.farm_id == ARRAY
    manifest = farm._manifests.read(ARRAY)
    assert manifest is not None and manifest["encode"]["farm_id"] == ENCODE
    farm.detach()


def test_no_encode_without_the_recipe_or_the_key(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    with_movie = movie_recipe(shared, {"format": "h264"})
    assert not executor(EncodingEngine(4), shared, None).makes_movies
    for recipe, farm_recipe in ((with_movie, None), (movie_recipe(shared, None), "own")):
        engine = EncodingEngine(4)
        farm = executor(engine, shared, recipe if farm_recipe else None)
        farm.submit(launch(recipe, tmp_path), lambda event: None)
        assert engine.specs[0].encode is None
        farm.detach()


def test_a_restart_finds_the_encode_still_running_and_an_orphan_loses_it(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    recipe = movie_recipe(shared, {"format": "h264"})
    engine = EncodingEngine(1)
    first = executor(engine, shared, recipe)
    handle = first.submit(launch(recipe, tmp_path), lambda event: None)
    first.detach()
    engine.set(0, TaskState.COMPLETED, 0)
    engine.end_encode(TaskState.RUNNING, None)
    second = executor(engine, shared, recipe)
    restored = JobHandle.from_json(handle.to_json())
    assert second.fate(restored) is FarmFate.RUNNING    # every chunk done, the movie not yet
    assert second.end_orphan(restored) and engine.cancelled == [ENCODE]
    engine.end_encode(TaskState.CANCELLED, -15)
    assert second.fate(restored) is FarmFate.ENDED
    engine.poll_encode = forgotten  # type: ignore[method-assign]
    assert second.fate(restored) is FarmFate.ENDED


def forgotten(encode: FarmTask) -> TaskStatus:
    raise UnknownFarmJob(f"the fake farm forgot job {encode.farm_id}")


# ---------------------------------------------------------------- Flamenco


def test_flamenco_sends_the_encode_as_the_jobs_last_task() -> None:
    chunk = FarmTask(0, FrameSet.parse("1-2"), ("{blender}", "-b", "/s/x.blend", "-o", "/o/f_"))
    encode = FarmTask(ENCODE_INDEX, FrameSet.parse("1-2"),
                      ("{blender}", "-b", "/s/x.blend", "--python", "/s/encode_movie.py"))
    spec = FarmJobSpec("renderplus-job0", 0, "/s/x.blend", "/s", (chunk,), encode=encode)
    settings = job_settings(spec)
    assert json.loads(settings["encode"]) == {"name": "encode",
                                              "args": ["--python", "/s/encode_movie.py"]}
    assert json.loads(settings["tasks"])[0]["args"] == ["-o", "/o/f_"]
    assert "encode" not in job_settings(FarmJobSpec("j", 0, "/s/x.blend", "/s", (chunk,)))


COMPILE = """
const fs = require("fs");
const tasks = [];
global.author = {
    Task: (name, type) => { const t = {name, type, commands: [], deps: []};
                            t.addCommand = (c) => t.commands.push(c);
                            t.addDependency = (d) => t.deps.push(d.name); return t; },
    Command: (type, params) => ({type, params}),
};
eval(fs.readFileSync(process.argv[2], "utf8") + "\\nglobal.compileJob = compileJob;");
const job = {settings: JSON.parse(process.argv[3]), addTask: (t) => tasks.push(t)};
compileJob(job);
console.log(JSON.stringify(tasks.map((t) => ({name: t.name, deps: t.deps,
                                               args: t.commands[0].params.args}))));
"""


def test_the_job_type_runs_the_encode_after_every_chunk(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the job type's JavaScript cannot run here")
    script = tmp_path / "compile.js"
    script.write_text(COMPILE)
    chunks = [{"name": f"chunk-{i}", "frames": str(i), "args": ["-f", str(i)]} for i in range(2)]
    settings = {"blendfile": "/s/x.blend", "tasks": json.dumps(chunks),
                "encode": json.dumps({"name": "encode", "args": ["--python", "e.py"]})}
    out = subprocess.run([node, str(script), str(FLAMENCO_JOB_TYPE), json.dumps(settings)],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(out) == [
        {"name": "chunk-0", "deps": [], "args": ["-f", "0"]},
        {"name": "chunk-1", "deps": [], "args": ["-f", "1"]},
        {"name": "encode", "deps": ["chunk-0", "chunk-1"], "args": ["--python", "e.py"]}]
    del settings["encode"]
    out = subprocess.run([node, str(script), str(FLAMENCO_JOB_TYPE), json.dumps(settings)],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert [t["name"] for t in json.loads(out)] == ["chunk-0", "chunk-1"]


def test_the_command_line_names_the_nodes_ffmpeg() -> None:
    from renderplus.cli import build_parser
    from renderplus.cli.farm import farm_choice

    def node_ffmpeg(spec: str, *ffmpeg: str) -> object:
        args = build_parser().parse_args(["--farm", spec, "--farm-storage", "/srv/shared",
                                          *(["--farm-ffmpeg", *ffmpeg] if ffmpeg else [])])
        return getattr(farm_choice(args).engine(), "ffmpeg", None)   # Slurm's and Flamenco's

    assert node_ffmpeg("slurm", "/opt/ffmpeg/bin/ffmpeg") == "/opt/ffmpeg/bin/ffmpeg"
    assert node_ffmpeg("flamenco=http://manager:8080", "/usr/bin/ffmpeg") == "/usr/bin/ffmpeg"
    assert node_ffmpeg("slurm") == "ffmpeg"
