"""Desktop notifications over a real D-Bus session bus, received by a real listener."""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from renderplus.around.desktop import notify_commands, send_notification, session_bus_address
from renderplus.around.watchers import MAX_FAILURE_NOTICES, BatchWatchers

from .conftest import NotificationListener
from .views import batch_view, job_view, recipe_with

pytestmark = pytest.mark.timeout(120)

needs_notify_send = pytest.mark.skipif(shutil.which("notify-send") is None,
                                       reason="notify-send (libnotify-bin) is not installed")
needs_gdbus = pytest.mark.skipif(shutil.which("gdbus") is None, reason="gdbus is not installed")


def only(tool: str):
    return lambda name: shutil.which(name) if name == tool else None


@needs_notify_send
def test_notify_send_reaches_the_notification_service(notifications: NotificationListener) -> None:
    problem = send_notification('Render+: batch "shots.blend" FINISHED', "8 of 8 jobs finished",
                                which=only("notify-send"))
    assert problem is None
    [call] = notifications.wait_for(1)
    assert call.summary == 'Render+: batch "shots.blend" FINISHED'
    assert call.body == "8 of 8 jobs finished"
    assert call.app_name == "Render+"
    assert call.hints["urgency"] == ("y", 1)


@needs_gdbus
def test_gdbus_sends_the_exact_texts_with_the_right_signature(
        notifications: NotificationListener) -> None:
    summary = "Render+: batch \"it's\" FAILED\\ — ünïcode"
    body = "line one\nline 'two'\t<b>"
    assert send_notification(summary, body, critical=True, which=only("gdbus")) is None
    [call] = notifications.wait_for(1)
    assert (call.summary, call.body) == (summary, body)
    assert call.signature == "susssasa{sv}i"
    assert call.hints["urgency"] == ("y", 2)


@needs_notify_send
def test_no_notification_service_on_the_bus_is_a_message(dbus_session: str) -> None:
    environ = {"DBUS_SESSION_BUS_ADDRESS": dbus_session, "PATH": os.environ["PATH"]}
    problem = send_notification("summary", "body", environ=environ, timeout=20)
    assert problem is not None
    assert problem.startswith("No desktop notification:")
    assert "org.freedesktop.Notifications" in problem


def test_no_session_bus_is_a_clear_message(tmp_path: Path) -> None:
    environ = {"XDG_RUNTIME_DIR": str(tmp_path), "PATH": os.environ.get("PATH", "")}
    if session_bus_address(environ) is not None:
        pytest.skip("this machine has a session bus at /run/user/<uid>/bus")
    problem = send_notification("summary", "body", environ=environ, platform="linux")
    assert problem is not None and "no D-Bus session bus" in problem


def test_user_bus_socket_is_found_without_the_variable(tmp_path: Path) -> None:
    (tmp_path / "bus").touch()
    assert session_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)}) == f"unix:path={tmp_path}/bus"
    assert session_bus_address({"DBUS_SESSION_BUS_ADDRESS": "unix:abstract=x"}) == "unix:abstract=x"


def test_no_tool_is_a_clear_message(dbus_session: str) -> None:
    problem = send_notification("s", "b", which=lambda name: None, platform="linux",
                                environ={"DBUS_SESSION_BUS_ADDRESS": dbus_session})
    assert problem is not None and "notify-send" in problem and "libnotify-bin" in problem


def test_macos_and_windows_pass_texts_as_data_not_code() -> None:
    summary, body = 'batch "x" \'; rm -rf ~', "$(evil) `cmd`"
    [mac], _ = notify_commands(summary, body, platform="darwin")
    assert mac.argv[0] == "osascript" and mac.argv[-2:] == [summary, body]
    assert not any(summary in part for part in mac.argv[:-2])
    [win], _ = notify_commands(summary, body, platform="win32")
    assert win.argv[0] == "powershell" and summary not in " ".join(win.argv)
    script = base64.b64decode(win.argv[win.argv.index("-EncodedCommand") + 1]).decode("utf-16-le")
    assert "$env:RENDERPLUS_TOAST_TITLE" in script and "ToastNotificationManager" in script
    assert win.env == {"RENDERPLUS_TOAST_TITLE": summary, "RENDERPLUS_TOAST_BODY": body}


@needs_notify_send
def test_watchers_notify_the_end_and_each_failed_job_once(
        notifications: NotificationListener) -> None:
    recipe = recipe_with(jobs=6, notifications={"desktop": True, "desktop_job_failures": True})
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append)
    statuses = ["FAILED", "QUEUED", "QUEUED", "QUEUED", "QUEUED", "QUEUED"]
    jobs = [job_view(i, s, messages=["Error: out of memory"] if s == "FAILED" else ())
            for i, s in enumerate(statuses)]
    watchers.job_changed(batch_view(jobs))
    watchers.job_changed(batch_view(jobs))  # the same failure again: no second notice
    first = notifications.wait_for(1)
    assert [c.summary for c in first] == ["Render+: job #0 FAILED"]
    assert "out of memory" in first[0].body
    # every job fails: notices stop after MAX_FAILURE_NOTICES, the end notice lists them
    failed = [job_view(i, "FAILED") for i in range(6)]
    watchers.job_changed(batch_view(failed))
    watchers.batch_ended(batch_view(failed, status="FINISHED"))
    watchers.close()
    calls = notifications.wait_for(MAX_FAILURE_NOTICES + 1)
    job_notices = [c for c in calls if c.summary.startswith("Render+: job")]
    assert len(job_notices) == MAX_FAILURE_NOTICES
    end = [c for c in calls if c.summary.startswith("Render+: batch")]
    assert [c.summary for c in end] == ['Render+: batch "shots.blend" FINISHED']
    assert "0 of 6 jobs finished, 6 failed" in end[0].body
    assert end[0].hints["urgency"] == ("y", 2)
    assert reports == []


def test_watchers_report_a_missing_desktop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    if session_bus_address(os.environ) is not None:
        pytest.skip("this machine has a session bus at /run/user/<uid>/bus")
    recipe = recipe_with(jobs=1, notifications={"desktop": True})
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append, platform="linux")
    watchers.batch_ended(batch_view([job_view(0, "FINISHED", rendertime=1.0)],
                                    status="FINISHED"))
    watchers.close()
    assert len(reports) == 1 and "no D-Bus session bus" in reports[0]
