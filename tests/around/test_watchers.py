"""BatchWatchers as the runner sees it: order of the notices, and no failure ever escapes."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import pytest

from renderplus.around import BatchWatchers
from renderplus.around import watchers as watchers_module
from renderplus.batch.view import BatchView

from .conftest import NotificationListener, SmtpServer
from .views import batch_view, job_view, mail_section, recipe_with

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("notify-send") is None,
                                 reason="notify-send (libnotify-bin) is not installed")]


def ended() -> BatchView:
    return batch_view([job_view(0, "FINISHED", rendertime=4.0),
                       job_view(1, "FAILED", rendertime=1.0)], status="FINISHED")


def test_one_failure_does_not_stop_the_next_and_power_comes_last(
        notifications: NotificationListener, smtp_factory: Callable[..., SmtpServer],
        tmp_path: Path) -> None:
    server = smtp_factory("none")
    seen_at_power: list[tuple[int, int]] = []

    def power_runner(argv: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        seen_at_power.append((len(notifications.calls), len(server.messages)))
        return subprocess.CompletedProcess(list(argv), 0)

    recipe = recipe_with(jobs=2, poweroff={"enabled": True, "action": "POWEROFF"}, notifications={
        "desktop": True,
        "sound": {"enabled": True, "file": str(tmp_path / "missing.ogg"), "volume": 10},
        **mail_section(server.address)})
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append, power_runner=power_runner,
                             poweroff_grace=0.0, platform="linux")
    watchers.batch_ended(ended())
    assert watchers.wait_poweroff(30)
    watchers.close()
    assert seen_at_power == [(1, 1)]  # the desktop notice and the mail went out before
    assert any("missing.ogg" in r for r in reports)  # the sound failed, the mail still went
    assert server.messages[0]["Subject"].endswith("1 of 2 jobs finished, 1 failed")


def test_a_crashing_notifier_or_report_never_escapes(
        notifications: NotificationListener, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_mail(*args: object, **kwargs: object) -> str:
        raise RuntimeError("bug in the mail code")

    monkeypatch.setattr(watchers_module, "send_mail", broken_mail)
    recipe = recipe_with(jobs=2, notifications={"desktop": True, **mail_section("127.0.0.1:1")})
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append)
    watchers.batch_ended(ended())
    assert reports == ["Mail failed: RuntimeError: bug in the mail code"]
    assert len(notifications.wait_for(1)) == 1  # the desktop notice before it went out

    def broken_report(message: str) -> None:
        raise OSError("log disk full")

    watchers = BatchWatchers(recipe, broken_report)
    watchers.job_changed(cast(BatchView, None))  # a bug upstream: job_changed still returns
    watchers.batch_ended(ended())  # the mail fails again and reporting it fails: no exception
    watchers.close()


def test_batch_ended_notifies_once(notifications: NotificationListener) -> None:
    recipe = recipe_with(jobs=2, notifications={"desktop": True})
    watchers = BatchWatchers(recipe, lambda message: None)
    watchers.batch_ended(ended())
    watchers.batch_ended(ended())
    watchers.close()
    watchers.job_changed(ended())  # after close: ignored
    assert len(notifications.wait_for(2, timeout=2)) == 1
