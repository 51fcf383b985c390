"""The terminal bars and summary lines, read from the engine's typed ``BatchView``."""

from __future__ import annotations

import calendar
import io
import time
from typing import Any

import pytest

from renderplus.batch.view import BatchStatus, BatchView, JobStatus, JobView, Stats, Times
from renderplus.cli.bars import (
    LiveView,
    bar,
    batch_line,
    batch_lines,
    duration,
    job_line,
    stats_lines,
    summary,
)


def job(job_id: int, status: JobStatus, progress: float = 0.0, **more: Any) -> JobView:
    return JobView(id=job_id, status=status, name=f"shot {job_id}", progress=progress, **more)


def test_bar_and_duration() -> None:
    assert bar(50, width=10) == "[#####.....]"
    assert bar(-3, width=4) == "[....]" and bar(250, width=4) == "[####]"
    assert duration(None) == "--:--" and duration(75) == "01:15" and duration(3725) == "1:02:05"


def test_job_line_shows_frames_eta_and_render_time() -> None:
    running = job(3, JobStatus.RUNNING, 40.0, frames_done=2, frames_total=5, eta=90.0)
    assert job_line(running) == f"   3 shot 3               {bar(40)}  40.0% RUNNING   frames 2/5 ETA 01:30"
    done = job(4, JobStatus.FINISHED, 100.0, times=Times(10.0, 75.0))
    assert job_line(done).endswith("FINISHED  in 01:05")
    long_name = JobView(id=0, status=JobStatus.QUEUED, name="x" * 40)
    assert "x" * 19 + "~" in job_line(long_name)


def test_batch_line_counts_enabled_jobs_and_failures() -> None:
    view = BatchView(status=BatchStatus.RUNNING, progress=50.0, eta=30.0, jobs=(
        job(0, JobStatus.FINISHED, 100), job(1, JobStatus.FAILED, 20), job(2, JobStatus.RUNNING, 30),
        job(3, JobStatus.DISABLED)))
    assert batch_line(view) == f"Batch RUNNING   {bar(50)}  50.0%  2/3 jobs, 1 failed  ETA 00:30"


def test_batch_lines_show_a_window_around_the_current_job() -> None:
    jobs = tuple(job(i, JobStatus.QUEUED) for i in range(50))
    lines = batch_lines(BatchView(status=BatchStatus.RUNNING, jobs=jobs, current_job=30), max_jobs=10)
    assert lines[1] == "     ... 25 jobs above" and lines[-1] == "     ... 15 jobs below"
    assert lines[2].startswith("  25 ") and len(lines) == 13


def test_summary_and_stats_from_a_poll_read_back_over_http() -> None:
    ended = BatchView(status=BatchStatus.FINISHED, times=Times(0.0, 125.0), messages=("POWEROFF called off",),
                      stats=Stats(1, 100.0, 0, 20.0, 60.0),
                      jobs=(job(0, JobStatus.FINISHED, 100, times=Times(0.0, 20.0)),
                            job(1, JobStatus.FAILED, 10, messages=("Camera 'X' not found", "exit code 1"))))
    view = BatchView.from_json(ended.to_json())  # what --poll reads
    assert summary(view) == ["Batch FINISHED in 02:05: 1 failed, 1 finished",
                             "  job 1 failed: Camera 'X' not found; exit code 1", "  POWEROFF called off"]
    stats = stats_lines(view)
    assert stats[0] == "BATCH STATS" and "Total time:   02:05" in stats
    assert "Average job:  01:00" in stats and "Fastest job:  0 (00:20)" in stats
    assert stats_lines(BatchView(status=BatchStatus.CANCELLED))[-1] == "No job finished: no averages"


def test_a_pipe_gets_only_changes_worth_a_line() -> None:
    stream = io.StringIO()
    live = LiveView(stream, interactive=False)
    queued = BatchView(status=BatchStatus.RUNNING,
                       jobs=(job(0, JobStatus.QUEUED), job(1, JobStatus.DISABLED)))
    live.show_batch(queued)
    live.show_batch(queued)
    assert stream.getvalue().splitlines() == [batch_line(queued)]
    running = BatchView(status=BatchStatus.RUNNING, progress=4.0,
                        jobs=(job(0, JobStatus.RUNNING, 4.0), job(1, JobStatus.DISABLED)))
    live.show_batch(running)
    live.show_batch(BatchView(status=BatchStatus.RUNNING, progress=6.0,
                              jobs=(job(0, JobStatus.RUNNING, 6.0), job(1, JobStatus.DISABLED))))
    assert stream.getvalue().splitlines()[1:] == [job_line(running.jobs[0])]  # same decile: quiet
    live.show_batch(BatchView(status=BatchStatus.RUNNING, progress=12.0,
                              jobs=(job(0, JobStatus.RUNNING, 12.0), job(1, JobStatus.DISABLED))))
    assert stream.getvalue().splitlines()[-1].startswith("Batch RUNNING") and " 12.0%" in stream.getvalue()


def test_a_terminal_gets_the_block_redrawn_in_place() -> None:
    stream = io.StringIO()
    live = LiveView(stream, interactive=True)
    view = BatchView(status=BatchStatus.RUNNING, jobs=(job(0, JobStatus.RUNNING, 10.0),))
    live.show_batch(view)
    first = stream.getvalue()
    assert first.count("\x1b[K\n") == 2 and "\x1b[2F" not in first
    live.show_batch(view)
    assert stream.getvalue()[len(first):].startswith("\x1b[2F")  # back up over the two lines
    live.message("Interrupted")
    live.show_job(view.jobs[0])
    assert not stream.getvalue().endswith("\x1b[J") and "Interrupted\n" in stream.getvalue()


def test_a_waiting_or_window_paused_batch_says_when_and_a_queued_job_its_estimate(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        night = float(calendar.timegm((2026, 12, 4, 22, 0, 0)))   # a Friday
        assert batch_line(BatchView(BatchStatus.WAITING, starts_at=night)).endswith(
            "starts at Fri 22:00")
        assert batch_line(BatchView(BatchStatus.PAUSED, continues_at=night)).endswith(
            "continues at Fri 22:00")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    queued = JobView(0, JobStatus.QUEUED, "shot", eta=125.0, eta_runs=3, frames_total=10)
    assert job_line(queued).endswith("ETA 02:05 (3 similar runs)")
    assert "ETA" not in job_line(JobView(1, JobStatus.QUEUED, "new", frames_total=2))
