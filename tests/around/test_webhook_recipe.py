"""The recipe's ``notifications.webhook``: what is refused (with its path, never echoing the URL),
the defaults, and the URL kept as a secret: ``***`` in a stored recipe, restored from the
batch's secrets file, and said when that file is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.recipe import RecipeError, parse_recipe
from renderplus.batch.recipe.model import WEBHOOK_EVENTS
from renderplus.batch.secrets import SecretFiles, secrets_of

SECRET = "AbC-123-sEcReT"
URL = f"https://discord.com/api/webhooks/42/{SECRET}"


def recipe(webhook: dict[str, Any]) -> Any:
    return parse_recipe({"version": 2.2, "notifications": {"webhook": webhook},
                         "jobs": [{"blend_file": "/projects/shots.blend"}]})


def errors(webhook: dict[str, Any]) -> list[str]:
    with pytest.raises(RecipeError) as caught:
        recipe(webhook)
    found = [str(issue) for issue in caught.value.errors]
    assert all(SECRET not in text for text in found)
    return found


def test_defaults_are_off_json_and_every_event() -> None:
    settings = recipe({}).notifications.webhook
    assert (settings.enabled, settings.url, settings.preset) == (False, "", "json")
    assert settings.events == list(WEBHOOK_EVENTS) == ["batch_end", "queue_end", "job_failed", "paused"]


@pytest.mark.parametrize(("url", "why"), [
    (f"ftp://files.studio.test/{SECRET}", "must be an http:// or https:// address (got ftp: scheme)"),
    (f"file:///home/me/{SECRET}", "must be an http:// or https:// address (got file: scheme)"),
    (f"discord.com/api/webhooks/{SECRET}", "must be an http:// or https:// address (got no scheme)"),
    (f"https:///{SECRET}", "must name a host (https://host/...)"),
    (f"https://host:99999/{SECRET}", "must be an http(s) address (it cannot be read as one)"),
    (f"https://host/{SECRET} x", "must be an http(s) address without spaces or control characters"),
])
def test_an_address_that_is_not_http_is_an_error_with_its_path(url: str, why: str) -> None:
    assert errors({"enabled": True, "url": url}) == [f"notifications.webhook.url: {why}"]


def test_every_problem_at_once_naming_what_is_allowed() -> None:
    assert errors({"enabled": True, "preset": "teams", "events": ["job_end", "paused", "paused"]}) == [
        "notifications.webhook.preset: must be one of json, discord, slack, ntfy (got \"teams\")",
        "notifications.webhook.events[0]: unknown \"job_end\": must be one of batch_end, queue_end, "
        "job_failed, paused",
        "notifications.webhook.events[2]: \"paused\" is given twice",
        "notifications.webhook.url: is required when the webhook is enabled",
    ]
    assert errors({"events": "paused"}) == [
        "notifications.webhook.events: must be a list of batch_end, queue_end, job_failed, paused "
        "(got \"paused\")"]


def test_the_url_is_a_secret_kept_aside_for_a_waiting_batch(tmp_path: Path) -> None:
    given = recipe({"enabled": True, "url": URL, "preset": "discord", "events": ["job_failed"]})
    stored_text = given.to_json(redact=True)
    assert SECRET not in stored_text and SECRET not in repr(given)
    assert json.loads(stored_text)["notifications"]["webhook"] == {
        "enabled": True, "url": "***", "preset": "discord", "events": ["job_failed"]}
    assert secrets_of(given) == {"notifications.webhook.url": URL}
    files = SecretFiles(tmp_path / "secrets")
    assert files.keep("batch-7", given) is None
    assert (files.path("batch-7").stat().st_mode & 0o777) == 0o600
    stored = parse_recipe(stored_text)            # a stored recipe reads back, "***" and all
    assert files.restore("batch-7", stored) is None
    assert stored.notifications.webhook.url == URL
    lost = parse_recipe(stored_text)
    files.remove("batch-7")
    said = files.restore("batch-7", lost)
    assert said is not None and "notifications.webhook.url is empty now" in said
    assert lost.notifications.webhook.url == ""
