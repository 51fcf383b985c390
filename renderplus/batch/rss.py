"""The batch as an RSS 2.0 feed (``settings.rss``), so any feed reader can follow a render.

One channel for the batch, a progress item ("3 of 8 jobs finished, ETA 4 min 10 s") and one item
per job with its status, times and engine data. The file is rewritten on every job change by
writing a temporary file beside it and ``os.replace``-ing it, so a reader polling the file never
sees half a feed. A writer thread does it, so the runner starts the next job without waiting.
Item guids are stable for the whole batch, so readers update the items instead of piling up new
ones. Only the snapshot goes in: the recipe's mail password never can.
"""

from __future__ import annotations

import contextlib
import html
import os
import re
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import formatdate
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from .summary import (
    DONE_STATUSES,
    batch_title,
    format_duration,
    format_time,
    job_counts,
    job_label,
    jobs_of,
    messages_of,
    outcome_text,
    times_of,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
TTL_MINUTES = 1  # a render changes often: ask readers to look again every minute


def build_feed(snapshot: Mapping[str, Any], feed_path: str, *, recipe_name: str = "",
               now: float | None = None, host: str | None = None,
               cache: dict[Any, tuple[str, str]] | None = None) -> bytes:
    """The RSS 2.0 document (UTF-8 bytes) for this snapshot.

    ``cache`` (kept by the caller between calls) reuses the text of jobs that did not change,
    so a 1,000-job feed costs little more to rewrite than a 10-job one.
    """
    now = time.time() if now is None else now
    host = host if host is not None else socket.gethostname()
    title = batch_title(snapshot, recipe_name)
    status = str(snapshot.get("status") or "WAITING")
    self_url = Path(os.path.abspath(feed_path)).as_uri()
    started = times_of(snapshot).get("started")
    batch_key = f"renderplus:{host}:{_stamp(started)}"
    description = (f"Render+ batch {snapshot.get('name') or recipe_name or title} on {host}: "
                   f"{status}, {outcome_text(snapshot)}")
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
        _progress_item(snapshot, batch_key, self_url, now, status),
    ]
    for job in jobs_of(snapshot):
        key = (batch_key, self_url, job.get("id"))
        fingerprint = repr(job)
        cached = cache.get(key) if cache is not None else None
        if cached is not None and cached[0] == fingerprint:
            parts.append(cached[1])
            continue
        text = _job_item(job, batch_key, self_url, started)
        if cache is not None:
            cache[key] = (fingerprint, text)
        parts.append(text)
    parts.append("</channel>\n</rss>\n")
    return "".join(parts).encode("utf-8")


def _progress_item(snapshot: Mapping[str, Any], batch_key: str, link: str, now: float,
                   status: str) -> str:
    counts = job_counts(snapshot)
    noun = "job" if counts.total == 1 else "jobs"
    if status in ("FINISHED", "CANCELLED"):
        title = f"Batch {status}: {outcome_text(snapshot)}"
    else:
        title = f"{counts.done} of {counts.total} {noun} finished"
        if counts.failed:
            title += f", {counts.failed} failed"
        eta = snapshot.get("eta")
        if isinstance(eta, int | float) and _is_number(eta):
            title += f", ETA {format_duration(eta)} (about {format_time(now + eta)[11:16]})"
    times = times_of(snapshot)
    rows = [("Status", status), ("Progress", _percent(snapshot.get("progress"))),
            ("Started", format_time(times.get("started"))),
            ("Finished", format_time(times.get("finished"))),
            ("Render time", format_duration(times.get("rendertime")))]
    current = snapshot.get("current_job")
    if status == "RUNNING" and current is not None:
        rows.append(("Current job", f"#{current}"))
    rows += [("Message", m) for m in messages_of(snapshot)]
    return _item(title, link, rows, status, f"{batch_key}:progress", now)


def _job_item(job: Mapping[str, Any], batch_key: str, link: str, batch_started: Any) -> str:
    status = str(job.get("status") or "QUEUED")
    times = times_of(job)
    title = f"Job {job_label(job)}: {status}"
    if status == "RUNNING":
        title += f" {_percent(job.get('progress'))}"
    rows = [("Status", status), ("Progress", _percent(job.get("progress")))]
    frames_total = job.get("frames_total")
    if isinstance(frames_total, int) and frames_total > 0:
        rows.append(("Frames", f"{job.get('frames_done', 0)} of {frames_total}"))
    rows += [("Started", format_time(times.get("started"))),
             ("Finished", format_time(times.get("finished"))),
             ("Render time", format_duration(times.get("rendertime")))]
    eta = job.get("eta")
    if status == "RUNNING" and _is_number(eta):
        rows.append(("ETA", format_duration(eta)))
    engine = job.get("engine")
    if isinstance(engine, Mapping):
        if engine.get("type"):
            rows.append(("Engine", str(engine["type"])))
        data = engine.get("data")
        if isinstance(data, Mapping):
            rows += [(str(k).replace("_", " ").capitalize(), str(v)) for k, v in data.items()]
    outputs = job.get("outputs")
    if isinstance(outputs, list) and outputs:
        rows.append(("Last output", str(outputs[-1])))
    rows += [("Message", m) for m in messages_of(job)]
    changed = times.get("finished") if status in DONE_STATUSES else times.get("started")
    when = changed if _is_number(changed) else batch_started
    return _item(title, link, rows, status, f"{batch_key}:job:{job.get('id')}",
                 when if _is_number(when) else None)


def _item(title: str, link: str, rows: list[tuple[str, str]], category: str, guid: str,
          when: float | None) -> str:
    return "".join([
        "  <item>\n",
        _element("title", title, 2),
        _element("link", link, 2),
        _element("description", _html_rows(rows), 2),
        _element("category", category, 2),
        f'    <guid isPermaLink="false">{_escape(guid)}</guid>\n',
        _element("pubDate", formatdate(when, usegmt=True), 2) if when is not None else "",
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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _percent(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{value:.0f} %"


def _stamp(started: Any) -> str:
    return str(int(started * 1000)) if isinstance(started, int | float) else "unstarted"


class FeedWriter:
    """Writes the feed file; ``submit`` hands the work to a writer thread so the runner never
    waits on the disk (when changes come faster than writes, the latest snapshot wins).
    A failure is passed to ``on_problem`` once, not on every job change."""

    def __init__(self, path: str, recipe_name: str = "",
                 on_problem: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.recipe_name = recipe_name
        self._on_problem = on_problem
        self._last_problem: str | None = None
        self._cache: dict[Any, tuple[str, str]] = {}
        self._cond = threading.Condition()
        self._pending: Mapping[str, Any] | None = None
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None

    def write(self, snapshot: Mapping[str, Any]) -> str | None:
        """Write the feed now; None when written (or when the same failure was already reported)."""
        try:
            data = build_feed(snapshot, self.path, recipe_name=self.recipe_name, cache=self._cache)
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

    def submit(self, snapshot: Mapping[str, Any]) -> None:
        """Have the writer thread write this snapshot (replacing one not written yet)."""
        with self._cond:
            if self._closed:
                return
            self._pending = snapshot
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_loop, name="renderplus-rss",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until every submitted snapshot is written; False on timeout."""
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
                snapshot, self._pending = self._pending, None
                if snapshot is None:
                    return
                self._busy = True
            try:
                problem = self.write(snapshot)
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
