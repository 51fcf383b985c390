"""run_io without Blender: a BatchView written into stand-ins for the run-state properties,
each job row rewritten only when its view changed."""

from __future__ import annotations

import itertools
import time
from dataclasses import replace
from typing import Any

import pytest

from renderplus.addon import run_io
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.view import BatchStatus, BatchView, JobStatus, JobView, PowerOffState, Stats, Times


class Row:
    """Stands in for a PropertyGroup: records every attribute written."""

    def __init__(self) -> None:
        object.__setattr__(self, "writes", [])

    def __setattr__(self, key: str, value: Any) -> None:
        self.writes.append(key)
        object.__setattr__(self, key, value)

    def __getattr__(self, key: str) -> Any:  # only for attributes never written: typed as Any
        raise AttributeError(key)


class Rows(list[Row]):
    """Stands in for a CollectionProperty."""

    def add(self) -> Row:
        self.append(Row())
        return self[-1]


class Run(Row):
    def __init__(self) -> None:
        super().__init__()
        object.__setattr__(self, "jobs", Rows())


def run_props() -> Any:
    """A stand-in ``RenderPlusRun`` (typed Any: it is duck-typed like the real one)."""
    return Run()


def recipe(count: int = 3) -> Any:
    return parse_recipe({"version": 2.2, "name": "shots", "jobs": [
        {"id": i, "name": f"shot {i}", "blend_file": "/tmp/a.blend", "frame_still": 1,
         "enabled": i != 2} for i in range(count)]})


def job(job_id: int, status: JobStatus = JobStatus.QUEUED, **changes: Any) -> JobView:
    return JobView(id=job_id, status=status, name=f"shot {job_id}", **changes)


def view(jobs: tuple[JobView, ...], **changes: Any) -> BatchView:
    return BatchView(status=changes.pop("status", BatchStatus.RUNNING), jobs=jobs, name="shots", **changes)


@pytest.fixture
def mirrored() -> tuple[run_io.RunMirror, Any]:
    mirror, run = run_io.RunMirror(), run_props()
    mirror.reset(run, recipe(), scene="Scene", uids=[11, 12, 13], copy_path="/copies/a.blend")
    return mirror, run


