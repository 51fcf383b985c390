"""A duration in words people read: ``12.3 s``, ``4 min 05 s``, ``1 h 02 min 05 s``.

One wording wherever a person reads how long something took or has left: the add-on's panels,
the mail, the desktop notification and the RSS feed (the CLI's bars keep a clock, ``01:15``,
for their fixed-width columns). Past an hour the seconds stay, so the same batch reads the same
in the panel and in its mail.
"""

from __future__ import annotations

import math


def format_duration(seconds: float | None) -> str:
    """``12.3 s``, ``4 min 05 s``, ``1 h 02 min 05 s``; ``-`` when unknown (None, NaN,
    infinite). A negative time (a clock stepped back) reads as ``0.0 s``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    seconds = max(0.0, float(seconds))
    if round(seconds, 1) < 60:  # 59.96 s reads 1 min 00 s, not 60.0 s
        return f"{seconds:.1f} s"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"
