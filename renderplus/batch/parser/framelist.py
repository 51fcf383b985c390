"""A job's frame list as ``JobProgress`` takes it: from the recipe, or from the ready marker.

A FrameSet or a range is taken as it is and never expanded (a whole-range animation is two
million frames); another iterable is checked frame by frame. The ready marker carries a range
spec (``"1-250,300"``, ``FrameSet.to_spec()``); older override scripts sent a list of frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..frames import FrameSet, FrameSpecError, as_frame_set


def checked_frames(frames: Sequence[int] | Iterable[int], what: str) -> Sequence[int]:
    """``frames`` as a sequence: a FrameSet or range as it is (never expanded), others checked."""
    if isinstance(frames, (FrameSet, range)):
        return frames
    if isinstance(frames, (str, bytes)):
        raise TypeError(f"{what} must be a list of frame numbers, not a string")
    try:
        items = tuple(frames)
    except TypeError:
        raise TypeError(f"{what} must be a list of frame numbers, not {type(frames).__name__}") from None
    for item in items:
        if not isinstance(item, int) or isinstance(item, bool):
            raise TypeError(f"{what} must hold whole frame numbers (got {item!r})")
    return items


def marker_frames(value: object) -> Sequence[int] | None:
    """The ready marker's frames: a range spec (``"1-250"``, current) or a list (older scripts);
    None when absent or unreadable."""
    try:
        if isinstance(value, str) and value.strip():
            return FrameSet.parse(value)
        if isinstance(value, list) and value:
            return checked_frames(value, "the ready marker's frames")
    except (TypeError, FrameSpecError):
        return None
    return None


def same_frames(a: Sequence[int], b: Sequence[int]) -> bool:
    """Whether two frame lists hold the same frames in the same order (compared as runs)."""
    if len(a) != len(b):
        return False
    return as_frame_set(a) == as_frame_set(b)
