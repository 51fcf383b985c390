"""Property: over every fixture, progress never goes back, stays in 0..100, and is 100 exactly
when every frame is done — whatever the recipe's engine, with or without markers, and even
when lines arrive out of order."""

from __future__ import annotations

import random

import pytest

from renderplus.batch.markers import format_marker
from renderplus.batch.parser import EventKind, JobProgress, parse_line

from .logs import error_cases, public_logs, read_lines, stdout_logs

ENGINES = ["", "CYCLES", "BLENDER_EEVEE", "BLENDER_WORKBENCH", "LUXCORE"]


def _logs() -> list[tuple[str, list[str]]]:
    logs = [(path.name, read_lines(path)) for path in [*stdout_logs(), *public_logs()]]
    logs += [(f"errors-3.4.txt#{case.name}", case.stdout) for case in error_cases()]
    return logs


LOGS = _logs()


def _frames_of(lines: list[str]) -> list[int]:
    """The frames a log renders: its status lines' frame numbers, else one per saved file."""
    frames = sorted({event.frame for line in lines
                     if (event := parse_line(line)) is not None
                     and event.kind in (EventKind.STATUS, EventKind.FINISHED) and event.frame is not None})
    if frames:
        return frames
    saved = sum(1 for line in lines
                if (event := parse_line(line)) is not None and event.kind is EventKind.SAVED)
    return list(range(1, max(saved, 1) + 1))


def _check(lines: list[str], frames: list[int], engine: str) -> JobProgress:
    progress = JobProgress(frames=frames, engine=engine)
    last = 0.0
    for line in lines:
        progress.feed(line)
        value = progress.progress
        assert last <= value <= 100.0, line
        assert progress.frames_done <= len(frames)
        assert (value == 100.0) == (progress.frames_done == len(frames)), line
        last = value
    return progress


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "lines"), LOGS, ids=[name for name, _ in LOGS])
def test_progress_is_monotonic(name: str, lines: list[str], engine: str) -> None:
    _check(lines, _frames_of(lines), engine)


@pytest.mark.parametrize(("name", "lines"), LOGS, ids=[name for name, _ in LOGS])
def test_progress_is_monotonic_with_markers(name: str, lines: list[str]) -> None:
    frames = _frames_of(lines)
    marked = [format_marker("ready", engine="CYCLES", frames=frames, samples=16, blender="4.4.0")]
    written = 0
    for line in lines:
        marked.append(line)
        event = parse_line(line)
        if event is not None and event.kind is EventKind.SAVED and written < len(frames):
            marked.append(format_marker("frame", frame=frames[written], path=event.text))
            written += 1
    progress = _check(marked, frames, "")
    plain = _check(lines, frames, "")
    assert progress.frames_done == plain.frames_done
    assert progress.saved_files == plain.saved_files


@pytest.mark.parametrize("seed", range(5))
def test_progress_is_monotonic_on_shuffled_lines(seed: int) -> None:
    rng = random.Random(seed)
    lines = [line for _, log in LOGS for line in log]
    rng.shuffle(lines)
    chunk = lines[: 400 + seed * 100]
    _check(chunk, _frames_of(chunk), rng.choice(ENGINES))


def test_a_job_with_more_frames_than_the_log_never_reaches_100() -> None:
    for name, lines in LOGS:
        progress = _check(lines, list(range(1, 101)), "")
        assert progress.progress < 100.0, name
