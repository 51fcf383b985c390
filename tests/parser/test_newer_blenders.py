"""The parser on real stdout of Blender 4.3.2 (3.x/4.x style lines) and 5.2.2 LTS (the 5.x log
prefix), captured from Debian's packages (fixtures/stdout/README.md), and on the 5.x pitfalls:
lines spliced into other lines, errors on the ``reports`` channel, a file save that is not a
frame."""

from __future__ import annotations

import pytest

from renderplus.batch.markers import MARKER_PREFIX
from renderplus.batch.parser import EventKind, FatalKind, JobProgress, parse_line

from .logs import STDOUT_DIR, read_lines, run

OUT = "/render/out"
CASES = [
    # file, frames, recipe engine, progress, engine seen, saved files, errors, fatal
    ("cycles-4.3.txt", [1], "CYCLES", 100.0, "CYCLES", [f"{OUT}/cyc_0001.png"], [], None),
    ("cycles-4.3-anim.txt", [1, 2, 3], "", 100.0, "CYCLES",
     [f"{OUT}/cyca_000{i}.png" for i in (1, 2, 3)], [], None),
    ("eevee-4.3.txt", [1], "BLENDER_EEVEE_NEXT", 100.0, "BLENDER_EEVEE_NEXT",
     [f"{OUT}/eev_0001.png"], [], None),
    ("workbench-4.3-anim.txt", [1, 2, 3], "BLENDER_WORKBENCH", 100.0, "BLENDER_WORKBENCH",
     [f"{OUT}/workbencha_000{i}.png" for i in (1, 2, 3)], [], None),
    ("nocamera-4.3.txt", [1], "", 0.0, None, [], ["Error: Cannot render, no camera"], None),
    ("cycles-4.3-denoise.txt", [1], "CYCLES", 0.0, "CYCLES", [],
     ["Error: Failed to denoise, build has no OpenImageDenoise support"], None),
    ("newer-file-4.3.txt", [1], "", 0.0, None, [],
     ["Error: Cannot read blend file '/render/fix/new52.blend', incomplete header, may be from a "
      "newer version of Blender"], FatalKind.UNREADABLE_FILE),
    ("cycles-5.2.txt", [1], "CYCLES", 100.0, "CYCLES", [f"{OUT}/cyc_0001.png"], [], None),
    ("cycles-5.2-anim.txt", [1, 2, 3], "", 100.0, "CYCLES",
     [f"{OUT}/cyca_000{i}.png" for i in (1, 2, 3)], [], None),
    ("eevee-5.2.txt", [1], "BLENDER_EEVEE", 100.0, "BLENDER_EEVEE", [f"{OUT}/eev_0001.png"], [], None),
    ("workbench-5.2-anim.txt", [1, 2, 3], "BLENDER_WORKBENCH", 100.0, "BLENDER_WORKBENCH",
     [f"{OUT}/workbencha_000{i}.png" for i in (1, 2, 3)], [], None),
    ("nocamera-5.2.txt", [1], "", 0.0, None, [], ["ERROR Cannot render, no camera"], None),
    # 5.2's build has OpenImageDenoise: the same scene renders
    ("cycles-5.2-denoise.txt", [1], "CYCLES", 100.0, "CYCLES", [f"{OUT}/den_0001.png"], [], None),
]


@pytest.mark.parametrize(("name", "frames", "engine", "final", "seen", "saved", "errors", "fatal"),
                         CASES, ids=[case[0] for case in CASES])
def test_real_capture_of_a_newer_blender(name: str, frames: list[int], engine: str, final: float,
                                         seen: str | None, saved: list[str], errors: list[str],
                                         fatal: FatalKind | None) -> None:
    progress, trace = run(read_lines(STDOUT_DIR / name), frames, engine)
    assert progress.progress == pytest.approx(final)
    assert trace == sorted(trace)   # never goes back
    assert progress.frames_done == len(saved) and progress.saved_files == saved
    assert progress.errors == errors
    assert progress.fatal_kind is fatal
    assert progress.engine_type == seen
    assert progress.blender_version == ("4.3.2" if "-4.3" in name else "5.2.2")


SAVED = "00:10.517  render           | Saved: '/render/out/eev_0001.png'"
STATS = "00:10.239  render           | Fra: 1 | Mem: 2M | Rendering 64 / 64 samples"


@pytest.mark.parametrize("line", [
    STATS + SAVED,                                              # a whole 5.x line spliced after stats
    "00:10.239  render           | Fra: 1 | Mem: 2M | Fini" + SAVED,   # cut into a stats line
    "Fra:1 Mem:46.25M (Peak 46.25M) | Time:00:26.46 | Rendering 64 / 64 samples"
    "Saved: '/render/out/eev_0001.png'",                        # 4.x style
], ids=["after", "inside", "4.x"])
def test_a_saved_line_is_found_where_it_starts(line: str) -> None:
    event = parse_line(line)
    assert event is not None and event.kind is EventKind.SAVED
    assert event.text == "/render/out/eev_0001.png"


def test_a_marker_is_found_where_it_starts_and_what_follows_it_is_left() -> None:
    marker = MARKER_PREFIX + '{"event":"frame","frame":3,"path":"/render/out/x_0003.png"}'
    for line in (STATS + marker, marker + STATS, "00:01.000  render  | Fra: 3 | " + marker):
        event = parse_line(line)
        assert event is not None and event.kind is EventKind.FRAME_WRITTEN, line
        assert (event.frame, event.text) == (3, "/render/out/x_0003.png")


def test_an_error_on_the_reports_channel_is_an_error_even_spliced() -> None:
    error = "00:01.567  reports          | ERROR Cannot render, no camera"
    for line in (error, STATS + error):
        event = parse_line(line)
        assert event is not None and event.kind is EventKind.ERROR
        assert event.text == "ERROR Cannot render, no camera"


def test_a_file_save_is_not_a_frame_and_a_python_error_name_is_not_an_error_line() -> None:
    assert parse_line('00:02.010  operator         | Saved "shots.blend"') is None
    progress = JobProgress(frames=[1], engine="")
    progress.feed('00:02.010  operator         | Saved "shots.blend"')
    assert progress.saved_files == [] and progress.frames_done == 0
    assert parse_line("ValueError: boom") is None   # a traceback's last line: not "Error: boom"
