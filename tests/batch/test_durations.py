"""One duration wording for the panel, the mail, the feed and the notices."""

from __future__ import annotations

import math

import pytest

from renderplus.around import summary
from renderplus.batch.durations import format_duration


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "-"), (math.nan, "-"), (math.inf, "-"), (-3.0, "0.0 s"), (0.0, "0.0 s"), (12.34, "12.3 s"),
    (59.94, "59.9 s"), (59.96, "1 min 00 s"), (60.0, "1 min 00 s"), (245.0, "4 min 05 s"),
    (3599.4, "59 min 59 s"), (3599.6, "1 h 00 min 00 s"), (3725.0, "1 h 02 min 05 s"),
    (7620.0, "2 h 07 min 00 s"), (90061.0, "25 h 01 min 01 s"),
])
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_the_mail_and_the_feed_use_the_same_formatter() -> None:
    assert summary.format_duration is format_duration
