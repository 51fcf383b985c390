"""The one wording of a batch (mail, desktop notice, feed) and the password that never shows."""

from __future__ import annotations

import math
import time

import pytest

from renderplus.around import BatchWatchers
from renderplus.around.summary import (
    batch_title,
    format_time,
    headline,
    job_counts,
    job_label,
    outcome_text,
    redact,
)
from renderplus.batch.view import BatchView

from .views import T0, batch_view, job_view, recipe_with

PASSWORD = "summary-Secret-7"


def test_a_finished_batch() -> None:
    view = batch_view([job_view(i, "FINISHED", rendertime=2.0) for i in range(3)], status="FINISHED")
    assert outcome_text(view) == "3 of 3 jobs finished"
    assert headline(view) == 'Render+: batch "shots.blend" FINISHED — 3 of 3 jobs finished'


def test_a_single_job_is_one_job() -> None:
    view = batch_view([job_view(0, "FINISHED", rendertime=2.0)], status="FINISHED")
    assert outcome_text(view) == "1 of 1 job finished"


def test_a_batch_with_a_failed_job_and_a_disabled_one() -> None:
    view = batch_view([job_view(0, "FINISHED", rendertime=2.0), job_view(1, "FAILED"),
                       job_view(2, "DISABLED")], status="FINISHED")
    counts = job_counts(view)
    assert (counts.total, counts.finished, counts.failed, counts.done) == (2, 1, 1, 2)
    assert headline(view) == 'Render+: batch "shots.blend" FINISHED — 1 of 2 jobs finished, 1 failed'


def test_a_cancelled_batch() -> None:
    view = batch_view([job_view(0, "FINISHED", rendertime=2.0), job_view(1, "FAILED"),
                       job_view(2, "CANCELLED"), job_view(3, "CANCELLED")], status="CANCELLED")
    assert headline(view) == ('Render+: batch "shots.blend" CANCELLED — '
                              "1 of 4 jobs finished, 1 failed, 2 cancelled")


def test_a_running_batch_counts_the_running_job_as_not_done() -> None:
    view = batch_view([job_view(0, "FINISHED", rendertime=2.0), job_view(1, "RUNNING"),
                       job_view(2, "QUEUED")])
    counts = job_counts(view)
    assert (counts.total, counts.done, counts.running) == (3, 1, 1)
    assert outcome_text(view) == "1 of 3 jobs finished"


@pytest.mark.parametrize(("name", "fallback", "title"), [
    ("/projects/shots.blend", "", "shots.blend"),
    ("C:\\projects\\shots.blend", "", "shots.blend"),
    ("", "/recipes/fallback.blend", "fallback.blend"),
    ("", "", "untitled batch"),
    ("/", "", "untitled batch"),
])
def test_batch_title_is_the_file_name(name: str, fallback: str, title: str) -> None:
    assert batch_title(BatchView.from_json({"name": name}), fallback) == title


def test_job_label_with_and_without_a_name() -> None:
    assert job_label(job_view(2, "QUEUED", name="Closeup")) == '#2 "Closeup"'
    assert job_label(job_view(2, "QUEUED")) == "#2"


def test_format_time_is_local_wall_clock_or_a_dash() -> None:
    assert format_time(T0) == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(T0))
    assert format_time(None) == "-"
    assert format_time(1e300) == "-"  # beyond what the platform's clock can show
    assert format_time(math.nan) == "-"


def test_redact_replaces_every_occurrence_and_ignores_an_empty_secret() -> None:
    assert redact(f"login {PASSWORD} failed, {PASSWORD}", PASSWORD) == "login *** failed, ***"
    assert redact("nothing to hide", "") == "nothing to hide"


def test_the_watchers_redact_the_mail_password_in_every_report() -> None:
    """A report that happens to quote the password (here a sound file named after it) is
    scrubbed before it reaches the batch's messages, even with the mail turned off."""
    recipe = recipe_with(jobs=1, notifications={
        "sound": {"enabled": True, "file": f"/nonexistent/{PASSWORD}.ogg", "volume": 10},
        "mail": {"enabled": False, "server": "smtp.test", "user": "render@studio.test",
                 "pass": PASSWORD, "to": "lead@studio.test"}})
    assert recipe.notifications.mail.password == PASSWORD
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append)
    watchers.batch_ended(batch_view([job_view(0, "FINISHED", rendertime=1.0)], status="FINISHED"))
    watchers.close()
    assert reports == ["No notification sound: the sound file /nonexistent/***.ogg does not exist"]
