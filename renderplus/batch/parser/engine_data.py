"""The ``data`` dict a poll shows of a job's engine, updated from status lines.

Strings as Blender printed them. Per-frame values (``remaining``, samples, tiles) belong to the
frame that printed them: they go when the next frame starts or the frame is done, so a finished
job never shows a stale ``remaining 00:00.76``. Every update returns a new dict (or None when
nothing differs): readers on other threads hold a dict that never changes under them.
"""

from __future__ import annotations

from typing import Final

from .lines import Event

PROGRESS_KEYS: Final = ("samples_done", "samples_todo", "tiles_done", "tiles_todo")
PER_FRAME_KEYS: Final = ("remaining", *PROGRESS_KEYS)


def status_data(old: dict[str, str], event: Event, elapsed: str | None, samples: int | None,
                new_frame: bool) -> dict[str, str] | None:
    """``old`` after the status line ``event`` (``elapsed``: its frame time, worked out by the
    caller); None when nothing changed. ``samples`` fills a missing total (ready marker)."""
    data: dict[str, str] | None = None  # a copy, made only when a value differs
    if new_frame:
        data = {key: value for key, value in old.items() if key not in PER_FRAME_KEYS}
        data["frame"] = str(event.frame)
    current = old if data is None else data
    mem, remaining = event.mem, event.remaining
    if mem is not None and current.get("mem") != mem:
        if data is None:
            current = data = old.copy()
        data["mem"] = mem
    if elapsed is not None and current.get("elapsed") != elapsed:
        if data is None:
            current = data = old.copy()
        data["elapsed"] = elapsed
    if current.get("remaining") != remaining:
        if data is None:
            current = data = old.copy()
        if remaining is None:
            del data["remaining"]
        else:
            data["remaining"] = remaining
    if event.samples_done is not None or event.tiles_todo is not None:
        progress = progress_data(event, samples)
        if any(current.get(key) != progress.get(key) for key in PROGRESS_KEYS):
            if data is None:
                data = old.copy()
            for key in PROGRESS_KEYS:
                data.pop(key, None)
            data.update(progress)
    return data


def progress_data(event: Event, samples: int | None) -> dict[str, str]:
    """The samples/tiles a progress line shows; it replaces the last one's entirely
    (``Tile 64/64`` after ``Tile 64/64, Sample 1/1`` has no samples any more)."""
    progress: dict[str, str] = {}
    if event.samples_done is not None:
        progress["samples_done"] = str(event.samples_done)
        if event.samples_todo is not None:
            progress["samples_todo"] = str(event.samples_todo)
        elif samples:
            progress["samples_todo"] = str(samples)
    if event.tiles_todo is not None:
        progress["tiles_done"] = str(event.tiles_done)
        progress["tiles_todo"] = str(event.tiles_todo)
    return progress


def without_frame_data(data: dict[str, str]) -> dict[str, str] | None:
    """``data`` without the per-frame values; None when it holds none."""
    if any(key in data for key in PER_FRAME_KEYS):
        return {key: value for key, value in data.items() if key not in PER_FRAME_KEYS}
    return None
