"""Progress on a terminal: a bar for the batch and one per job, redrawn in place.

Used by the foreground run (``--recipe``) and by ``--poll`` / ``--poll-job``, all from the same
read model (``BatchView`` / ``JobView``; over HTTP, ``BatchView.from_json`` of the poll). On a
terminal the block is redrawn in place (a few ANSI codes that every terminal since the VT100
knows); when output goes to a file or a pipe, only changes worth a line are printed (a job
changing state, the batch passing each 10 %), so logs stay readable. Bars are plain ASCII: a
console with a narrow encoding must never crash the run.
"""

from __future__ import annotations

import shutil
import time
from typing import TextIO

from ..batch.view import BatchStatus, BatchView, JobStatus, JobView

BAR_WIDTH = 24


def bar(percent: float, width: int = BAR_WIDTH) -> str:
    percent = min(max(float(percent or 0), 0.0), 100.0)
    filled = round(width * percent / 100.0)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def duration(seconds: float | None) -> str:
    """``75`` -> ``01:15``; ``3725`` -> ``1:02:05``; None -> ``--:--``."""
    if seconds is None:
        return "--:--"
    seconds = round(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def job_finished_polling(job: JobView) -> bool:
    """Nothing more will happen to this job: ended, or disabled (never runs)."""
    return job.status.ended or job.status is JobStatus.DISABLED


def job_line(job: JobView, name_width: int = 20) -> str:
    name = job.name or f"Job {job.id}"
    if len(name) > name_width:
        name = name[:name_width - 1] + "~"
    status = job.status.value
    line = f"{job.id:>4} {name:<{name_width}} {bar(job.progress)} {job.progress:5.1f}% {status:<9}"
    if job.frames_total:
        line += f" frames {job.frames_done}/{job.frames_total}"
    if job.status is JobStatus.RUNNING or (job.status is JobStatus.QUEUED and job.eta is not None):
        line += f" ETA {duration(job.eta)}"
        if job.eta_runs:
            line += f" ({job.eta_runs} similar run{'s' if job.eta_runs != 1 else ''})"
    rendertime = job.times.rendertime
    if job.status in (JobStatus.FINISHED, JobStatus.FAILED) and rendertime is not None:
        line += f" in {duration(rendertime)}"
    return line


def batch_line(view: BatchView) -> str:
    enabled = view.enabled_jobs
    done = sum(1 for job in enabled if job.status.ended)
    line = (f"Batch {view.status.value:<9} {bar(view.progress)} {view.progress:5.1f}%  "
            f"{done}/{len(enabled)} jobs")
    if view.failed:
        line += f", {view.failed} failed"
    if view.status is BatchStatus.RUNNING:
        line += f"  ETA {duration(view.eta)}"
    if view.starts_at is not None:
        line += f"  starts at {time.strftime('%a %H:%M', time.localtime(view.starts_at))}"
    if view.continues_at is not None:
        line += f"  continues at {time.strftime('%a %H:%M', time.localtime(view.continues_at))}"
    return line


def batch_lines(view: BatchView, max_jobs: int = 20) -> list[str]:
    """The batch line, then the jobs around the current one when there are more than fit."""
    jobs = view.jobs
    lines = [batch_line(view)]
    if len(jobs) <= max_jobs:
        return lines + [job_line(job) for job in jobs]
    centre = view.current_job if view.current_job is not None else 0
    start = max(0, min(centre - max_jobs // 2, len(jobs) - max_jobs))
    shown = jobs[start:start + max_jobs]
    if start:
        lines.append(f"     ... {start} jobs above")
    lines.extend(job_line(job) for job in shown)
    below = len(jobs) - start - len(shown)
    if below:
        lines.append(f"     ... {below} jobs below")
    return lines


def summary(view: BatchView) -> list[str]:
    """How the batch ended, and why each failed job failed."""
    counts: dict[str, int] = {}
    for job in view.jobs:
        counts[job.status.value] = counts.get(job.status.value, 0) + 1
    parts = ", ".join(f"{count} {status.lower()}" for status, count in sorted(counts.items()))
    lines = [f"Batch {view.status.value} in {duration(view.times.rendertime)}: {parts or 'no jobs'}"]
    for job in view.jobs:
        if job.status is JobStatus.FAILED:
            lines.append(f"  job {job.id} failed: {'; '.join(job.messages) or 'no message'}")
    lines.extend(f"  {message}" for message in view.messages)
    return lines


def stats_lines(view: BatchView) -> list[str]:
    """``--print-stats``: each job's render time, then the batch's stats (the poll's ``stats``)."""
    lines = ["BATCH STATS", "-" * 80]
    for job in view.jobs:
        rendertime = job.times.rendertime
        lines.append(f"{job.id:>4} {job.name:<30} {job.status.value:<9} "
                     f"{duration(rendertime) if rendertime is not None else '-'}")
    stats = view.stats
    lines.append("-" * 80)
    lines.append(f"Total time:   {duration(view.times.rendertime)}")
    if stats.average_time is not None:
        lines.append(f"Average job:  {duration(stats.average_time)}")
        lines.append(f"Fastest job:  {stats.fastest_index} ({duration(stats.fastest_time)})")
        lines.append(f"Slowest job:  {stats.slowest_index} ({duration(stats.slowest_time)})")
    else:
        lines.append("No job finished: no averages")
    return lines


def final_text(view: BatchView, print_stats: bool) -> str:
    """What every mode prints when a batch has ended: the summary, then the stats if asked."""
    return "".join(line + "\n" for line in summary(view) + (stats_lines(view) if print_stats else []))


class LiveView:
    """Shows successive views on ``stream``: redrawn in place on a terminal, else changes only."""

    def __init__(self, stream: TextIO, *, interactive: bool | None = None) -> None:
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        self._drawn = 0
        self._job_states: dict[int, JobStatus] = {}
        self._job_shown: tuple[JobStatus, int] | None = None
        self._decile = -1
        self._status: BatchStatus | None = None

    def show_batch(self, view: BatchView) -> None:
        if self.interactive:
            rows = shutil.get_terminal_size((100, 30)).lines
            self._redraw(batch_lines(view, max_jobs=max(3, rows - 4)))
            return
        out: list[str] = []
        if view.status is not self._status:
            self._status = view.status
            out.append(batch_line(view))
        for job in view.jobs:
            if self._job_states.get(job.id) is not job.status:
                seen = job.id in self._job_states
                if seen or job.status not in (JobStatus.QUEUED, JobStatus.DISABLED):
                    out.append(job_line(job))
                self._job_states[job.id] = job.status
        decile = int(view.progress // 10)
        if decile != self._decile:
            if self._decile >= 0 and not out:
                out.append(batch_line(view))
            self._decile = decile
        self._write(out)

    def show_job(self, job: JobView) -> None:
        if self.interactive:
            self._redraw([job_line(job)])
            return
        key = (job.status, int(job.progress // 10))
        if self._job_shown != key:
            self._job_shown = key
            self._write([job_line(job)])

    def message(self, text: str) -> None:
        """A line that stays (not overwritten by the next redraw)."""
        self._drawn = 0
        self.stream.write(text + "\n")
        self.stream.flush()

    def _redraw(self, lines: list[str]) -> None:
        width = shutil.get_terminal_size((100, 30)).columns
        text = ""
        if self._drawn:
            text += f"\x1b[{self._drawn}F"  # to the first column, that many lines up
        text += "".join(line[:width - 1] + "\x1b[K\n" for line in lines)
        if self._drawn > len(lines):
            text += "\x1b[J"  # clear what the longer previous block left below
        self._drawn = len(lines)
        self.stream.write(text)
        self.stream.flush()

    def _write(self, lines: list[str]) -> None:
        if lines:
            self.stream.write("".join(line + "\n" for line in lines))
            self.stream.flush()
