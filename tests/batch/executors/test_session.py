"""The session executor: one Blender for consecutive jobs of a file, pixel-identical to a process
per job; a cancel, an override error or a crash ends only its own job."""

from __future__ import annotations

import ast
import dataclasses
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.bench_session import make_camera_blend, png_pixels
from renderplus.batch.command import BlenderCommand, build_command, write_override_config
from renderplus.batch.executors import ExecutorError, Exited, JobLaunch, Output, Started
from renderplus.batch.executors.session import SESSION_FLAG, SESSION_SCRIPT, SessionExecutor
from renderplus.batch.executors.session_job import session_job
from renderplus.batch.frames import FrameSet
from renderplus.batch.markers import MARKER_PREFIX, parse_marker
from renderplus.batch.recipe import Recipe
from renderplus.batch.runner import Batch
from tests.batch.conftest import make_recipe
from tests.procs import is_alive
from tests.waiting import wait_for

# ---------------------------------------------------------------- the job line, without Blender


def command_of(tmp_path: Path, **job: Any) -> BlenderCommand:
    recipe = make_recipe([{"blend_file": str(tmp_path / "a.blend"), "output": str(tmp_path / "o"),
                           **job}])
    return build_command(recipe, recipe.jobs[0], blender_bin="/opt/blender", config_path="/t/j.json")


def test_a_still_splits_into_session_and_job_options(tmp_path: Path) -> None:
    split = session_job(command_of(tmp_path, scene="S2", engine="CYCLES", format="PNG", threads=2,
                                   frame_still=4, cycles={"device": "CPU"}))
    assert (split.blender, split.blend) == ("/opt/blender", str(tmp_path / "a.blend"))
    assert split.process_args == ("-t", "2")
    assert split.script_args == ("--cycles-device", "CPU")
    assert split.job == {"blend": str(tmp_path / "a.blend"), "scene": "S2",
                         "output": str(tmp_path / "o_####"), "format": "PNG", "engine": "CYCLES",
                         "extension": True, "frames": {"still": 4}, "config": "/t/j.json"}


def test_animations_and_script_rendered_frames(tmp_path: Path) -> None:
    stepped = session_job(command_of(tmp_path, animated=True, frame_start=2, frame_end=9,
                                     frames="2-9x3"))
    assert stepped.job["frames"] == {"start": 2, "end": 8, "step": 3}
    plain = session_job(command_of(tmp_path, animated=True, frame_start=1, frame_end=3))
    assert plain.job["frames"] == {"start": 1, "end": 3}
    negative = session_job(command_of(tmp_path, frames="-2,5"))  # the settings file's render_runs
    assert negative.job["frames"] is None


def test_the_job_line_sets_what_the_jobs_own_command_line_would(tmp_path: Path) -> None:
    """Each job-line field is the value of the option the process-per-job argv passes."""
    command = command_of(tmp_path, scene="S2", engine="CYCLES", format="PNG", animated=True,
                         frame_start=3, frame_end=7, cycles={"device": "CUDA"}, threads=4)
    argv, line = list(command.argv), session_job(command).job
    for option, key in (("-S", "scene"), ("-o", "output"), ("-F", "format"), ("-E", "engine")):
        assert argv[argv.index(option) + 1] == line[key]
    assert argv[argv.index("-s") + 1:argv.index("-s") + 4] == ["3", "-e", "7"]
    assert line["frames"] == {"start": 3, "end": 7} and argv[argv.index("-x") + 1] == "1"
    assert argv[-4:] == ["--renderplus-job", line["config"], "--cycles-device", "CUDA"]


def test_what_a_session_cannot_run_is_named(tmp_path: Path) -> None:
    command = dataclasses.replace(command_of(tmp_path), script="/x/mine.py")
    with pytest.raises(ExecutorError, match=r"mine\.py"):
        session_job(command)


def test_the_session_script_speaks_the_markers_protocol() -> None:
    constants = {node.targets[0].id: node.value.value  # type: ignore[attr-defined]
                 for node in ast.parse(SESSION_SCRIPT.read_text()).body
                 if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)}
    assert constants["PREFIX"] == MARKER_PREFIX
    assert constants["SESSION_FLAG"] == SESSION_FLAG


