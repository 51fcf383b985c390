"""Chat and webhook notices (``notifications.webhook``): delivered off the batch's thread.

``WebhookNotices`` hears the observer port's events (``BatchEnded``, ``QueueEnded``,
``JobFailed`` with its reason, ``BatchPaused``), keeps those the recipe's ``events`` name, and
hands each to one daemon sender thread through a queue: ``notify`` returns at once, so a slow
or dead server never holds a job. The sender builds the notice (``webhook_notice``) and the
preset's request (``webhook_presets``) and posts it with urllib:

- each try has a timeout (``timeout``), so a server that hangs costs that long and no more;
- a 5xx answer, a timeout or a connection error is tried again after ``backoff`` seconds,
  doubled each time, ``tries`` tries in all; a 429 waits what its ``Retry-After`` says (seconds
  or an HTTP date), at most ``MAX_RETRY_AFTER``;
- any other answer outside 2xx is final, and so is a redirect: a notice is posted only to the
  address given (a redirect could send its body, and the channel's key in it, elsewhere).

A notice that cannot be delivered becomes one sentence in the batch's messages (``report``).
The URL carries the channel's key, so no sentence, log line or exception text holds it: the
address is shown as ``scheme://host/…`` (``redact_url``). ``BatchEnded`` waits up to
``end_wait`` seconds for the queue to drain, so a CLI's last notice leaves before it exits.
"""

from __future__ import annotations

import email.utils
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

from ..batch.observers import BatchEnded, BatchEvent, BatchPaused, JobFailed, QueueEnded
from ..batch.recipe import WebhookSettings
from ..batch.recipe.weburl import REDACTED_URL, web_url_problem
from ..batch.view import BatchView
from .webhook_notice import batch_end_notice, job_failed_notice, paused_notice, queue_end_notice, thumbnail
from .webhook_presets import UPLOADS, Notice, WebRequest, build_request

log = logging.getLogger(__name__)

TIMEOUT = 10.0          # seconds per try
TRIES = 4
BACKOFF = 2.0           # seconds before the second try; doubled before each next one
MAX_RETRY_AFTER = 60.0  # the longest a 429's Retry-After is honoured
END_WAIT = 30.0         # how long BatchEnded waits for the notices still queued
IDLE_EXIT = 30.0        # the sender thread ends after this long without work (restarts on need)
MIN_SECRET_PIECE = 6    # shorter parts of a path ("api", "hooks") are no key
MAX_WAITING = 64        # notices queued at most; more are dropped with one sentence


