"""The end-of-batch mail against a real SMTP server on loopback (aiosmtpd), plain and TLS."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from renderplus.around import BatchWatchers
from renderplus.around.mail import (
    Endpoint,
    MailError,
    build_message,
    mail_body,
    mail_endpoints,
    mail_subject,
    send_mail,
    split_server,
)
from renderplus.batch.recipe import MailSettings
from renderplus.batch.view import BatchView

from .conftest import SmtpServer
from .views import batch_view, job_view, mail_section, recipe_with

PASSWORD = "s3cret-Pa55"

pytestmark = pytest.mark.timeout(60)


def ended_view() -> BatchView:
    return batch_view([
        job_view(0, "FINISHED", name="Wide", rendertime=61.5),
        job_view(1, "FAILED", name="Closeup", rendertime=2.0,
                 messages=["Error: Cannot read file '/projects/missing.blend'"]),
        job_view(2, "DISABLED", name="Spare"),
        job_view(3, "FINISHED", name="Top", rendertime=12.25),
    ], status="FINISHED", messages=["1 job failed"])


def settings(server: str, *, ssl_on: bool = False, user: str = "render@studio.test",
             password: str = PASSWORD) -> MailSettings:
    return MailSettings(enabled=True, user=user, password=password, ssl=ssl_on,
                        to="lead@studio.test, wrangler@studio.test", server=server)


def test_endpoints_follow_decision_14() -> None:
    assert mail_endpoints("smtp.test", True) == [Endpoint("smtp.test", 465, "tls")]
    assert mail_endpoints("smtp.test", False) == [Endpoint("smtp.test", 587, "starttls"),
                                                  Endpoint("smtp.test", 25, "starttls")]
    assert mail_endpoints("smtp.test:2525", False) == [Endpoint("smtp.test", 2525, "starttls")]
    assert mail_endpoints("smtp.test:2465", True) == [Endpoint("smtp.test", 2465, "tls")]
    assert split_server("[::1]:2525") == ("::1", 2525)
    assert split_server("::1") == ("::1", None)
    with pytest.raises(MailError, match="port"):
        split_server("smtp.test:99999")


def test_subject_and_body_say_name_result_times_and_each_job() -> None:
    view = ended_view()
    subject = mail_subject(view)
    assert subject == 'Render+: batch "shots.blend" FINISHED — 2 of 3 jobs finished, 1 failed'
    body = mail_body(view, host="node07")
    assert "/projects/shots.blend" in body and "node07" in body
    assert "1 h 02 min 05 s" in body  # the batch's render time, 3725 s
    for label, status in (('#0 "Wide"', "FINISHED"), ('#1 "Closeup"', "FAILED"),
                          ('#2 "Spare"', "DISABLED"), ('#3 "Top"', "FINISHED")):
        line = next(ln for ln in body.splitlines() if label in ln)
        assert status in line
    assert "Cannot read file '/projects/missing.blend'" in body
    assert "1 min 02 s" in body  # job 0's 61.5 s


def test_plain_mail_arrives_with_the_content(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory("none")
    mail = settings(server.address, user="", password="")
    view = ended_view()
    where = send_mail(mail, build_message(mail, mail_subject(view), mail_body(view)),
                      timeout=5)
    assert server.address in where and "no encryption" in where
    [message] = server.messages
    assert message["Subject"] == mail_subject(view)
    assert server.envelopes[0].rcpt_tos == ["lead@studio.test", "wrangler@studio.test"]
    text = message.get_content()
    assert '#1 "Closeup"' in text and "FAILED" in text


def test_starttls_with_login(smtp_factory: Callable[..., SmtpServer],
                             client_context: ssl.SSLContext) -> None:
    server = smtp_factory("starttls", user="render@studio.test", password=PASSWORD)
    mail = settings(server.address)
    where = send_mail(mail, build_message(mail, "subject", "body"), timeout=5,
                      ssl_context=client_context)
    assert "STARTTLS" in where
    assert server.logins == [("render@studio.test", PASSWORD)]
    assert len(server.messages) == 1
    assert server.messages[0]["From"] == "Render+ <render@studio.test>"


def test_implicit_tls_with_login(smtp_factory: Callable[..., SmtpServer],
                                 client_context: ssl.SSLContext) -> None:
    server = smtp_factory("implicit", user="render@studio.test", password=PASSWORD)
    mail = settings(server.address, ssl_on=True)
    where = send_mail(mail, build_message(mail, "subject", "body"), timeout=5,
                      ssl_context=client_context)
    assert "(TLS)" in where
    assert [m["Subject"] for m in server.messages] == ["subject"]


def test_untrusted_certificate_stops_before_the_password(
        smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory("starttls", user="render@studio.test", password=PASSWORD)
    mail = settings(server.address)
    with pytest.raises(MailError, match="certificate") as caught:
        send_mail(mail, build_message(mail, "subject", "body"), timeout=5,
                  ssl_context=ssl.create_default_context())  # does not know the test CA
    assert PASSWORD not in str(caught.value)
    assert server.logins == [] and server.messages == []


def test_wrong_password_is_a_clear_message(smtp_factory: Callable[..., SmtpServer],
                                           client_context: ssl.SSLContext) -> None:
    server = smtp_factory("starttls", user="render@studio.test", password="the-right-one")
    mail = settings(server.address, password=PASSWORD)
    with pytest.raises(MailError, match="refused the login") as caught:
        send_mail(mail, build_message(mail, "subject", "body"), timeout=5,
                  ssl_context=client_context)
    assert PASSWORD not in str(caught.value)
    assert server.messages == []


def test_refused_connection_is_a_message(closed_port: int) -> None:
    mail = settings(f"127.0.0.1:{closed_port}")
    with pytest.raises(MailError, match="cannot connect"):
        send_mail(mail, build_message(mail, "subject", "body"), timeout=5)


def test_silent_server_times_out(silent_server: int) -> None:
    mail = settings(f"127.0.0.1:{silent_server}")
    with pytest.raises(MailError, match=f"127.0.0.1:{silent_server}"):
        send_mail(mail, build_message(mail, "subject", "body"), timeout=0.5)


def test_next_endpoint_when_the_first_is_down(smtp_factory: Callable[..., SmtpServer],
                                              closed_port: int) -> None:
    """The 587-then-25 fallback (docs/api.md, Mail), on loopback ports."""
    server = smtp_factory("none")
    mail = settings("127.0.0.1", user="", password="")
    where = send_mail(mail, build_message(mail, "subject", "body"), timeout=5, endpoints=[
        Endpoint("127.0.0.1", closed_port, "starttls"), Endpoint("127.0.0.1", server.port, "starttls")])
    assert str(server.port) in where
    assert len(server.messages) == 1


def test_watchers_mail_over_starttls_trusting_ssl_cert_file(
        smtp_factory: Callable[..., SmtpServer], ca_file: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner's path: the system trust store (here SSL_CERT_FILE) decides, as in production."""
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server = smtp_factory("starttls", user="render@studio.test", password=PASSWORD)
    recipe = recipe_with(jobs=4, notifications=mail_section(
        server.address, user="render@studio.test", password=PASSWORD))
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append)
    watchers.batch_ended(ended_view())
    watchers.close()
    assert reports == []
    [message] = server.messages
    assert message["Subject"].startswith('Render+: batch "shots.blend" FINISHED')
    assert message["To"] == "lead@studio.test"
    assert PASSWORD not in message.as_string()


