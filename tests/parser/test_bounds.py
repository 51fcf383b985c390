"""Issue 9: nothing a JobProgress keeps grows with Blender's output, data never goes stale, and
a whole-range animation (two million frames) is never expanded."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renderplus.batch.frames import FrameSet
from renderplus.batch.markers import format_marker
from renderplus.batch.parser import (
    MAX_ERRORS,
    MAX_KEPT_CHARS,
    MAX_LINE_CHARS,
    MAX_PATHS,
    TAIL_LINES,
    JobProgress,
    normalize_engine,
)

BIG = 4_000_000  # a few MB: the same path as the 200 MB line of the report, at a test's cost


def _kept_chars(progress: JobProgress) -> int:
    """Every character a job holds from its output."""
    strings = [*progress.errors, *progress.tail(TAIL_LINES), *progress.saved_files,
               *progress.skipped_files, *progress.data.values(), progress.fatal_message or ""]
    return sum(len(text) for text in strings)


# -- caps ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "Error: " + "x" * BIG,
    "x" * BIG,
    "Saved: '" + "/a" * (BIG // 2) + "'",
    "Fra:1 Mem:" + "9" * BIG + "M (Peak 1M) | Time:00:00.01 | Sample 1/4",
    "System is out of GPU and shared host memory" + " !" * BIG,
    ("Error: " + "é" * BIG).encode(),
], ids=["error", "noise", "saved-path", "status-field", "fatal", "bytes"])
def test_a_huge_line_is_not_kept_whole(line: str | bytes) -> None:
    progress = JobProgress(frames=[1], engine="CYCLES")
    progress.feed(line)
    assert _kept_chars(progress) <= MAX_LINE_CHARS + 3 * MAX_KEPT_CHARS


def test_saved_paths_keep_the_last_ones_and_count_all() -> None:
    progress = JobProgress(frames=range(1, 1501))
    for frame in range(1, 1501):
        progress.feed(f"Saved: '/out/f_{frame:04d}.png'")
        progress.feed(" Time: 00:00.10 (Saving: 00:00.01)")
    assert progress.saved_count == 1500 and progress.frames_done == 1500
    assert len(progress.saved_files) == MAX_PATHS
    assert progress.saved_files[-1] == "/out/f_1500.png" and progress.saved_files[0] == "/out/f_0501.png"


def test_skipped_paths_keep_the_last_ones_and_count_all() -> None:
    progress = JobProgress(frames=range(1, 1201))
    for frame in range(1, 1201):
        progress.feed(f'skipping existing frame "/out/f_{frame:04d}.png"')
    assert progress.skipped_count == 1200 and progress.frames_done == 1200
    assert len(progress.skipped_files) == MAX_PATHS and progress.skipped_files[-1] == "/out/f_1200.png"


def test_errors_and_tail_are_bounded() -> None:
    progress = JobProgress(frames=[1])
    for index in range(5000):
        progress.feed(f"Error: Python: failure {index}")
        progress.feed(f"Traceback line {index}")
    assert len(progress.errors) == MAX_ERRORS + 1
    assert len(progress.tail(10_000)) == TAIL_LINES
    assert progress.tail(2) == ["Error: Python: failure 4999", "Traceback line 4999"]


def test_frames_outside_the_list_are_counted_not_kept() -> None:
    progress = JobProgress()  # frames unknown: every Saved: line counts under a synthetic number
    for frame in range(30_000):
        progress.feed(f"Saved: '/out/{frame}.png'")
        progress.feed(" Time: 00:00.10 (Saving: 00:00.01)")
    assert progress.frames_done == 30_000
    assert len(progress._done._other) <= 10_000  # bounded (done.MAX_OTHER_FRAMES)


def test_tail_skips_status_blank_and_marker_lines() -> None:
    progress = JobProgress(frames=[1], engine="CYCLES")
    for line in ["Read blend: /render/x.blend", "",
                 "Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.09 | Mem:0.76M, Peak:0.76M | Scene, ViewLayer"
                 " | Sample 0/4",
                 format_marker("ready", engine="CYCLES", frames="1"), "   ",
                 format_marker("error", message="Camera 'Cam2' not found in scene 'Scene'")]:
        progress.feed(line)
    assert progress.tail() == ["Read blend: /render/x.blend", "Camera 'Cam2' not found in scene 'Scene'"]


@settings(max_examples=int(os.environ.get("RENDERPLUS_FUZZ_EXAMPLES", "200")), deadline=None)
@given(st.lists(st.one_of(st.text(max_size=300), st.binary(max_size=300),
                          st.sampled_from(["Fra:1 Mem:1M (Peak 1M) | Time:00:00.01 | Sample 1/2",
                                           "00:00.100  render           | Fra: 2 | Mem: 1M | Sample 1/2",
                                           "Saved: '/o.png'", "Blender quit", "Video append frame 2",
                                           "Error: Out of memory", format_marker("ready", frames="1-3"),
                                           format_marker("frame", frame=2)])), max_size=60))
def test_any_output_keeps_state_consistent(lines: list[str | bytes]) -> None:
    progress = JobProgress(frames=[1, 2, 3])
    last = 0.0
    for line in lines:
        progress.feed(line)
        assert last <= progress.progress <= 100.0
        last = progress.progress
    assert progress.frames_done <= progress.frames_total
    assert all(len(text) <= MAX_KEPT_CHARS + 40 for text in [*progress.errors, *progress.tail(TAIL_LINES)])


# -- stale engine data ---------------------------------------------------------------------------

CYCLES_REMAINING = ("Fra:1 Mem:12.55M (Peak 12.55M) | Time:00:03.44 | Remaining:00:00.76 | Mem:3.39M,"
                    " Peak:3.39M | Scene, ViewLayer | Sample 80/256")


@pytest.mark.parametrize("end", ["Saved: '/out/a_0001.png'", format_marker("frame", frame=1, path="/o.png"),
                                 "Append frame 1", 'skipping existing frame "/out/a_0001.png"'])
def test_a_done_frame_drops_remaining_and_samples(end: str) -> None:
    progress = JobProgress(frames=[1], engine="CYCLES")
    progress.feed(CYCLES_REMAINING)
    assert progress.data["remaining"] == "00:00.76"
    assert progress.feed(end)
    assert progress.progress == 100.0
    assert progress.data == {"frame": "1", "mem": "12.55M", "elapsed": "00:03.44"}


def test_5x_elapsed_is_the_frames_time_on_every_line() -> None:
    """Frame 1 is the real 5.0.1 log; frame 2 (synthetic) follows its format. ``elapsed`` is the
    frame's time: the log time since the frame began, then Blender's own ``Time:``."""
    progress = JobProgress(frames=[1, 2], engine="CYCLES")
    seen = []
    for line in ["01:45.191  render           | Fra: 1 | Remaining: 00:14.53 | Mem: 1699M | Sample 112/128",
                 "02:19.739  render           | Saved: '/tmp/0001.png'",
                 "02:19.739  render           | Time: 02:19.28 (Saving: 00:00.31)",
                 "02:25.000  render           | Fra: 2 | Mem: 1699M | Sample 1/128",
                 "02:30.739  render           | Fra: 2 | Mem: 1699M | Sample 64/128"]:
        progress.feed(line)
        seen.append(progress.data.get("elapsed"))
    assert seen == ["01:45.19", "01:45.19", "02:19.28", "00:05.26", "00:11.00"]


# -- engine ids per version ---------------------------------------------------------------------

@pytest.mark.parametrize(("engine", "version", "expected"), [
    ("BLENDER_EEVEE_NEXT", "4.2.1", "BLENDER_EEVEE_NEXT"),
    ("BLENDER_EEVEE", "4.5.4", "BLENDER_EEVEE_NEXT"),
    ("BLENDER_EEVEE_NEXT", "5.0.1", "BLENDER_EEVEE"),
    ("BLENDER_EEVEE", "5.2.1", "BLENDER_EEVEE"),
    ("BLENDER_EEVEE", "3.4.1", "BLENDER_EEVEE"),
    ("BLENDER_EEVEE_NEXT", None, "BLENDER_EEVEE_NEXT"),
    ("CYCLES", "5.0.1", "CYCLES"),
    ("octane", "5.0.1", "NON_COMPATIBLE"),
])
def test_normalize_engine_per_version(engine: str, version: str | None, expected: str) -> None:
    assert normalize_engine(engine, version) == expected


def test_recipe_eevee_id_follows_the_blender_that_renders() -> None:
    progress = JobProgress(frames=[1], engine="BLENDER_EEVEE_NEXT")  # a recipe written for 4.x
    progress.feed("Blender 5.2.1 LTS (hash 9e2066aef7ef built 2026-08-25 01:35:57)")
    assert progress.engine_type == "BLENDER_EEVEE"
    marker = JobProgress(frames=[1], engine="")
    marker.feed(format_marker("ready", engine="BLENDER_EEVEE_NEXT", frames="1", blender="4.2.1"))
    assert marker.engine_type == "BLENDER_EEVEE_NEXT"


# -- whole-range frame sets ----------------------------------------------------------------------

@pytest.fixture
def never_expanded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail on any walk over a FrameSet (list(), tuple(), for, slices)."""
    def refuse(*_args: object) -> None:
        raise AssertionError("a FrameSet was expanded")
    original = FrameSet.__getitem__

    def single_items_only(self: FrameSet, index: int | slice) -> object:
        if isinstance(index, slice):
            refuse()
        return original(self, index)
    monkeypatch.setattr(FrameSet, "__iter__", refuse)
    monkeypatch.setattr(FrameSet, "__getitem__", single_items_only)


