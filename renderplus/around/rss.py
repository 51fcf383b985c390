"""The batch as an RSS 2.0 feed (``settings.rss``), so any feed reader can follow a render.

One channel for the batch, a progress item ("3 of 8 jobs finished, ETA 4 min 10 s") and one item
per job with its status, times and engine data. The file is rewritten on every job change by
writing a temporary file beside it and ``os.replace``-ing it, so a reader polling the file never
sees half a feed. A writer thread does it, so the runner starts the next job without waiting.
Item guids are stable for the whole batch, so readers update the items instead of piling up new
ones. Events of their own (the batch paused, the queue finished) are items too, one each.
Only the batch's view goes in: the recipe's mail password never can.
"""

from __future__ import annotations

import contextlib
import html
import math
import os
import re
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from email.utils import formatdate
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from ..batch.encode.formats import media_type
from ..batch.view import BatchStatus, BatchView, JobStatus, JobView
from .summary import (
    batch_title,
    format_duration,
    format_time,
    job_counts,
    job_label,
    movie_sentence,
    outcome_text,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
TTL_MINUTES = 1  # a render changes often: ask readers to look again every minute


# Per job, for the feed's own cache: the view the text was made from, and the text.
FeedCache = dict[tuple[str, str, int], tuple[JobView, str]]


def build_feed(view: BatchView, feed_path: str, *, recipe_name: str = "",
               now: float | None = None, host: str | None = None,
               cache: FeedCache | None = None,
               events: Sequence[tuple[str, float]] = ()) -> bytes:
    """The RSS 2.0 document (UTF-8 bytes) for this view of the batch.

    ``cache`` (kept by the caller between calls) reuses the text of jobs that did not change,
    so a 1,000-job feed costs little more to rewrite than a 10-job one. The runner reuses a
    job's ``JobView`` while the job does not change, so most hits are an identity check.
    ``events``: ``(title, when)`` of the batch's events ("Batch paused", "Queue finished").
    """
    now = time.time() if now is None else now
    host = host if host is not None else socket.gethostname()
    title = batch_title(view, recipe_name)
    status = view.status.value
    self_url = Path(os.path.abspath(feed_path)).as_uri()
    started = view.times.started
    batch_key = f"renderplus:{host}:{_stamp(started)}"
    description = (f"Render+ batch {view.name or recipe_name or title} on {host}: "
                   f"{status}, {outcome_text(view)}")
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<rss version="2.0" xmlns:atom="{ATOM_NS}">\n<channel>\n',
        _element("title", f"Render+: {title} ({status})", 1),
        _element("link", self_url, 1),
        _element("description", description, 1),
        f'  <atom:link href="{_escape(self_url)}" rel="self" type="application/rss+xml"/>\n',
        _element("generator", "Render+", 1),
        _element("lastBuildDate", formatdate(now, usegmt=True), 1),
        _element("pubDate", formatdate(started, usegmt=True), 1) if _is_number(started) else "",
        _element("ttl", str(TTL_MINUTES), 1),
        _progress_item(view, batch_key, self_url, now),
        *(_item(title, self_url, [("Event", title), ("Status", status),
                                  ("When", format_time(when))],
                "event", f"{batch_key}:event:{index}", when)
          for index, (title, when) in enumerate(events)),
    ]
    for job in view.jobs:
        key = (batch_key, self_url, job.id)
        cached = cache.get(key) if cache is not None else None
        if cached is not None and (cached[0] is job or cached[0] == job):
            parts.append(cached[1])
            continue
        text = _job_item(job, batch_key, self_url, started)
        if cache is not None:
            cache[key] = (job, text)
        parts.append(text)
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


def _progress_item(view: BatchView, batch_key: str, link: str, now: float) -> str:
    counts = job_counts(view)
    noun = "job" if counts.total == 1 else "jobs"
    status = view.status.value
    if view.status.ended:
        title = f"Batch {status}: {outcome_text(view)}"
    else:
        title = f"{counts.done} of {counts.total} {noun} finished"
        if counts.failed:
            title += f", {counts.failed} failed"
        eta = view.eta
        if eta is not None and math.isfinite(eta):
            title += f", ETA {format_duration(eta)} (about {format_time(now + eta)[11:16]})"
    times = view.times
    rows = [("Status", status), ("Progress", _percent(view.progress)),
            ("Started", format_time(times.started)),
            ("Finished", format_time(times.finished)),
            ("Render time", format_duration(times.rendertime))]
    if view.status is BatchStatus.RUNNING and view.current_job is not None:
        rows.append(("Current job", f"#{view.current_job}"))
    rows += [("Message", m) for m in view.messages]
    return _item(title, link, rows, status, f"{batch_key}:progress", now)