def redact_url(url: str) -> str:
    """``https://discord.com/…``: the scheme and host only (the path and query hold the key)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(the webhook URL)"
    if not parts.scheme or not host:
        return "(the webhook URL)"
    return f"{parts.scheme}://{host}{port}/…"


class DeliveryError(Exception):
    """A notice that was not delivered; its text never holds the URL."""


@dataclass(frozen=True)
class _Outcome:
    retry: bool
    problem: str
    wait: float | None = None   # a 429's Retry-After, in seconds


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer of its own (``deliver`` refuses it), never followed."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects())


def deliver(url: str, request: WebRequest, *, timeout: float = TIMEOUT, tries: int = TRIES,
            backoff: float = BACKOFF, max_retry_after: float = MAX_RETRY_AFTER,
            stop: threading.Event | None = None) -> int:
    """Send ``request`` to ``url``, trying again as the module docstring says; the number of
    tries it took. Raises ``DeliveryError`` (a sentence without the URL) when it failed, or when
    ``stop`` was set while waiting to try again."""
    stop = stop or threading.Event()
    delay = backoff
    outcome = _Outcome(False, "")
    for attempt in range(1, max(1, tries) + 1):
        outcome = _try(url, request, timeout)
        if not outcome.problem:
            return attempt
        if not outcome.retry or attempt >= tries:
            break
        wait = min(outcome.wait, max_retry_after) if outcome.wait is not None else delay
        log.info("webhook %s: %s; trying again in %g s", redact_url(url), outcome.problem, wait)
        if stop.wait(wait):
            raise DeliveryError(f"{outcome.problem} (given up: the batch closed)")
        delay *= 2
    tried = f" after {attempt} tries" if attempt > 1 else ""
    raise DeliveryError(f"{outcome.problem}{tried}")


def _try(url: str, request: WebRequest, timeout: float) -> _Outcome:
    req = urllib.request.Request(url, data=request.body, headers=dict(request.headers),
                                 method=request.method)
    try:
        with _OPENER.open(req, timeout=timeout) as answer:
            answer.read(65536)
        return _Outcome(False, "")
    except urllib.error.HTTPError as exc:
        with exc:
            return _answer(exc.code, exc.headers)
    except TimeoutError:
        return _Outcome(True, f"no answer within {timeout:g} s")
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return _Outcome(True, f"no answer within {timeout:g} s")
        why = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
        return _Outcome(True, f"cannot connect ({_scrub(why, url)})")
    except (OSError, HTTPException) as exc:
        return _Outcome(True, f"the connection failed ({type(exc).__name__})")


def _answer(code: int, headers: Any) -> _Outcome:
    if 300 <= code < 400:
        return _Outcome(False, f"it answered {code}, a redirect: Render+ posts only to the address "
                               "given (set the address it moved to)")
    if code == 429:
        return _Outcome(True, "it answered 429 (too many requests)",
                        retry_after(headers.get("Retry-After") if headers else None))
    if code >= 500:
        return _Outcome(True, f"it answered {code} (a server error)")
    hint = " (the webhook's address or key is wrong, or it was deleted)" if code in (401, 403, 404) else ""
    return _Outcome(False, f"it answered {code}{hint}")


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header in seconds from now (delta seconds or an HTTP date); None when
    absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _scrub(text: str, url: str) -> str:
    """``text`` without the URL or any part of its path and query that could be its key."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return text.replace(url, "…") if url else text
    userinfo = parts.netloc.rpartition("@")[0]   # user:password@ is a key of any length
    pieces = [url, parts.path, parts.query, parts.fragment, *parts.path.split("/"),
              *(value for pair in parts.query.split("&") for value in pair.split("="))]
    found = {p for p in pieces if len(p) >= MIN_SECRET_PIECE} | ({userinfo} if userinfo else set())
    for secret in sorted(found, key=len, reverse=True):
        text = text.replace(secret, "…")
    return text


_WORDS = {"batch_end": "the batch's end", "queue_end": "the queue's end",
          "job_failed": "a failed job", "paused": "the pause"}