@pytest.mark.usefixtures("never_expanded")
def test_whole_range_job_is_never_expanded() -> None:
    frames = FrameSet.span(-1048574, 1048574)
    progress = JobProgress(frames=frames, engine="CYCLES")
    assert progress.frames is frames and progress.frames_total == 2_097_149
    for frame in range(-1048574, -1048574 + 200):
        progress.feed(f"Fra:{frame} Mem:1M (Peak 1M) | Time:00:00.01 | Mem:1M, Peak:1M | Scene, ViewLayer"
                      " | Sample 1/2")
        progress.feed(format_marker("frame", frame=frame, path=f"/out/{frame}.png"))
    progress.feed(format_marker("frame", frame=1048574, path="/out/last.png"))  # out of order
    assert progress.frames_done == 201
    assert 0 < progress.progress < 0.01
    assert len(progress._done._ahead) == 1  # the done prefix is an index, not a set of frames


@pytest.mark.usefixtures("never_expanded")
def test_ready_marker_carries_a_range_spec() -> None:
    progress = JobProgress(frames=FrameSet.span(1, 10), engine="")
    progress.feed(format_marker("ready", engine="CYCLES", frames="-1048574..1048574"))
    assert progress.frames == FrameSet.span(-1048574, 1048574) and progress.frames_total == 2_097_149


def test_ready_marker_list_form_is_still_read() -> None:
    progress = JobProgress(frames=[1], engine="")
    progress.feed(format_marker("ready", engine="CYCLES", frames=[5, 6, 7]))
    assert list(progress.frames) == [5, 6, 7]


def test_a_guess_proved_wrong_inside_the_done_prefix() -> None:
    """Workbench without frame numbers: two Saved: lines guess frames 1 and 2; the first marker
    says the last one was frame 3, so frame 2 is not done after all."""
    progress = JobProgress(frames=FrameSet.span(1, 4), engine="BLENDER_WORKBENCH")
    progress.feed("Saved: '/out/a.png'")
    progress.feed(" Time: 00:00.10 (Saving: 00:00.01)")
    progress.feed("Saved: '/out/b.png'")
    progress.feed(format_marker("frame", frame=3, path="/out/b.png"))
    assert progress.frames_done == 2
    progress.feed(format_marker("frame", frame=2, path="/out/c.png"))
    progress.feed(format_marker("frame", frame=4, path="/out/d.png"))
    assert progress.frames_done == 4 and progress.progress == 100.0
