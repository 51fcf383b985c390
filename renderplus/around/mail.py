"""The end-of-batch mail (docs/api.md, Mail), with ``smtplib`` and nothing else.

``server`` is ``host`` or ``host:port`` (``[v6]:port`` too). ``ssl: true`` means TLS from the
first byte (port 465 unless given). ``ssl: false`` means a plain connection upgraded with
STARTTLS whenever the server offers it (port 587, or 25 when nothing answers on 587). A STARTTLS
or certificate failure stops the mail rather than sending the password in clear. Every SMTP step
has a socket timeout, so a dead or silent server costs seconds, never the batch.

The password is only handed to ``smtplib.login``: it is never put in an error message (server
replies are scrubbed too), a log line or the mail itself.
"""

from __future__ import annotations

import contextlib
import email.policy
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from ..batch.recipe import MailSettings
from ..batch.view import BatchView
from .summary import (
    MOVIE_ENDED,
    batch_title,
    format_duration,
    format_time,
    headline,
    job_label,
    movie_sentence,
    outcome_text,
    redact,
)

SMTP_TIMEOUT = 10.0
SSL_PORT = 465
SUBMISSION_PORT = 587
SMTP_PORT = 25


class MailError(Exception):
    """The mail could not be sent; ``str()`` says why, without the password."""


@dataclass(frozen=True)
class Endpoint:
    """Where to connect and how: ``tls`` (implicit TLS) or ``starttls`` (upgrade if offered)."""

    host: str
    port: int
    mode: str

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def split_server(server: str) -> tuple[str, int | None]:
    """``host``, ``host:port`` or ``[v6]:port`` -> (host, port or None)."""
    server = server.strip()
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif server.count(":") == 1:
        host, _, port = server.partition(":")
    else:  # a bare name, or a bare IPv6 address
        host, port = server, ""
    if not host:
        raise MailError(f"mail server {server!r} has no host name")
    if port and (not port.isdigit() or not 1 <= int(port) <= 65535):
        raise MailError(f"mail server {server!r}: the port must be a number from 1 to 65535")
    return host, int(port) if port else None


def mail_endpoints(server: str, use_ssl: bool) -> list[Endpoint]:
    """The endpoints to try, in order (docs/api.md, Mail)."""
    host, port = split_server(server)
    if use_ssl:
        return [Endpoint(host, port or SSL_PORT, "tls")]
    if port:
        return [Endpoint(host, port, "starttls")]
    return [Endpoint(host, SUBMISSION_PORT, "starttls"), Endpoint(host, SMTP_PORT, "starttls")]


def recipients(to: str) -> list[str]:
    """``a@x, b@y; c@z`` -> the addresses."""
    return [a.strip() for a in to.replace(";", ",").split(",") if a.strip()]


# --------------------------------------------------------------------------------------------
# The text


def mail_subject(view: BatchView, recipe_name: str = "") -> str:
    return headline(view, recipe_name)


def mail_body(view: BatchView, recipe_name: str = "", host: str | None = None) -> str:
    """Plain text a pipeline engineer can read on a phone: the batch, then one line per job."""
    times = view.times
    host = host if host is not None else socket.gethostname()
    lines = [
        f"Batch:        {view.name or recipe_name or batch_title(view)}",
        f"Result:       {view.status.value} — {outcome_text(view)}",
        f"Machine:      {host}",
        f"Started:      {format_time(times.started)}",
        f"Finished:     {format_time(times.finished)}",
        f"Render time:  {format_duration(times.rendertime)}",
    ]
    stats = view.stats
    if stats.average_time is not None:
        lines.append(f"Average job:  {format_duration(stats.average_time)}; "
                     f"slowest #{stats.slowest_index} ({format_duration(stats.slowest_time)}), "
                     f"fastest #{stats.fastest_index} ({format_duration(stats.fastest_time)})")
    if view.messages:
        lines += ["", "Messages:"] + [f"  - {m}" for m in view.messages]
    lines += ["", "Jobs:"]
    if not view.jobs:
        lines.append("  (none)")
    width = max((len(job_label(j)) for j in view.jobs), default=0)
    for job in view.jobs:
        line = (f"  {job_label(job):<{width}}  {job.status.value:<9}  "
                f"{format_duration(job.times.rendertime)}")
        if job.frames_total > 1:
            line += f"  ({job.frames_done}/{job.frames_total} frames)"
        lines.append(line.rstrip())
        lines += [f"      {m}" for m in job.messages]
    lines += movie_lines(view)
    lines += ["", "-- ", "Render+ batch server"]
    return "\n".join(lines) + "\n"


