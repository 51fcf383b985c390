"""Blender's time texts: ``MM:SS.cc`` (``HH:MM:SS.cc`` past an hour) and 5.x log times.

5.x status lines carry no frame time, only the log prefix's time since Blender started
(``02:19.277``). ``JobProgress`` shows ``elapsed`` as the current frame's render time in every
version, so it subtracts the log time at which the frame began and prints the difference the
way Blender prints its own ``Time:``.
"""

from __future__ import annotations


def seconds_of(text: str) -> float | None:
    """``"02:19.277"`` -> 139.277, ``"1:02:03.5"`` -> 3723.5; None when it is not a time."""
    total = 0.0
    try:
        for part in text.split(":"):
            total = total * 60 + float(part)
    except ValueError:
        return None
    return total


def clock_text(seconds: float) -> str:
    """139.277 -> ``"02:19.28"``, as Blender prints a frame's time."""
    hundredths = max(0, round(seconds * 100))
    hours, rest = divmod(hundredths, 360_000)
    minutes, rest = divmod(rest, 6000)
    whole, cents = divmod(rest, 100)
    if hours:
        return f"{hours:02d}:{minutes:02d}:{whole:02d}.{cents:02d}"
    return f"{minutes:02d}:{whole:02d}.{cents:02d}"