def test_watchers_report_a_refused_login_without_the_password(
        smtp_factory: Callable[..., SmtpServer], ca_file: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    server = smtp_factory("starttls", user="render@studio.test", password="another")
    recipe = recipe_with(jobs=4, notifications=mail_section(
        server.address, user="render@studio.test", password=PASSWORD))
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append)
    with caplog.at_level(logging.DEBUG):
        watchers.batch_ended(ended_view())
    watchers.close()
    assert len(reports) == 1
    assert "not sent" in reports[0] and "refused the login" in reports[0]
    assert PASSWORD not in reports[0] and PASSWORD not in caplog.text
    assert server.messages == []


def test_watchers_survive_a_dead_server_and_go_on(silent_server: int) -> None:
    recipe = recipe_with(jobs=4, notifications=mail_section(f"127.0.0.1:{silent_server}"))
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append, mail_timeout=0.5)
    watchers.batch_ended(ended_view())
    watchers.close()
    assert len(reports) == 1 and "not sent" in reports[0]


def test_long_subject_with_the_dash_survives_the_trip(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory("none")
    mail = settings(server.address, user="", password="")
    view = replace(ended_view(), name="/projects/" + "very_long_shot_name_" * 4 + ".blend")
    subject = mail_subject(view)
    send_mail(mail, build_message(mail, subject, "body"), timeout=5)
    assert server.messages[0]["Subject"] == subject
