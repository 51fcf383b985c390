"""Everything around a batch: the RSS feed, desktop/sound/mail/webhook notices, the power action.

``BatchWatchers`` is an observer of the engine's port (``renderplus.batch.observers``): the
places that compose a batch (the CLI, the add-on) pass ``watchers_factory()`` to it, and the
batch makes one ``BatchWatchers`` per run. It hears ``JobChanged`` (``job_changed``: the feed,
and a desktop notice per newly failed job), ``BatchEnded`` (``batch_ended``: the final feed,
desktop, sound, mail, then the power action), ``BatchPaused`` and ``QueueEnded`` (an event in
the feed and a desktop notice each), each with the batch's frozen ``BatchView``. The webhook
(``webhook.WebhookNotices``, when the recipe enables it) hears every event first and sends its
notices on its own thread; ``batch_ended`` waits a bounded time for them. Notices stay
per batch; the power action waits until nothing is queued behind the batch (the context's
``queue_empty``), so the last batch's power setting decides. It is the batch's ``after_batch``
action, which ``Batch.cancel`` calls off. Nothing
here may fail or stall a batch: every notice runs with a timeout, its failure becomes one
sentence in the batch's ``messages`` (through ``report``), and the next notice still goes out.
Per-job failure notifications run on their own threads so the next job starts at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..batch.observers import (
    AfterBatchAction,
    BatchEnded,
    BatchEvent,
    BatchPaused,
    JobChanged,
    ObserverContext,
    ObserverFactory,
    QueueEnded,
)
from ..batch.recipe import Recipe
from ..batch.view import BatchStatus, BatchView, JobStatus, PowerOffState
from .desktop import NOTIFY_TIMEOUT, send_notification
from .mail import SMTP_TIMEOUT, MailError, build_message, mail_body, mail_subject, send_mail
from .power import PowerScheduler
from .rss import FeedWriter
from .sound import SOUND_TIMEOUT, play_sound
from .summary import (
    batch_title,
    format_duration,
    job_label,
    movie_notice_lines,
    outcome_text,
    redact,
)
from .webhook import WebhookNotices

log = logging.getLogger(__name__)

FEED_FLUSH_TIMEOUT = 10.0
MAX_FAILURE_NOTICES = 3  # per batch; more would bury the desktop, the end notice lists them all


class BatchWatchers:
    """The recipe's ``notifications``, ``settings.rss`` and ``poweroff`` for one batch run."""

    def __init__(self, recipe: Recipe, report: Callable[[str], None],
                 power_runner: Callable[[Sequence[str]], Any] | None = None,
                 poweroff_grace: float = 60.0, *, on_change: Callable[[], None] | None = None,
                 platform: str | None = None, notify_timeout: float = NOTIFY_TIMEOUT,
                 mail_timeout: float = SMTP_TIMEOUT, sound_timeout: float = SOUND_TIMEOUT,
                 queue_empty: Callable[[], bool] | None = None,
                 webhook_options: Mapping[str, Any] | None = None) -> None:
        self.recipe = recipe
        self._queue_empty = queue_empty or (lambda: True)
        self._raw_report = report
        self._password = recipe.notifications.mail.password
        self._webhook_url = recipe.notifications.webhook.url
        self._platform = platform
        self._notify_timeout = notify_timeout
        self._mail_timeout = mail_timeout
        self._sound_timeout = sound_timeout
        rss = recipe.settings.rss
        self._feed = FeedWriter(recipe.resolve(rss.path), recipe.name, on_problem=self._report) \
            if rss.enabled and rss.path else None
        self._power = PowerScheduler(self._report, grace=poweroff_grace, runner=power_runner,
                                     platform=platform, on_change=on_change)
        self._lock = threading.Lock()
        self._failed_seen: set[int] = set()
        self._failure_notices = 0
        self._notice_threads: list[threading.Thread] = []
        self._ended = False
        self._closed = False
        webhook = recipe.notifications.webhook
        self._webhook = WebhookNotices(webhook, recipe.name, self._report, **(webhook_options or {})) \
            if webhook.enabled else None

    # ----------------------------------------------------------------------------------------
    # What the batch calls (the observer port)

    def notify(self, event: BatchEvent) -> None:
        """The port's events (a failed job's desktop notice comes from ``JobChanged``'s view, as
        its feed entry does; ``JobFailed``, with its reason, goes to the webhook). The webhook's
        notices are queued first: they go out on their own thread while the others run."""
        if self._webhook is not None and not self._closed:
            self._guard("webhook notice", self._webhook.queue, event)
        if isinstance(event, JobChanged):
            self.job_changed(event.view)
        elif isinstance(event, BatchEnded):
            self.batch_ended(event.view)
        elif isinstance(event, BatchPaused):
            self.batch_paused(event.view)
        elif isinstance(event, QueueEnded):
            self.queue_ended(event.view)

    @property
    def after_batch(self) -> AfterBatchAction:
        """The power action, pending after the batch until it runs or is called off."""
        return _PowerAction(self)

    def job_changed(self, view: BatchView) -> None:
        """Have the feed rewritten; notify the desktop of a newly failed job when asked to.
        Returns at once: the feed and the notices are written by their own threads."""
        with self._lock:
            if self._closed:
                return
            if self._feed is not None:
                self._feed.submit(view)
            self._guard("job failure notification", self._notice_new_failures, view)

    def batch_ended(self, view: BatchView) -> None:
        """The final feed, then desktop, sound and mail (each on its own), then the power action.
        Blocks while they go out (each with its timeout), so a CLI exits after the mail left."""
        with self._lock:
            if self._ended or self._closed:
                return
            self._ended = True
        if self._feed is not None:
            self._feed.submit(view)
            if not self._feed.flush(FEED_FLUSH_TIMEOUT):
                self._report(f"RSS feed {self._feed.path} still not written after "
                             f"{FEED_FLUSH_TIMEOUT:g} s")
        self._join_notices(self._notify_timeout + 1.0)
        notifications = self.recipe.notifications
        if notifications.desktop:
            self._guard("desktop notification", self._desktop_end, view)
        if notifications.sound.enabled:
            self._guard("notification sound", self._sound)
        if notifications.mail.enabled:
            self._guard("mail", self._mail, view)
        if self._webhook is not None:
            self._guard("webhook notice", self._webhook.wait_sent)
        if self.recipe.poweroff.active:
            self._guard("power action", self._schedule_power, view)

    def batch_paused(self, view: BatchView) -> None:
        name = batch_title(view, self.recipe.name)
        self._event(view, "Batch paused", f'Render+: batch "{name}" paused', outcome_text(view))

    def queue_ended(self, view: BatchView) -> None:
        name = batch_title(view, self.recipe.name)
        self._event(view, "Queue finished", "Render+: queue finished",
                    f'The last batch, "{name}", {view.status.value}: {outcome_text(view)}')

    def _event(self, view: BatchView, title: str, summary: str, body: str) -> None:
        """An event of its own (paused, the queue finished): an item in the feed and, when the
        recipe asks for desktop notices, one on the desktop (its own thread: returns at once)."""
        with self._lock:
            if self._closed:
                return
            if self._feed is not None:
                self._feed.add_event(title, view)
        if self.recipe.notifications.desktop:
            self._start_notice(summary, body, "desktop notification", critical=False)

    @property
    def poweroff_pending(self) -> bool:
        return self._power.pending is not None

    @property
    def poweroff_state(self) -> PowerOffState | None:
        """The view's ``poweroff``: the action and when it runs while pending, else None."""
        return self._power.pending

    def cancel_poweroff(self) -> bool:
        """Call off a pending power action; False when none was pending."""
        try:
            return self._power.cancel()
        except Exception:
            log.exception("cancelling the power action failed")
            return False

    def wait_poweroff(self, timeout: float | None = None) -> bool:
        """Block until a pending power action ran or was called off (for a CLI about to exit)."""
        return self._power.wait(timeout)

    def close(self) -> None:
        """No power action after this; notices in flight get a moment to finish."""
        with self._lock:
            self._closed = True
        self._power.close()
        if self._webhook is not None:
            self._webhook.close()
        if self._feed is not None:
            self._feed.close(1.0)
        self._join_notices(1.0)

    # ----------------------------------------------------------------------------------------
    # The notices

    def _notice_new_failures(self, view: BatchView) -> None:
        notifications = self.recipe.notifications
        for job in view.jobs:
            if job.status is not JobStatus.FAILED or job.id in self._failed_seen:
                continue
            self._failed_seen.add(job.id)
            if not (notifications.desktop and notifications.desktop_job_failures):
                continue
            self._failure_notices += 1
            if self._failure_notices > MAX_FAILURE_NOTICES:
                continue
            title = batch_title(view, self.recipe.name)
            summary = f"Render+: job {job_label(job)} FAILED"
            body = f"Batch {title}" + (f": {job.messages[-1]}" if job.messages else "")
            if self._failure_notices == MAX_FAILURE_NOTICES:
                body += "\n(Further failures are listed when the batch ends.)"
            self._start_notice(summary, body)

    def _start_notice(self, summary: str, body: str, what: str = "job failure notification",
                      critical: bool = True) -> None:
        def show() -> None:
            self._guard(what, self._desktop, summary, body, critical)

        thread = threading.Thread(target=show, name="renderplus-notice", daemon=True)
        self._notice_threads.append(thread)
        thread.start()

    def _join_notices(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in list(self._notice_threads):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _desktop_end(self, view: BatchView) -> None:
        summary = f'Render+: batch "{batch_title(view, self.recipe.name)}" {view.status.value}'
        lines = [outcome_text(view)]
        rendertime = view.times.rendertime
        if rendertime is not None:
            lines.append(f"Render time {format_duration(rendertime)}")
        failed = [job_label(j) for j in view.jobs if j.status is JobStatus.FAILED]
        if failed:
            more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
            lines.append("Failed: " + ", ".join(failed[:5]) + more)
        lines += movie_notice_lines(view)
        self._desktop(summary, "\n".join(lines), bool(failed))

    def _desktop(self, summary: str, body: str, critical: bool) -> None:
        problem = send_notification(summary, body, critical=critical, platform=self._platform,
                                    timeout=self._notify_timeout)
        if problem:
            self._report(problem)

    def _sound(self) -> None:
        sound = self.recipe.notifications.sound
        problem = play_sound(self.recipe.resolve(sound.file), sound.volume, platform=self._platform,
                             timeout=self._sound_timeout)
        if problem:
            self._report(problem)

    def _mail(self, view: BatchView) -> None:
        settings = self.recipe.notifications.mail
        message = build_message(settings, mail_subject(view, self.recipe.name),
                                mail_body(view, self.recipe.name))
        try:
            where = send_mail(settings, message, timeout=self._mail_timeout)
        except MailError as exc:
            self._report(f"Mail to {settings.to} not sent: {exc}")
            return
        log.info("mail to %s sent via %s", settings.to, where)

    def _schedule_power(self, view: BatchView) -> None:
        action = self.recipe.poweroff.action
        if view.status is BatchStatus.CANCELLED:
            self._report(f"No {action.lower()}: the batch was cancelled")
            return
        if not self._queue_empty():
            self._report(f"No {action.lower()} yet: batches are queued behind this one (the "
                         f"last batch's power setting applies when the queue ends)")
            return
        self._power.schedule(action)

    # ----------------------------------------------------------------------------------------
    # Never raise into the runner

    def _report(self, message: str) -> None:
        message = redact(redact(message, self._password), self._webhook_url)
        log.debug("report: %s", message)
        try:
            self._raw_report(message)
        except Exception:
            log.exception("the batch's report() failed")

    def _guard(self, what: str, func: Callable[..., None], *args: Any) -> None:
        try:
            func(*args)
        except Exception as exc:
            log.exception("%s failed", what)
            self._report(f"{what.capitalize()} failed: {type(exc).__name__}: {exc}")  # redacted there



class _PowerAction:
    """The watchers' power action as the port's ``AfterBatchAction``."""

    def __init__(self, watchers: BatchWatchers) -> None:
        self._watchers = watchers

    @property
    def state(self) -> PowerOffState | None:
        return self._watchers.poweroff_state

    def cancel(self) -> bool:
        return self._watchers.cancel_poweroff()

    def wait(self, timeout: float | None = None) -> bool:
        return self._watchers.wait_poweroff(timeout)


def watchers_factory(power_runner: Callable[[Sequence[str]], Any] | None = None,
                     poweroff_grace: float = 60.0,
                     webhook_options: Mapping[str, Any] | None = None) -> ObserverFactory:
    """What a composing place passes to a batch (``Batch(observers=[...])``, or to
    ``BatchService``): a ``BatchWatchers`` made for each run. ``power_runner`` (tests inject a
    fake) runs the power command; ``poweroff_grace`` is the announced delay before it;
    ``webhook_options`` (tests) the webhook's timeout, tries and waits (``WebhookNotices``)."""

    def make(context: ObserverContext) -> BatchWatchers:
        return BatchWatchers(context.recipe, context.report, power_runner=power_runner,
                             poweroff_grace=poweroff_grace, on_change=context.changed,
                             queue_empty=context.queue_empty, webhook_options=webhook_options)

    return make