# ---------------------------------------------------------------- the real Blender

Factory = Callable[..., Path]
CAMERAS = 4


@pytest.fixture(scope="module")
def camera_blends(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    folder = tmp_path_factory.mktemp("session-blends")
    made: dict[str, Path] = {}

    def blend(engine: str) -> Path:
        if engine not in made:
            made[engine] = make_camera_blend(folder / f"cams_{engine.lower()}.blend",
                                             engine=engine, cameras=CAMERAS)
        return made[engine]

    return blend


class Driver:
    """Submits jobs to an executor one after another, as the runner does, and keeps the events."""

    def __init__(self, recipe: Recipe, tmp_path: Path, executor: SessionExecutor) -> None:
        self.recipe, self.tmp_path, self.executor = recipe, tmp_path, executor
        self.events: dict[int, list[Any]] = {job.id: [] for job in recipe.jobs}
        self.changed = threading.Condition()

    def sink(self, event: Any) -> None:
        with self.changed:
            self.events[event.job_id].append(event)
            self.changed.notify_all()

    def submit(self, job_id: int) -> int:
        job = self.recipe.jobs[job_id]
        workdir = self.tmp_path / f"work{job_id}"
        workdir.mkdir()
        config = str(workdir / "job.json")
        write_override_config(self.recipe, job, config)
        command = build_command(self.recipe, job, blender_bin="blender", config_path=config)
        launch = JobLaunch(job_id, command, dict(os.environ), str(workdir))
        handle = self.executor.submit(launch, self.sink)
        assert handle.pid is not None
        return handle.pid

    def wait(self, job_id: int, predicate: Callable[[list[Any]], bool], timeout: float = 120) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.events[job_id]), timeout):
                raise AssertionError(f"job {job_id}: not reached; events {self.events[job_id][-5:]}")

    def exited(self, job_id: int) -> Exited:
        self.wait(job_id, lambda events: any(isinstance(e, Exited) for e in events))
        ends = [e for e in self.events[job_id] if isinstance(e, Exited)]
        assert len(ends) == 1
        return ends[0]

    def run(self, job_id: int) -> tuple[int, Exited]:
        pid = self.submit(job_id)
        return pid, self.exited(job_id)

    def frames(self, job_id: int) -> list[str]:
        markers = [parse_marker(e.line) for e in self.events[job_id] if isinstance(e, Output)]
        return [str(m["path"]) for m in markers if m and m["event"] == "frame"]

    def lines(self, job_id: int) -> list[str]:
        return [e.line for e in self.events[job_id] if isinstance(e, Output)]


def camera_jobs(blend: Path, out: Path, count: int = CAMERAS, **extra: Any) -> list[dict[str, Any]]:
    return [{"blend_file": str(blend), "camera": f"Cam{i}", "output": str(out / f"cam{i}_"),
             **extra} for i in range(count)]


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.parametrize("engine", ["CYCLES", "BLENDER_WORKBENCH"])
def test_four_cameras_in_one_session_match_a_process_per_job(
        tmp_path: Path, camera_blends: Callable[[str], Path], engine: str) -> None:
    blend = camera_blends(engine)
    outputs: dict[str, list[str]] = {}
    pids: dict[str, set[int | None]] = {}
    for name, executor in (("process", None), ("session", SessionExecutor())):
        batch = Batch(make_recipe(camera_jobs(blend, tmp_path / name)), executor=executor)
        batch.run()
        view = batch.view()
        assert [job.status for job in view.jobs] == ["FINISHED"] * CAMERAS, \
            [job.messages for job in view.jobs]
        outputs[name] = [job.outputs[0] for job in view.jobs]
        pids[name] = {handle.pid for handle in map(batch.handle, range(CAMERAS)) if handle}
    assert len(pids["process"]) == CAMERAS
    assert len(pids["session"]) == 1, "one Blender should have rendered every job"
    images = [png_pixels(path) for path in outputs["session"]]
    assert images == [png_pixels(path) for path in outputs["process"]]
    assert len(set(images)) == CAMERAS, "each camera sees the scene differently"
    session_pid = pids["session"].pop()
    assert session_pid is not None
    wait_gone(session_pid)  # the batch's end closed the session: Blender quit


