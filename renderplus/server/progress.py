"""Progress on a terminal: a bar for the batch and one per job, redrawn in place.

Used by the foreground run (``--recipe``) and by ``--poll`` / ``--poll-job``, all from the
same poll snapshot. On a terminal the block is redrawn in place (a few ANSI codes that every
terminal since the VT100 knows); when output goes to a file or a pipe, only changes worth a
line are printed (a job changing state, the batch passing each 10 %), so logs stay readable.
Bars are plain ASCII: a console with a narrow encoding must never crash the run.
"""

from __future__ import annotations

import shutil
from typing import Any, TextIO

BAR_WIDTH = 24
ENDED = ("FINISHED", "CANCELLED")
JOB_ENDED = ("FINISHED", "FAILED", "CANCELLED", "DISABLED")


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


def job_line(job: dict[str, Any], name_width: int = 20) -> str:
    name = str(job.get("name") or f"Job {job.get('id')}")
    if len(name) > name_width:
        name = name[:name_width - 1] + "~"
    status = str(job.get("status", "?"))
    line = f"{job.get('id', '?')!s:>4} {name:<{name_width}} {bar(job.get('progress', 0))} " \
           f"{float(job.get('progress') or 0):5.1f}% {status:<9}"
    total = job.get("frames_total")
    if total:
        line += f" frames {job.get('frames_done', 0)}/{total}"
    if status == "RUNNING":
        line += f" ETA {duration(job.get('eta'))}"
    times = job.get("times") or {}
    if status in ("FINISHED", "FAILED") and times.get("rendertime") is not None:
        line += f" in {duration(times['rendertime'])}"
    return line


def batch_line(snapshot: dict[str, Any]) -> str:
    jobs = snapshot.get("jobs") or []
    enabled = [j for j in jobs if j.get("status") != "DISABLED"]
    done = sum(1 for j in enabled if j.get("status") in JOB_ENDED)
    progress = float(snapshot.get("progress") or 0)
    line = (f"Batch {snapshot.get('status', '?'):<9} {bar(progress)} {progress:5.1f}%  "
            f"{done}/{len(enabled)} jobs")
    failed = snapshot.get("failed") or 0
    if failed:
        line += f", {failed} failed"
    if snapshot.get("status") == "RUNNING":
        line += f"  ETA {duration(snapshot.get('eta'))}"
    return line


def batch_lines(snapshot: dict[str, Any], max_jobs: int = 20) -> list[str]:
    """The batch line, then the jobs around the current one when there are more than fit."""
    jobs = list(snapshot.get("jobs") or [])
    lines = [batch_line(snapshot)]
    if len(jobs) > max_jobs:
        current = snapshot.get("current_job")
        centre = current if isinstance(current, int) else 0
        start = max(0, min(centre - max_jobs // 2, len(jobs) - max_jobs))
        shown = jobs[start:start + max_jobs]
        if start:
            lines.append(f"     ... {start} jobs above")
        lines.extend(job_line(job) for job in shown)
        below = len(jobs) - start - len(shown)
        if below:
            lines.append(f"     ... {below} jobs below")
        return lines
    lines.extend(job_line(job) for job in jobs)
    return lines


def summary(snapshot: dict[str, Any]) -> list[str]:
    """How the batch ended, and why each failed job failed."""
    jobs = snapshot.get("jobs") or []
    counts: dict[str, int] = {}
    for job in jobs:
        counts[str(job.get("status"))] = counts.get(str(job.get("status")), 0) + 1
    times = snapshot.get("times") or {}
    parts = ", ".join(f"{count} {status.lower()}" for status, count in sorted(counts.items()))
    lines = [f"Batch {snapshot.get('status')} in {duration(times.get('rendertime'))}: {parts or 'no jobs'}"]
    for job in jobs:
        if job.get("status") == "FAILED":
            reason = "; ".join(job.get("messages") or []) or "no message"
            lines.append(f"  job {job.get('id')} failed: {reason}")
    lines.extend(f"  {message}" for message in snapshot.get("messages") or [])
    return lines


def stats_lines(snapshot: dict[str, Any]) -> list[str]:
    """``--print-stats``: each job's render time, then the spec's batch stats."""
    lines = ["BATCH STATS", "-" * 80]
    for job in snapshot.get("jobs") or []:
        rendertime = (job.get("times") or {}).get("rendertime")
        lines.append(f"{job.get('id')!s:>4} {job.get('name') or ''!s:<30} {job.get('status')!s:<9} "
                     f"{duration(rendertime) if rendertime is not None else '-'}")
    stats = snapshot.get("stats") or {}
    times = snapshot.get("times") or {}
    lines.append("-" * 80)
    lines.append(f"Total time:   {duration(times.get('rendertime'))}")
    if stats.get("average_time") is not None:
        lines.append(f"Average job:  {duration(stats['average_time'])}")
        lines.append(f"Fastest job:  {stats.get('fastest_index')} ({duration(stats.get('fastest_time'))})")
        lines.append(f"Slowest job:  {stats.get('slowest_index')} ({duration(stats.get('slowest_time'))})")
    else:
        lines.append("No job finished: no averages")
    return lines


class LiveView:
    """Shows successive snapshots on ``stream``: redrawn in place on a terminal."""

    def __init__(self, stream: TextIO, *, interactive: bool | None = None) -> None:
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        self._drawn = 0
        self._job_states: dict[Any, str] = {}
        self._decile = -1
        self._status: str | None = None

    def show_batch(self, snapshot: dict[str, Any]) -> None:
        if self.interactive:
            rows = shutil.get_terminal_size((100, 30)).lines
            self._redraw(batch_lines(snapshot, max_jobs=max(3, rows - 4)))
            return
        out: list[str] = []
        if snapshot.get("status") != self._status:
            self._status = snapshot.get("status")
            out.append(batch_line(snapshot))
        for job in snapshot.get("jobs") or []:
            key, status = job.get("id"), str(job.get("status"))
            if self._job_states.get(key) != status:
                if key in self._job_states or status not in ("QUEUED", "DISABLED"):
                    out.append(job_line(job))
                self._job_states[key] = status
        decile = int(float(snapshot.get("progress") or 0) // 10)
        if decile != self._decile:
            if self._decile >= 0 and not out:
                out.append(batch_line(snapshot))
            self._decile = decile
        self._write(out)

    def show_job(self, job: dict[str, Any]) -> None:
        if self.interactive:
            self._redraw([job_line(job)])
            return
        key = (job.get("status"), int(float(job.get("progress") or 0) // 10))
        if self._job_states.get("job") != str(key):
            self._job_states["job"] = str(key)
            self._write([job_line(job)])

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

    def message(self, text: str) -> None:
        """A line that stays (not overwritten by the next redraw)."""
        self._drawn = 0
        self.stream.write(text + "\n")
        self.stream.flush()