class WebhookNotices:
    """A batch's webhook: the port's events to the recipe's URL (see the module docstring)."""

    def __init__(self, settings: WebhookSettings, batch_name: str, report: Callable[[str], None], *,
                 timeout: float = TIMEOUT, tries: int = TRIES, backoff: float = BACKOFF,
                 max_retry_after: float = MAX_RETRY_AFTER, end_wait: float = END_WAIT,
                 idle_exit: float = IDLE_EXIT) -> None:
        self._url = settings.url
        self._preset = settings.preset
        self._events = frozenset(settings.events)
        self._name = batch_name
        self._raw_report = report
        self._timeout, self._tries, self._backoff = timeout, tries, backoff
        self._max_retry_after = max_retry_after
        self._end_wait = end_wait
        self._idle_exit = idle_exit
        self._queue: queue.Queue[_Job] = queue.Queue(MAX_WAITING)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0                 # notices queued or being sent
        self._dropped = 0              # notices the full queue could not take
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.delivered: list[str] = []   # the events delivered, in order (tests, the log)
        self._usable = self._check_url()

    @property
    def where(self) -> str:
        return redact_url(self._url)

    # ------------------------------------------------------------------------ the observer port

    def notify(self, event: BatchEvent) -> None:
        """Queue the notice of ``event`` (``queue``); ``BatchEnded`` then waits, at most
        ``end_wait``, for the queue to drain (``wait_sent``)."""
        self.queue(event)
        if isinstance(event, BatchEnded):
            self.wait_sent()

    def queue(self, event: BatchEvent) -> None:
        """The notice of ``event`` to the sender when the recipe asks for it; returns at once."""
        name = self._name
        if isinstance(event, JobFailed):
            job_id, reason = event.job_id, event.reason
            self._submit(_Job("job_failed", event.view,
                              lambda view: job_failed_notice(view, name, job_id, reason), job_id))
        elif isinstance(event, BatchEnded):
            self._submit(_Job("batch_end", event.view, lambda view: batch_end_notice(view, name)))
        elif isinstance(event, BatchPaused):
            self._submit(_Job("paused", event.view, lambda view: paused_notice(view, name)))
        elif isinstance(event, QueueEnded):
            self._submit(_Job("queue_end", event.view, lambda view: queue_end_notice(view, name)))

    def wait_sent(self) -> None:
        """Wait up to ``end_wait`` for the queued notices; say so when they are not out yet."""
        if not self.drain(self._end_wait) and not self._stop.is_set():
            self._report(f"Webhook notices to {self.where} still not sent after "
                         f"{self._end_wait:g} s: they go on in the background")

    @property
    def after_batch(self) -> None:
        return None

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued notice was sent or given up; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        """No more notices; one waiting to be tried again gives up."""
        self._stop.set()

    # ------------------------------------------------------------------------ the sender

    def _submit(self, job: _Job) -> None:
        if job.event not in self._events or self._stop.is_set():
            return
        if not self._usable:
            return
        with self._lock:
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                self._dropped += 1   # said by the sender (never from notify: see _check_url)
                return
            self._busy += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="renderplus-webhook",
                                                daemon=True)
                self._thread.start()

    def _check_url(self) -> bool:
        """Whether the URL can be posted to; when not, one sentence why, as the batch starts
        (not from ``notify``, which may run under the batch's lock)."""
        if self._url and self._url != REDACTED_URL and not web_url_problem(self._url):
            return True
        why = ("was left out of the recipe (\"***\")" if self._url == REDACTED_URL else
               "is not an http(s) address" if self._url else "is empty (its kept secret was lost?)")
        self._report(f"Webhook notices are not sent: the webhook URL {why}: set it again")
        return False

    def _work(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=self._idle_exit)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            try:
                self._send(job)
            finally:
                with self._idle:
                    self._busy -= 1
                    dropped, self._dropped = self._dropped, 0
                    self._idle.notify_all()
            if dropped:
                self._report(f"{dropped} webhook notice(s) dropped: the queue of {MAX_WAITING} "
                             "waiting notices was full")

    def _send(self, job: _Job) -> None:
        what = _WORDS[job.event]
        try:
            notice = job.notice(job.view)
            picture = thumbnail(job.view, job.job_id) if self._preset in UPLOADS else None
            request = build_request(self._preset, notice, picture)
            tries = deliver(self._url, request, timeout=self._timeout, tries=self._tries,
                            backoff=self._backoff, max_retry_after=self._max_retry_after,
                            stop=self._stop)
        except DeliveryError as exc:
            self._report(f"Webhook notice of {what} not sent to {self.where}: {exc}")
            return
        except Exception as exc:   # never into the batch, never with the URL (scrubbed)
            log.error("webhook notice of %s failed: %s", what, type(exc).__name__)
            self._report(f"Webhook notice of {what} not sent to {self.where}: "
                         f"{type(exc).__name__}: {exc}")
            return
        self.delivered.append(job.event)
        log.info("webhook notice of %s sent to %s (%d %s)", what, self.where, tries,
                 "try" if tries == 1 else "tries")

    def _report(self, sentence: str) -> None:
        sentence = _scrub(sentence, self._url)
        log.info("%s", sentence)
        try:
            self._raw_report(sentence)
        except Exception:
            log.exception("the batch's report() failed")


@dataclass(frozen=True)
class _Job:
    """A notice to send: its event, the view it tells of, and how its words are made (on the
    sender's thread, with the thumbnail: reading a frame may touch a slow disk)."""

    event: str
    view: BatchView
    notice: Callable[[BatchView], Notice]
    job_id: int | None = None