def test_reset_makes_one_row_per_job_linked_by_uid(mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    assert [(r.name, r.uid, r.job_id) for r in run.jobs] == [("shot 0", 11, 0), ("shot 1", 12, 1),
                                                            ("shot 2", 13, 2)]
    assert (run.scene, run.copy_path, run.batch_name) == ("Scene", "/copies/a.blend", "shots")
    assert mirror.index_of("Scene", 12) == 1
    assert mirror.index_of("Other scene", 12) is None and mirror.index_of("Scene", 99) is None


def test_a_batch_without_uids_links_no_scene_job() -> None:
    mirror, run = run_io.RunMirror(), run_props()
    mirror.reset(run, recipe(), uids=[1])  # wrong length: ignored
    assert [r.uid for r in run.jobs] == [0, 0, 0] and mirror.index_of("", 1) is None


def test_write_copies_typed_attributes(mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    start = time.time() - 10
    running = job(1, JobStatus.RUNNING, times=Times(start), progress=42.5, eta=12.0,
                  engine_type="CYCLES", engine_data={"frame": "3", "samples_done": "8", "samples_todo": "64"},
                  frames_done=2, frames_total=5, messages=("one", "two"))
    done = job(0, JobStatus.FINISHED, times=Times(start, start + 4), progress=100.0)
    mirror.write(run, view((done, running, job(2, JobStatus.DISABLED)), current_job=1, progress=71.25,
                           eta=30.5, times=Times(start), revision=7))
    assert (run.status, run.progress_value, run.current_job, run.eta, run.revision) == (
        "RUNNING", 71.25, 1, 30.5, 7)
    assert run.started == run_io.clock(start) and run.finished == "" and run.rendertime == -1.0
    row = run.jobs[1]
    assert (row.status, row.progress_value, row.eta, row.frames_done, row.frames_total) == (
        "RUNNING", 42.5, 12.0, 2, 5)
    assert (row.engine_type, row.detail, row.messages) == ("CYCLES", "Frame 3 | Sample 8/64", "one\ntwo")
    assert run.jobs[0].rendertime == pytest.approx(4.0) and run.jobs[0].finished
    assert run.jobs[2].status == "DISABLED"


def test_unchanged_jobs_are_not_rewritten(mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    jobs = (job(0, JobStatus.FINISHED), job(1, JobStatus.RUNNING, progress=10.0), job(2, JobStatus.DISABLED))
    assert mirror.write(run, view(jobs, revision=1)) == 3
    for row in run.jobs:
        row.writes.clear()
    moved = (jobs[0], replace(jobs[1], progress=20.0), jobs[2])  # the runner reuses unchanged views
    assert mirror.write(run, view(moved, revision=2)) == 1
    assert [bool(row.writes) for row in run.jobs] == [False, True, False]
    assert run.jobs[1].progress_value == 20.0
    equal = tuple(replace(j) for j in moved)  # equal but not the same objects: still skipped
    assert mirror.write(run, view(equal, revision=3)) == 0


def test_milestones_count_status_changes_not_progress(mirrored: tuple[run_io.RunMirror, Any]) -> None:
    # The pump redraws the sidebar at once for a milestone, and for progress at most once a second.
    mirror, run = mirrored
    jobs = (job(0, JobStatus.RUNNING, progress=1.0), job(1), job(2, JobStatus.DISABLED))
    mirror.write(run, view(jobs, revision=1))
    start = mirror.milestones
    mirror.write(run, view((replace(jobs[0], progress=50.0, eta=3.0), *jobs[1:]), progress=25.0,
                           revision=2))
    assert mirror.milestones == start  # only progress moved
    moved = (replace(jobs[0], status=JobStatus.FINISHED), replace(jobs[1], status=JobStatus.RUNNING), jobs[2])
    mirror.write(run, view(moved, progress=50.0, revision=3))
    assert mirror.milestones == start + 2  # two jobs changed status
    mirror.write(run, view(jobs, status=BatchStatus.FINISHED, revision=4))
    assert mirror.milestones > start + 2  # the batch's status
    before_reset = mirror.milestones
    mirror.reset(run, recipe())
    assert mirror.milestones == before_reset + 1  # a new batch


def test_the_batch_row_is_rewritten_only_when_it_changed(mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    jobs = (job(0), job(1), job(2, JobStatus.DISABLED))
    mirror.write(run, view(jobs, revision=1))
    run.writes.clear()
    mirror.write(run, view(jobs, revision=2))
    assert run.writes == ["revision"]


def test_finished_batch_stats_and_power_action(mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    at = time.time() + 60
    stats = Stats(slowest_index=1, slowest_time=9.0, fastest_index=0, fastest_time=3.0, average_time=6.0)
    jobs = (job(0, JobStatus.FINISHED), job(1, JobStatus.FAILED), job(2, JobStatus.DISABLED))
    mirror.write(run, view(jobs, status=BatchStatus.FINISHED, stats=stats, messages=("1 of 2 jobs failed",),
                           poweroff=PowerOffState("SHUTDOWN", at)))
    assert (run.status, run.failed, run.current_job, run.eta) == ("FINISHED", 1, -1, -1.0)
    assert (run.fastest_index, run.fastest_time, run.slowest_index, run.slowest_time, run.average_time) == (
        0, 3.0, 1, 9.0, 6.0)
    assert run.poweroff == f"SHUTDOWN at {run_io.clock(at)}"
    assert run.messages == "1 of 2 jobs failed"


def test_a_real_batch_view_goes_through() -> None:
    from renderplus.batch.runner import Batch

    mirror, run = run_io.RunMirror(), run_props()
    batch = Batch(recipe())
    mirror.reset(run, batch.recipe)
    mirror.write(run, batch.view())
    assert run.status == "WAITING" and [r.status for r in run.jobs] == ["QUEUED", "QUEUED", "DISABLED"]


@pytest.mark.parametrize(("data", "line"), [
    (None, ""),
    ({"frame": "4"}, "Frame 4"),
    ({"samples_done": "3", "samples_todo": "16"}, "Sample 3/16"),
    ({"elapsed": "00:02.50"}, "00:02.50 elapsed"),
    ({"frame": "4", "elapsed": "00:02.50"}, "Frame 4"),
])
def test_engine_detail(data: dict[str, str] | None, line: str) -> None:
    assert run_io.engine_detail(data) == line


# -------------------------------------------------------------------------- issue 13


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_eta_says_estimating_until_it_means_something_then_never_jumps() -> None:
    clock = FakeClock()
    smoother = run_io.EtaSmoother(clock)
    started = clock.now
    clock.now += 1.0
    assert smoother.update(3.0, 0.5, started) is None  # EEVEE compiling shaders: 0.5 %, 1 s
    clock.now += 5.0
    assert smoother.update(512.0, 1.0, started) is None  # still under 2 %
    shown = []
    for raw in (40.0, 512.0, 8.0, 36.0, 30.0):  # the engine's estimate jumps about
        clock.now += 2.0
        eta = smoother.update(raw, 10.0, started)
        assert eta is not None
        shown.append(eta)
    steps = [abs(b - a) for a, b in itertools.pairwise(shown)]
    assert shown[0] == 40.0
    assert max(steps) <= 0.5 * max(shown) + 4.0  # no 8 s -> 512 s -> 8 s leaps
    assert max(shown) < 200  # one wild estimate (512 s) moves it only part of the way
    assert smoother.update(None, 10.0, started) is None


def test_a_steady_eta_counts_down_with_the_clock() -> None:
    clock = FakeClock()
    smoother = run_io.EtaSmoother(clock)
    started = clock.now - 10
    assert smoother.update(100.0, 20.0, started) == 100.0
    clock.now += 10
    assert smoother.update(90.0, 30.0, started) == pytest.approx(90.0)


def test_the_batch_eta_is_smoothed_and_unknown_while_estimating(
        mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    now = time.time()
    mirror.write(run, view((job(0, JobStatus.RUNNING, progress=0.5),), eta=3.0, progress=0.5,
                           times=Times(started=now - 1)))
    assert run.eta == run_io.UNKNOWN  # the panel says "Estimating time left..."
    mirror.write(run, view((job(0, JobStatus.RUNNING, progress=20.0),), eta=60.0, progress=20.0,
                           times=Times(started=now - 30), revision=2))
    assert run.eta == pytest.approx(60.0, abs=1.0)


def test_parallel_jobs_and_the_frames_a_job_wrote_are_mirrored(
        mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    outputs = ("/renders/a_0001.png", "/renders/a_0002.png", "/renders/a_0003.png")
    jobs = (job(0, JobStatus.RUNNING, outputs=outputs), job(1, JobStatus.RUNNING), job(2, JobStatus.DISABLED))
    mirror.write(run, view(jobs, running_jobs=(0, 1), current_job=1))
    assert run.running_jobs == "0,1"
    first = run.jobs[0]
    assert (first.output_count, first.first_output, first.last_output, first.output_folder) == (
        3, "/renders/a_0001.png", "/renders/a_0003.png", "/renders")
    assert run.jobs[1].output_count == 0 and run.jobs[1].last_output == ""


def test_an_eta_from_similar_runs_shows_from_the_start_with_its_run_count(
        mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    now = time.time()
    mirror.write(run, view((job(0, JobStatus.RUNNING, progress=0.0, eta=120.0, eta_runs=3,
                                times=Times(started=now)),
                            job(1, eta=60.0, eta_runs=2)),
                           eta=180.0, progress=0.0, times=Times(started=now)))
    assert run.eta == pytest.approx(180.0, abs=1.0)   # not "estimating": history says so at once
    assert run.jobs[0].eta == pytest.approx(120.0, abs=1.0) and run.jobs[0].eta_runs == 3
    assert run.jobs[1].eta == 60.0 and run.jobs[1].eta_runs == 2   # a queued job's estimate
    mirror.write(run, view((job(0, JobStatus.RUNNING, progress=50.0, eta=60.0,
                                times=Times(started=now)),), revision=2))
    assert run.jobs[0].eta_runs == -1   # its own frames are the ground now


def test_a_waiting_batch_says_when_it_starts_and_a_window_pause_when_it_continues(
        mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    starts = time.time() + 3600
    mirror.write(run, view((job(0),), status=BatchStatus.WAITING, starts_at=starts))
    assert run.status == "WAITING" and run.starts_at == time.strftime("%H:%M", time.localtime(starts))
    assert run.continues_at == ""
    later = time.time() + 3 * 86_400
    mirror.write(run, view((job(0),), status=BatchStatus.PAUSED, continues_at=later, revision=3))
    assert run.starts_at == ""
    assert run.continues_at == time.strftime("%Y-%m-%d %H:%M", time.localtime(later))  # not today


def test_the_blender_a_job_renders_with_is_said_once_chosen(mirrored: tuple[run_io.RunMirror, Any]) -> None:
    mirror, run = mirrored
    mirror.write(run, view((job(0),)))
    assert run.jobs[0].blender == ""
    chosen = {"path": "/opt/blender-5.2/blender", "version": "5.2.2"}
    mirror.write(run, view((job(0, JobStatus.RUNNING, blender=chosen),), revision=2))
    assert run.jobs[0].blender == "Blender 5.2.2 (/opt/blender-5.2/blender)"
    assert run_io.blender_said({"path": "/usr/bin/blender", "version": None}) == \
        "Blender at /usr/bin/blender"


def test_a_jobs_movie_is_mirrored_from_waiting_to_made(mirrored: tuple[run_io.RunMirror, Any]) -> None:
    from renderplus.batch.encode.movie_state import MovieStatus, waiting_movie

    mirror, run = mirrored
    mirror.write(run, view((job(0),)))
    row = run.jobs[0]
    assert (row.movie_status, row.movie_path, row.movie_seconds) == ("", "", run_io.UNKNOWN)
    waiting = waiting_movie("h264")
    mirror.write(run, view((job(0, JobStatus.RUNNING, movie=waiting.to_json()),), revision=2))
    assert (row.movie_status, row.movie_label, row.movie_progress) == ("WAITING", "H.264 MP4", 0.0)
    encoding = waiting.on_marker({"event": "encode_progress", "done": 45, "total": 100}, converts=False)
    mirror.write(run, view((job(0, JobStatus.RUNNING, movie=encoding.to_json()),), revision=3))
    assert (row.movie_status, row.movie_progress) == ("ENCODING", 45.0)
    made = encoding.on_marker({"event": "movie", "path": "/r/shot.mp4", "frames": 100, "fps": 24.0,
                               "seconds": 4.2, "sound": True}, converts=False)
    assert made.status is MovieStatus.DONE
    mirror.write(run, view((job(0, JobStatus.FINISHED, movie=made.to_json()),), revision=4))
    assert (row.movie_status, row.movie_path, row.movie_seconds) == ("DONE", "/r/shot.mp4", 4.2)
    failed = encoding.on_marker({"event": "encode_failed", "message": "no FFmpeg"}, converts=False)
    mirror.write(run, view((job(0, JobStatus.FINISHED, movie=failed.to_json()),), revision=5))
    assert (row.movie_status, row.movie_message) == ("FAILED", "no FFmpeg")


def test_the_failed_jobs_are_said_once_in_the_results_box() -> None:
    messages = "Render+ 2.0\n1 of 4 jobs failed\nThe mail could not be sent"
    assert run_io.failures_line(messages, 1, 4) == (
        "1 of 4 jobs failed", "Render+ 2.0\nThe mail could not be sent")
    assert run_io.failures_line("", 1, 1) == ("1 of 1 job failed", "")
    assert run_io.failures_line(messages, 0, 4) == ("", messages)


def test_a_finished_batch_is_all_done_though_a_job_failed(mirrored: tuple[run_io.RunMirror, Any]) -> None:
    # the view's progress is the mean over enabled jobs: a failed one stays 0 %, so 3 of 4 = 75 %
    mirror, run = mirrored
    jobs = (job(0, JobStatus.FINISHED, progress=100.0), job(1, JobStatus.FAILED), job(2, JobStatus.DISABLED))
    mirror.write(run, view(jobs, status=BatchStatus.FINISHED, progress=50.0, revision=1))
    assert run.progress_value == 100.0
    mirror.write(run, view(jobs, status=BatchStatus.CANCELLED, progress=50.0, revision=2))
    assert run.progress_value == 50.0  # a cancelled one says how far it got


def test_the_results_title_says_a_time_only_where_there_is_one() -> None:
    assert run_io.results_title("FINISHED", "14:03:59", 185.0) == "Finished at 14:03:59 in 3 min 05 s"
    assert run_io.results_title("CANCELLED", "", -1.0) == "Cancelled"  # never "Cancelled at "
    assert run_io.results_title("CANCELLED", "09:00:00", -1.0) == "Cancelled at 09:00:00"


def test_a_resumed_batchs_jobs_are_linked_to_the_scenes_by_name() -> None:
    scene = [("Cam Left", 11), ("Cam Top", 12), ("Cam Left", 13), ("Intro", 14)]
    assert run_io.link_by_names(["Cam Top", "Cam Left", "Cam Left", "Gone"], scene) == [12, 11, 13, 0]
    assert run_io.link_by_names(["Gone"], scene) == []  # nothing matched: the batch stays unlinked