def movie_lines(view: BatchView) -> list[str]:
    """Each movie made (path, format, duration) and each encode that failed (its reason), so
    the mail says where the movies are without opening the dashboard; none: no lines."""
    ended = [job for job in view.jobs if job.movie and job.movie.get("status") in MOVIE_ENDED]
    if not ended:
        return []
    width = max(len(job_label(job)) for job in ended)
    return ["", "Movies:"] + [f"  {job_label(job):<{width}}  {movie_sentence(job.movie or {})}"
                              for job in ended]


def build_message(settings: MailSettings, subject: str, body: str) -> EmailMessage:
    # No folding below SMTP's 998-character limit: Python folds a header before an encoded word
    # (the subject's "—") in a way that decodes with a doubled space.
    message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
    to = recipients(settings.to)
    sender = settings.user if "@" in settings.user else (to[0] if to else "renderplus@localhost")
    message["Subject"] = subject
    message["From"] = formataddr(("Render+", sender))
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["X-Mailer"] = "Render+"
    message.set_content(body)
    return message


# --------------------------------------------------------------------------------------------
# Sending


def send_mail(settings: MailSettings, message: EmailMessage, *, timeout: float = SMTP_TIMEOUT,
              ssl_context: ssl.SSLContext | None = None,
              endpoints: Sequence[Endpoint] | None = None) -> str:
    """Send ``message``; return where it went (``smtp.example.com:465 (TLS)``) or raise MailError."""
    to = recipients(settings.to)
    if not to:
        raise MailError("no recipient (notifications.mail.to is empty)")
    if endpoints is None:
        endpoints = mail_endpoints(settings.server, settings.ssl)
    context = ssl_context or ssl.create_default_context()
    unreachable: list[str] = []
    for index, endpoint in enumerate(endpoints):
        last = index == len(endpoints) - 1
        try:
            client = _connect(endpoint, timeout, context)
        except (OSError, smtplib.SMTPException) as exc:
            problem = f"cannot connect to {endpoint}: {_describe(exc, settings.password)}"
            if last:
                raise MailError("; ".join([*unreachable, problem])) from None
            unreachable.append(problem)
            continue
        with client:
            security = _secure(client, endpoint, context, settings.password)
            _login(client, settings, endpoint)
            _deliver(client, message, settings, endpoint)
        return f"{endpoint} ({security})"
    raise MailError("no mail server to try")


def _connect(endpoint: Endpoint, timeout: float, context: ssl.SSLContext) -> smtplib.SMTP:
    if endpoint.mode == "tls":
        return smtplib.SMTP_SSL(endpoint.host, endpoint.port, timeout=timeout, context=context)
    return smtplib.SMTP(endpoint.host, endpoint.port, timeout=timeout)


def _secure(client: smtplib.SMTP, endpoint: Endpoint, context: ssl.SSLContext, password: str) -> str:
    """Upgrade with STARTTLS when offered; return what protects the connection."""
    try:
        client.ehlo()
        if endpoint.mode == "tls":
            return "TLS"
        if not client.has_extn("starttls"):
            return "no encryption: the server offers no STARTTLS"
        client.starttls(context=context)
        client.ehlo()
        return "STARTTLS"
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{endpoint}: could not secure the connection "
                        f"({_describe(exc, password)}); nothing was sent") from None


def _login(client: smtplib.SMTP, settings: MailSettings, endpoint: Endpoint) -> None:
    if not (settings.user and settings.password):
        return
    if not client.has_extn("auth"):
        return  # nothing to log in to; a server that wants a login refuses the mail below
    try:
        client.login(settings.user, settings.password)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{endpoint} refused the login of {settings.user!r} "
                        f"({_describe(exc, settings.password)}): check the mail user and "
                        "password") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{endpoint}: login failed ({_describe(exc, settings.password)})") from None


def _deliver(client: smtplib.SMTP, message: EmailMessage, settings: MailSettings,
             endpoint: Endpoint) -> None:
    try:
        refused = client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"{endpoint} refused every recipient "
                        f"({_describe(exc, settings.password)})") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"{endpoint} did not accept the mail ({_describe(exc, settings.password)})"
                        ) from None
    if refused:
        raise MailError(f"{endpoint} refused some recipients: {', '.join(sorted(refused))}")
    with contextlib.suppress(OSError, smtplib.SMTPException):
        client.quit()  # the mail is accepted; a rude goodbye does not matter


def _describe(exc: BaseException, password: str) -> str:
    """A short, password-free description of an SMTP or socket error."""
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        text = f"{exc.smtp_code} {reply}"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{addr}: {code} {msg.decode('utf-8', 'replace')}"
                         for addr, (code, msg) in exc.recipients.items())
    elif isinstance(exc, TimeoutError):
        text = "no answer within the timeout"
    elif isinstance(exc, ssl.SSLCertVerificationError):
        text = f"certificate not trusted: {exc.verify_message}"
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return redact(" ".join(text.split()), password)