@pytest.mark.blender
@pytest.mark.slow
def test_restoring_instead_of_reloading_gives_the_same_images(
        tmp_path: Path, camera_blends: Callable[[str], Path]) -> None:
    blend = camera_blends("CYCLES")
    outputs = {}
    for reset in ("reload", "restore"):
        jobs = camera_jobs(blend, tmp_path / reset)
        jobs[1]["custom_overrides"] = [{"path": 'data.objects["Cube"].hide_render', "value": True,
                                        "enabled": True}]
        jobs[1]["size"] = [32, 24]
        batch = Batch(make_recipe(jobs), executor=SessionExecutor(reset=reset))
        batch.run()
        assert [job.status for job in batch.view().jobs] == ["FINISHED"] * CAMERAS
        outputs[reset] = [png_pixels(job.outputs[0]) for job in batch.view().jobs]
    assert outputs["reload"] == outputs["restore"]
    assert outputs["reload"][1][:2] == (32, 24) and outputs["reload"][2][:2] == (64, 48)


@pytest.mark.blender
@pytest.mark.slow
def test_an_override_error_fails_only_its_job(tmp_path: Path, camera_blends: Callable[[str], Path]) -> None:
    jobs = camera_jobs(camera_blends("CYCLES"), tmp_path, count=3)
    jobs[1]["camera"] = "NoSuchCam"
    driver = Driver(make_recipe(jobs), tmp_path, executor := SessionExecutor())
    try:
        results = [driver.run(job_id) for job_id in range(3)]
    finally:
        executor.close()
    assert [exited.returncode for _, exited in results] == [0, 17, 0]
    assert len({pid for pid, _ in results}) == 1
    errors = [parse_marker(line) for line in driver.lines(1) if "error" in line]
    assert any(m and "'NoSuchCam' not found" in m["message"] for m in errors)
    assert [len(driver.frames(job_id)) for job_id in range(3)] == [1, 0, 1]
    assert all(Path(path).exists() for path in driver.frames(0) + driver.frames(2))
    for job_id in range(3):  # Started comes before every Output and Exited, once
        kinds = [type(e).__name__ for e in driver.events[job_id]]
        assert kinds[:2] == ["Accepted", "Started"] and kinds.count("Started") == 1


def slow_jobs(blend: Path, out: Path) -> list[dict[str, Any]]:
    jobs = camera_jobs(blend, out)
    jobs[1].update(size=[320, 240], cycles={"samples": 100000})  # renders until stopped
    return jobs


def rendering(driver: Driver, job_id: int) -> None:
    driver.wait(job_id, lambda events: any(isinstance(e, Output) and "Sample" in e.line
                                           for e in events))


@pytest.mark.blender
@pytest.mark.slow
def test_cancelling_job_two_finishes_the_rest_in_a_new_session(
        tmp_path: Path, camera_blends: Callable[[str], Path]) -> None:
    driver = Driver(make_recipe(slow_jobs(camera_blends("CYCLES"), tmp_path)), tmp_path,
                    executor := SessionExecutor(grace=2.0))
    try:
        first_pid, first = driver.run(0)
        assert driver.submit(1) == first_pid
        assert executor.capacity == 0
        rendering(driver, 1)
        assert executor.cancel(1, 2.0) and not executor.cancel(0, 2.0)
        cancelled = driver.exited(1)
        later = [driver.run(job_id) for job_id in (2, 3)]
    finally:
        executor.close()
    assert first.returncode == 0 and cancelled.cancelled and cancelled.returncode != 0
    assert {pid for pid, _ in later} == {later[0][0]} and later[0][0] != first_pid
    assert [exited.returncode for _, exited in later] == [0, 0]
    assert not driver.frames(1) and all(len(driver.frames(job_id)) == 1 for job_id in (0, 2, 3))
    wait_gone(first_pid)