def _job_item(job: JobView, batch_key: str, link: str, batch_started: float | None) -> str:
    status = job.status.value
    times = job.times
    title = f"Job {job_label(job)}: {status}"
    if job.status is JobStatus.RUNNING:
        title += f" {_percent(job.progress)}"
    rows = [("Status", status), ("Progress", _percent(job.progress))]
    if job.frames_total > 0:
        rows.append(("Frames", f"{job.frames_done} of {job.frames_total}"))
    rows += [("Started", format_time(times.started)),
             ("Finished", format_time(times.finished)),
             ("Render time", format_duration(times.rendertime))]
    if job.status is JobStatus.RUNNING and _is_number(job.eta):
        rows.append(("ETA", format_duration(job.eta)))
    if job.engine_type:
        rows.append(("Engine", job.engine_type))
    if job.engine_data:
        rows += [(str(k).replace("_", " ").capitalize(), str(v)) for k, v in job.engine_data.items()]
    if job.outputs:
        rows.append(("Last output", job.outputs[-1]))
    if job.movie:
        rows.append(("Movie", movie_sentence(job.movie)))
    rows += [("Message", m) for m in job.messages]
    changed = times.finished if job.status.ended else times.started
    when = changed if _is_number(changed) else batch_started
    return _item(title, link, rows, status, f"{batch_key}:job:{job.id}",
                 when if _is_number(when) else None, _enclosure(job.movie))


def _enclosure(movie: Mapping[str, Any] | None) -> str:
    """A made movie as the item's ``<enclosure>`` (RSS's way to attach a file: a reader offers
    to play or fetch it); "" until it is DONE, or when its file is gone."""
    if not movie or movie.get("status") != "DONE" or not movie.get("path"):
        return ""
    path = os.path.abspath(str(movie["path"]))
    try:
        length = os.stat(path).st_size
    except OSError:
        return ""
    return (f'    <enclosure url="{_escape(Path(path).as_uri())}" length="{length}" '
            f'type="{_escape(media_type(path))}"/>\n')


def _item(title: str, link: str, rows: list[tuple[str, str]], category: str, guid: str,
          when: float | None, enclosure: str = "") -> str:
    return "".join([
        "  <item>\n",
        _element("title", title, 2),
        _element("link", link, 2),
        _element("description", _html_rows(rows), 2),
        _element("category", category, 2),
        f'    <guid isPermaLink="false">{_escape(guid)}</guid>\n',
        _element("pubDate", formatdate(when, usegmt=True), 2) if when is not None else "",
        enclosure,
        "  </item>\n",
    ])


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape(text: str) -> str:
    """``text`` as XML character data: characters XML 1.0 cannot carry (a stray control byte
    in a Blender error line) dropped, markup characters escaped."""
    return xml_escape(_NOT_XML.sub("", text), {'"': "&quot;"})


def _element(tag: str, text: str, depth: int) -> str:
    return f"{'  ' * depth}<{tag}>{_escape(text)}</{tag}>\n"


def _html_rows(rows: list[tuple[str, str]]) -> str:
    return "<br/>\n".join(f"<b>{html.escape(k, quote=False)}:</b> {html.escape(v, quote=False)}"
                           for k, v in rows)


def _is_number(value: float | None) -> bool:
    """A time or duration that can be shown: known and finite."""
    return value is not None and math.isfinite(value)


def _percent(value: float) -> str:
    return f"{value:.0f} %" if math.isfinite(value) else "-"


def _stamp(started: float | None) -> str:
    if started is None or not math.isfinite(started):
        return "unstarted"
    return str(int(started * 1000))


class FeedWriter:
    """Writes the feed file; ``submit`` hands the work to a writer thread so the runner never
    waits on the disk (when changes come faster than writes, the latest view wins).
    A failure is passed to ``on_problem`` once, not on every job change."""

    def __init__(self, path: str, recipe_name: str = "",
                 on_problem: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.recipe_name = recipe_name
        self._on_problem = on_problem
        self._last_problem: str | None = None
        self._cache: FeedCache = {}
        self._events: list[tuple[str, float]] = []
        self._cond = threading.Condition()
        self._pending: BatchView | None = None
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def write(self, view: BatchView) -> str | None:
        """Write the feed now; None when written (or when the same failure was already reported)."""
        try:
            data = build_feed(view, self.path, recipe_name=self.recipe_name, cache=self._cache,
                              events=tuple(self._events))
            write_atomically(self.path, data)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problem = f"RSS feed {self.path} not written: {reason}"
            if problem == self._last_problem:
                return None
            self._last_problem = problem
            return problem
        self._last_problem = None
        return None

    def submit(self, view: BatchView) -> None:
        """Have the writer thread write this view (replacing one not written yet)."""
        with self._cond:
            if self._closed:
                return
            self._pending = view
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_loop, name="renderplus-rss",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def add_event(self, title: str, view: BatchView, when: float | None = None) -> None:
        """An event item (kept for the rest of the batch), written with ``view``."""
        with self._cond:
            self._events.append((title, time.time() if when is None else when))
        self.submit(view)

    def flush(self, timeout: float) -> bool:
        """Wait until every submitted view is written; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending is not None or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is pending, then stop the writer thread."""
        done = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        return done

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                view, self._pending = self._pending, None
                if view is None:
                    return
                self._busy = True
            try:
                problem = self.write(view)
            except Exception as exc:  # a bug must not kill the writer: say it, go on
                problem = f"RSS feed {self.path} not written: {type(exc).__name__}: {exc}"
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            if problem and self._on_problem is not None:
                with contextlib.suppress(Exception):
                    self._on_problem(problem)


def write_atomically(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step (temp file in the same folder + os.replace)."""
    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o644  # readable by a local web server or another user's feed reader
    handle, temp = tempfile.mkstemp(prefix=".renderplus-", suffix=".rss.tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise
