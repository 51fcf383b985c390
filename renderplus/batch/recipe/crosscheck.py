"""Checks that span several fields of one record, run after its fields were read.

Each takes ``(check, record, raw data, path)``; ``AFTER`` maps a record class to its check.
``check_after`` spans the jobs: the ids their ``after`` keys name (the jobs they wait for).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .checker import Checker
from .datapath import data_path_problem
from .errors import show
from .model import (
    CustomOverride,
    Hook,
    Job,
    MailSettings,
    RssSettings,
    Section,
    SoundSettings,
    WebhookSettings,
)


def _job(check: Checker, job: Job, data: Mapping[str, Any], path: str) -> None:
    if "frame_end" not in data:
        job.frame_end = job.frame_start
    if job.frame_end < job.frame_start:
        check.error(f"{path}.frame_end", f"must be >= frame_start (got {job.frame_end} < {job.frame_start})")
    source_key = "filename" if job.external else "blend_file"
    if not job.source_file and data.get(source_key, "") == "":  # (a wrong type is reported already)
        why = "external is true" if job.external else "external is false"
        check.error(f"{path}.{source_key}", f"is required ({why}): the .blend file to render")
    if job.encode is not None:
        _encode(check, job, f"{path}.encode")


MOVIE_EXTENSIONS = {"h264": ".mp4", "prores": ".mov", "ffv1": ".mkv", "webm": ".webm"}  # encode.formats
MOVIE_WRITERS = ("FFMPEG", "AVIJPEG", "AVIRAW", "AVI_JPEG", "AVI_RAW", "MPEG")


def _encode(check: Checker, job: Job, path: str) -> None:
    """A movie is made from several frames that are image files."""
    if len(job.frames) < 2:
        check.error(path, "needs an animation: this job renders one frame (set animated, or frames)")
    if job.format.upper() in MOVIE_WRITERS:
        check.error(path, f"the job writes a movie already (format {job.format}): encode makes "
                          "a movie from image frames; choose an image format such as PNG or OPEN_EXR")
    assert job.encode is not None
    extension = os.path.splitext(job.encode.output.rstrip("/\\"))[1].lower()
    wanted = MOVIE_EXTENSIONS.get(job.encode.format)
    if job.encode.output and not job.encode.output.endswith(("/", "\\")) and extension \
            and extension in MOVIE_EXTENSIONS.values() and extension != wanted:
        check.error(f"{path}.output", f"ends in {extension}, but format {job.encode.format} "
                                      f"writes {wanted} files")


def _section(check: Checker, section: Section, data: Mapping[str, Any], path: str) -> None:
    if not section.enabled:
        return
    if section.width <= 0 or section.height <= 0:
        check.error(path, "width and height must be > 0 when the section is enabled")
    if section.x + section.width > 1.0 + 1e-9:
        check.error(path, f"x + width must be <= 1 (got {section.x + section.width:g})")
    if section.y + section.height > 1.0 + 1e-9:
        check.error(path, f"y + height must be <= 1 (got {section.y + section.height:g})")


def _hook(check: Checker, hook: Hook, data: Mapping[str, Any], path: str) -> None:
    if isinstance(data.get("cmd"), str) and hook.cmd and not hook.cmd.strip():
        check.error(f"{path}.cmd", "must not be empty")


def _override(check: Checker, override: CustomOverride, data: Mapping[str, Any], path: str) -> None:
    if override.path:
        problem = data_path_problem(override.path)
        if problem:
            check.error(f"{path}.path", problem)


def _rss(check: Checker, rss: RssSettings, data: Mapping[str, Any], path: str) -> None:
    if rss.enabled and not rss.path:
        check.error(f"{path}.path", "is required when the RSS feed is enabled")


def _sound(check: Checker, sound: SoundSettings, data: Mapping[str, Any], path: str) -> None:
    if sound.enabled and not sound.file:
        check.error(f"{path}.file", "is required when the sound is enabled")


def _mail(check: Checker, mail: MailSettings, data: Mapping[str, Any], path: str) -> None:
    if not mail.enabled:
        return
    for key, value in (("to", mail.to), ("server", mail.server)):
        if not value:
            check.error(f"{path}.{key}", "is required when mail is enabled")
    if mail.to and "@" not in mail.to:
        check.error(f"{path}.to", f"must be a mail address (got {show(mail.to)})")
    if mail.server and ":" in mail.server:
        host, _, port = mail.server.rpartition(":")
        port_ok = port.isascii() and port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535
        if not host or not port_ok:
            check.error(f"{path}.server", "must be 'host' or 'host:port' with a port 1-65535 "
                                          f"(got {show(mail.server)})")


def _webhook(check: Checker, webhook: WebhookSettings, data: Mapping[str, Any], path: str) -> None:
    if webhook.enabled and not webhook.url and data.get("url", "") == "":
        check.error(f"{path}.url", "is required when the webhook is enabled")


def check_after(check: Checker, jobs: Sequence[Job], paths: Mapping[int, str], count: int) -> None:
    """Each job's ``after`` names other jobs of the batch (ids below ``count``), each once, and
    no job waits, through others, for itself. ``jobs``: every job of the batch whose ``after``
    is known; ``paths``: where each job to report on is (``jobs[2]``), by id (an added job's path
    is its place in what was added, not its id)."""
    edges: dict[int, list[int]] = {}
    for job in jobs:
        path = paths.get(job.id)
        seen: set[int] = set()
        valid = edges[job.id] = []
        for index, other in enumerate(job.after):
            where = f"{path}.after[{index}]"
            if other == job.id:
                problem = f"job {other} cannot wait for itself"
            elif other >= count:
                problem = f"no job {other} in this batch (its jobs are 0 to {count - 1})"
            elif other in seen:
                problem = f"job {other} is named twice"
            else:
                seen.add(other)
                valid.append(other)
                continue
            if path is not None:
                check.error(where, problem)
    for cycle in _cycles(edges):
        start = max(cycle)
        turn = cycle.index(start)
        ring = [*cycle[turn:], *cycle[:turn], start]
        path = paths.get(start)
        check.error(f"{path}.after" if path is not None else "jobs",
                    f"a cycle {' → '.join(str(job_id) for job_id in ring)}: these jobs would wait "
                    "for each other forever")


def _cycles(edges: Mapping[int, list[int]]) -> list[list[int]]:
    """One cycle (its job ids, in waiting order) for each edge that closes one, found by a
    depth-first walk without recursion (a chain of thousands of jobs is fine)."""
    new, open_, done = 0, 1, 2
    mark = dict.fromkeys(edges, new)
    found: list[list[int]] = []
    for root in sorted(edges):
        if mark[root] != new:
            continue
        trail: list[int] = [root]
        todo: list[list[int]] = [list(reversed(edges[root]))]
        mark[root] = open_
        while trail:
            if not todo[-1]:
                mark[trail.pop()] = done
                todo.pop()
                continue
            nxt = todo[-1].pop()
            state = mark.get(nxt, done)   # a job without a known ``after`` waits for nothing
            if state == open_:
                found.append(trail[trail.index(nxt):])
            elif state == new:
                mark[nxt] = open_
                trail.append(nxt)
                todo.append(list(reversed(edges[nxt])))
    return found


AFTER: dict[type, Callable[[Checker, Any, Mapping[str, Any], str], None]] = {
    Job: _job, Section: _section, Hook: _hook, CustomOverride: _override,
    RssSettings: _rss, SoundSettings: _sound, MailSettings: _mail,
    WebhookSettings: _webhook,
}