@pytest.mark.blender
@pytest.mark.slow
def test_a_killed_session_fails_only_the_job_it_was_on(
        tmp_path: Path, camera_blends: Callable[[str], Path]) -> None:
    driver = Driver(make_recipe(slow_jobs(camera_blends("CYCLES"), tmp_path)), tmp_path,
                    executor := SessionExecutor())
    try:
        pid, first = driver.run(0)
        driver.submit(1)
        rendering(driver, 1)
        os.kill(pid, signal.SIGKILL)
        crashed = driver.exited(1)
        new_pid, after = driver.run(2)
    finally:
        executor.close()
    assert first.returncode == 0 and after.returncode == 0 and new_pid != pid
    assert crashed.returncode == -signal.SIGKILL and not crashed.cancelled
    assert "session" in crashed.detail
    assert [type(e) for e in driver.events[1]][:2] == [type(driver.events[0][0]), Started]


def test_a_job_for_another_file_ends_the_idle_session(tmp_path: Path, fake_blender: Any) -> None:
    """Without Blender: a stand-in that answers each job line with its markers."""
    blender = fake_blender("""
        print("Blender 9.9 (fake)", flush=True)
        for line in sys.stdin:
            job = json.loads(line)["job"]
            print('RENDERPLUS> {"event": "job_start", "job": %d}' % job, flush=True)
            print("rendering", job, flush=True)
            print('RENDERPLUS> {"event": "job_end", "job": %d, "code": %d}' % (job, job), flush=True)
    """)
    recipe = make_recipe([{"blend_file": str(tmp_path / name), "output": str(tmp_path / "o")}
                          for name in ("a.blend", "a.blend", "b.blend")], blender_bin=blender)
    driver = Driver(recipe, tmp_path, executor := SessionExecutor(grace=1.0))
    try:
        results = []
        for job_id in range(3):
            job = recipe.jobs[job_id]
            workdir = tmp_path / f"w{job_id}"
            workdir.mkdir()
            command = build_command(recipe, job, blender_bin=blender, config_path=str(workdir / "j.json"),
                                    frames=FrameSet.parse("1"))
            launch = JobLaunch(job_id, command, dict(os.environ), str(workdir))
            pid = executor.submit(launch, driver.sink).pid
            assert pid is not None, "a session's handle names its Blender process"
            results.append((pid, driver.exited(job_id).returncode))
    finally:
        executor.close()
    assert [code for _, code in results] == [0, 1, 2]  # the fake exits each job with its id
    assert results[0][0] == results[1][0] != results[2][0]
    assert driver.lines(0) == ["Blender 9.9 (fake)", "rendering 0"]  # start-up lines go to job 0
    assert driver.lines(1) == ["rendering 1"]
    wait_gone(results[0][0])


def wait_gone(pid: int, timeout: float = 15.0) -> None:
    wait_for(lambda: not is_alive(pid), timeout=timeout, interval=0.05)


@pytest.mark.blender
@pytest.mark.slow
def test_animations_and_frame_lists_render_as_with_a_process_per_job(
        tmp_path: Path, camera_blends: Callable[[str], Path]) -> None:
    blend = camera_blends("BLENDER_WORKBENCH")
    outputs: dict[str, list[tuple[str, ...]]] = {}
    for name, executor in (("process", None), ("session", SessionExecutor())):
        batch = Batch(make_recipe([
            {"blend_file": str(blend), "camera": "Cam1", "output": str(tmp_path / name / "anim_"),
             "animated": True, "frame_start": 2, "frame_end": 4},
            {"blend_file": str(blend), "camera": "Cam2", "output": str(tmp_path / name / "list_"),
             "frames": "1,3"},  # two runs: the settings file's render_runs, frame by frame
        ]), executor=executor)
        batch.run()
        view = batch.view()
        assert [job.status for job in view.jobs] == ["FINISHED"] * 2, [j.messages for j in view.jobs]
        outputs[name] = [tuple(Path(p).name for p in job.outputs) for job in view.jobs]
        if name == "session":
            assert batch.handle(0).pid == batch.handle(1).pid  # type: ignore[union-attr]
    assert outputs["session"] == outputs["process"]
    assert outputs["session"] == [("anim_0002.png", "anim_0003.png", "anim_0004.png"),
                                  ("list_0001.png", "list_0003.png")]
    for file in [file for names in outputs["session"] for file in names]:
        assert png_pixels(tmp_path / "session" / file) == png_pixels(tmp_path / "process" / file), file
