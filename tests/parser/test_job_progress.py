"""JobProgress over whole real logs, with and without the override script's markers."""

from __future__ import annotations

import pytest

from renderplus.batch.markers import format_marker
from renderplus.batch.parser import MAX_ERRORS, JobProgress

from .logs import PUBLIC_DIR, STDOUT_DIR, error_cases, read_lines, run

F = STDOUT_DIR


# -- the poll example (docs/api.md) ------------------------------------------------------------------

def test_poll_example_values() -> None:
    progress = JobProgress(frames=[1], engine="BLENDER_EEVEE")
    assert progress.feed("Fra:1 Mem:127.56M (Peak 130.02M) | Time:00:00.42 | Rendering 25 / 256 samples")
    assert progress.progress == 9.765625
    assert progress.engine_type == "BLENDER_EEVEE"
    assert progress.data == {"frame": "1", "mem": "127.56M", "elapsed": "00:00.42",
                             "samples_done": "25", "samples_todo": "256"}


# -- whole real 3.4.1 captures ----------------------------------------------------------------

STDOUT_CASES = [
    # file, frames, recipe engine, progress, frames done, saved files, errors, cancelled
    ("cycles-3.4.txt", [1], "CYCLES", 100.0, 1, ["/render/out/cyc_0001.png"], [], False),
    ("cycles-3.4-anim.txt", [1, 2, 3], "", 100.0, 3,
     [f"/render/out/cyca_000{i}.png" for i in (1, 2, 3)], [], False),
    ("cycles-3.4-320x240-256spp.txt", [1], "", 100.0, 1, ["/render/out/big_0001.png"], [], False),
    # one Ctrl+C: sampling reaches 1500/1500 and Finished, then the frame is discarded
    ("cycles-3.4-sigint-once-single.txt", [1], "CYCLES", 99.0, 0, [], [], True),
    # frame 1 saved, frame 2 finished sampling then cancelled, frame 3 never started
    ("cycles-3.4-sigint-once-anim.txt", [1, 2, 3], "CYCLES", (1 + 0.99) * 100 / 3, 1,
     ["/render/sig/sigint_anim/f_0001.png"], [], True),
    ("cycles-3.4-sigint-twice.txt", [1], "CYCLES", 100 / 20000, 0, [], [], False),
    ("cycles-3.4-sigterm.txt", [1], "CYCLES", 100 / 20000, 0, [], [], False),
    ("cycles-3.4-denoise-error.txt", [1], "CYCLES", 0.0, 0, [],
     ["Error: Build without OpenImageDenoiser"], False),
    ("eevee-3.4.txt", [1], "BLENDER_EEVEE", 100.0, 1, ["/render/out/eev_0001.png"], [], False),
    ("eevee-3.4-xvfb.txt", [1], "", 100.0, 1, ["/render/out/eeveex_0001.png"], [], False),
    ("eevee-3.4-anim.txt", [1, 2, 3], "BLENDER_EEVEE", 100.0, 3,
     [f"/render/out/eeveea_000{i}.png" for i in (1, 2, 3)], [], False),
    ("workbench-3.4.txt", [1], "BLENDER_WORKBENCH", 100.0, 1, ["/render/out/workbench_0001.png"], [], False),
    ("workbench-3.4-anim.txt", [1, 2, 3], "BLENDER_WORKBENCH", 100.0, 3,
     [f"/render/out/workbencha_000{i}.png" for i in (1, 2, 3)], [], False),
]


@pytest.mark.parametrize(("name", "frames", "engine", "final", "done", "saved", "errors", "cancelled"),
                         STDOUT_CASES, ids=[case[0] for case in STDOUT_CASES])
def test_real_capture(name: str, frames: list[int], engine: str, final: float, done: int,
                      saved: list[str], errors: list[str], cancelled: bool) -> None:
    progress, _ = run(read_lines(F / name), frames, engine)
    assert progress.progress == pytest.approx(final)
    assert progress.frames_done == done
    assert progress.saved_files == saved
    assert progress.errors == errors
    assert progress.cancelled is cancelled
    assert progress.blender_version == "3.4.1"


def test_cycles_data_follows_the_frame() -> None:
    lines = read_lines(F / "cycles-3.4-320x240-256spp.txt")
    progress = JobProgress(frames=[1])
    seen: list[dict[str, str]] = []
    for line in lines:
        if progress.feed(line):
            seen.append(progress.data)
    assert {"frame": "1", "mem": "12.55M", "elapsed": "00:03.44", "remaining": "00:07.27",
            "samples_done": "80", "samples_todo": "256"} in seen
    # Remaining disappears on the last sample (Blender stops printing it)
    assert {"frame": "1", "mem": "13.72M", "elapsed": "00:03.60",
            "samples_done": "256", "samples_todo": "256"} in seen
    assert progress.engine_type == "CYCLES"  # no recipe engine: Cycles' own fields tell


def test_new_frame_drops_the_last_frames_samples() -> None:
    progress, _ = run(read_lines(F / "cycles-3.4-anim.txt")[:48], [1, 2, 3])
    assert progress.frames_done == 1
    assert progress.data["frame"] == "2"
    assert "samples_done" not in progress.data and "remaining" not in progress.data


def test_workbench_advances_per_frame_only() -> None:
    progress, trace = run(read_lines(F / "workbench-3.4-anim.txt"), [1, 2, 3], "BLENDER_WORKBENCH")
    assert sorted(set(trace)) == pytest.approx([0.0, 100 / 3, 200 / 3, 100.0])
    assert progress.engine_type == "BLENDER_WORKBENCH"


def test_error_capture_cases() -> None:
    """Every run of errors-3.4.txt: errors recorded as printed, frames counted when rendered."""
    expected = {
        "missing_blend": (["Error: Cannot read file '/render/nope.blend': No such file or directory"], 0),
        "corrupt_blend": (["Error: File format is not supported in file '/render/corrupt.blend'"], 0),
        "blend_saved_by_5.0": (
            ["Error: Failed to read blend file '/render/from_5.0.1.blend', not a blend file"], 0),
        "python_expr_raises": (["Error: Python: Traceback (most recent call last):"], 1),
        "python_expr_raises_with_exit_code": (
            ["Error: Python: Traceback (most recent call last):",
             "Error: script failed, expr: 'raise ValueError('boom')', exiting."], 0),
        "python_file_missing": (
            ['Error: Python: OSError: Python file "/render/nofile.py" could not be opened: '
             "No such file or directory"], 1),
        "python_file_missing_with_exit_code": (
            ['Error: Python: OSError: Python file "/render/nofile.py" could not be opened: '
             "No such file or directory",
             "Error: script failed, file: '/render/nofile.py', exiting."], 0),
        "python_override_bad_camera": (["Error: Python: Traceback (most recent call last):"], 1),
        "scene_not_found": ([], 1),
        "no_camera_in_scene": (["Error: Cannot render, no camera"], 0),
        "no_camera_in_scene_anim": (["Error: Cannot render, no camera"], 0),
        "bad_engine": (["Error: engine not found 'NOPE'"], 0),
        "bad_format": (
            ["Error: Format from '-F / --render-format' not known or not compiled in this release."], 1),
        "unwritable_output": (["Blender could not write /proc/nope/x_0001.png (Invalid argument)"], 0),
        "cycles_device_cuda_absent": (["Error: Found no Cycles device of the specified type"], 0),
        "cycles_device_without_dashdash": (
            ["Error: Cannot read file '/render/--cycles-device': No such file or directory"], 0),
        "cycles_default_denoise_no_oidn": (["Error: Build without OpenImageDenoiser"], 0),
        "start_after_end_anim": ([], 0),
        "blend_saved_by_4.2_segfault": (["Blender crashed (crash report: /tmp/blender.crash.txt)"], 0),
    }
    cases = error_cases()
    assert [case.name for case in cases] == list(expected)
    for case in cases:
        frames = [1, 2, 3] if case.name.endswith("_anim") else [1]
        progress, _ = run(case.stdout, frames, "CYCLES")
        errors, done = expected[case.name]
        assert (case.name, progress.errors) == (case.name, errors)
        assert (case.name, progress.frames_done) == (case.name, done)
        if case.exit_code not in (0,):
            assert progress.progress < 100.0, case.name


# -- public logs, Blender 2.78 to 5.2 ---------------------------------------------------------

PUBLIC_CASES = [
    # file, frames, engine_type, frames done, progress, saved, errors, data subset
    ("2.78-cycles-cpu-tiles-still-sheepit.txt", [340], "CYCLES", 1, 100.0,
     ["C:\\dev\\git\\sheepit-client\\test-data\\1_0340.png"], [],
     {"frame": "340", "elapsed": "00:00.24", "tiles_done": None, "tiles_todo": None, "remaining": None}),
    ("2.79-cycles-end-of-frame-arm64.txt", [1], None, 1, 100.0, ["./0001.png"], [],
     {"frame": "1", "mem": "2088.40M", "elapsed": "22:38.22"}),
    ("2.79-cycles-end-of-frame-hours.txt", [1], None, 1, 100.0, ["./0001.png"], [],
     {"frame": "1", "elapsed": "01:53:54.08"}),
    ("2.79-cycles-gpu-tiles-still.txt", [1], "CYCLES", 1, 100.0, ["test0001.png"], [],
     {"frame": "1", "mem": "77.84M"}),
    ("2.79-internal-parts-still-arm64.txt", [1], None, 1, 100.0, ["./0001.png"], [], {"frame": "1"}),
    ("2.79-internal-parts-still-x86.txt", [1], None, 1, 100.0, ["./0001.png"], [], {"mem": "16.93M"}),
    ("2.7x-2.8x-cycles-tile-and-sample-openshot.txt", [125], "CYCLES", 0, 2 * 100 / 16, [], [],
     {"frame": "125", "tiles_done": "1", "tiles_todo": "16", "samples_done": "10", "remaining": "00:00.14"}),
    ("2.82-luxcore-final-render-start.txt", [1], "NON_COMPATIBLE", 0, 0.0, [], [], {}),
    ("2.8x-cycles-tiles-denoised.txt", [1], "CYCLES", 0, 2 * 100 / 64, [], [],
     {"frame": "1", "mem": "58.45M", "remaining": "00:09.32", "tiles_done": "2", "tiles_todo": "64"}),
    ("2.91-cycles-tiles-still-gotest.txt", [1], "CYCLES", 1, 100.0, ["cube.blend0001.png"], [],
     {"elapsed": "00:01.90"}),
    ("2.93-eevee-movie-append-frame.txt", [1], "BLENDER_EEVEE", 1, 100.0, [], [],
     {"samples_done": None, "samples_todo": None, "elapsed": "03:15.70"}),
    ("3.1-cycles-optix-anim-abridged.txt", [1, 2], "CYCLES", 2, 100.0,
     ["/home/ubuntu/result/0001.png", "/home/ubuntu/result/0002.png"], [], {"frame": "2"}),
    ("3.1-eevee-headless-glx-error.txt", [1], None, 0, 0.0, [],
     ["Error! GLX_ARB_create_context not available."], {}),
    ("3.3-noengine-crash-segfault.txt", [1], None, 0, 0.0, [],
     ["Blender crashed (crash report: /tmp/config_ortho.crash.txt)"], {}),
    ("3.6-luxcore-final-render-start.txt", [1], "NON_COMPATIBLE", 0, 0.0, [], [], {}),
    ("4.1-cycles-compositing-2frames-abridged.txt", [1, 2], None, 2, 100.0,
     ["output_frames/frame-001.png", "output_frames/frame-002.png"], [], {"frame": "2"}),
    ("4.1-noengine-error-cannot-read-file.txt", [1], None, 0, 0.0, [],
     ['Error: Cannot read file "/private/var/folders/93/p7mk/T/OpenJD/sample_session0bd5l1au/3d/'
      'pavillon_barcelone_v1.2.blend": No such file or directory'], {}),
    ("4.2-eevee-next-compositing-2frames.txt", [0, 1], "BLENDER_EEVEE_NEXT", 2, 100.0,
     ["output/0000.png", "output/0001.png"], [], {"frame": "1", "elapsed": "00:01.45"}),
    ("4.4-cycles-cpu-still-full.txt", [1], "CYCLES", 1, 100.0, ["C:\\tmp\\0001.png"], [],
     {"samples_done": None, "samples_todo": None, "remaining": None, "elapsed": "00:04.06"}),
    ("4.5-eevee-next-still-python-print.txt", [1], "BLENDER_EEVEE_NEXT", 1, 100.0,
     ["..\\data\\scene_P69905_render_plddt.png"], [], {"samples_done": None}),
    ("5.0-cycles-gpu-still-remaining.txt", [1], "CYCLES", 1, 100.0, ["/tmp/0001.png"], [],
     {"frame": "1", "mem": "1699M", "elapsed": "02:19.28", "samples_done": None, "remaining": None}),
    ("5.2-unknown-python-render-clog-reordered.txt", [1], None, 1, 100.0,
     ["/Users/duongnad/Documents/project/Genesis_Zero/assets/blender_map/render_preview.png"], [], {}),
]


def test_every_public_log_has_a_case() -> None:
    assert sorted(case[0] for case in PUBLIC_CASES) == sorted(p.name for p in PUBLIC_DIR.glob("*.txt"))


@pytest.mark.parametrize(("name", "frames", "engine", "done", "final", "saved", "errors", "data"),
                         PUBLIC_CASES, ids=[case[0] for case in PUBLIC_CASES])
def test_public_log(name: str, frames: list[int], engine: str | None, done: int, final: float,
                    saved: list[str], errors: list[str], data: dict[str, str]) -> None:
    progress, _ = run(read_lines(PUBLIC_DIR / name), frames)  # no recipe engine: read from the lines
    assert progress.engine_type == engine
    assert progress.frames_done == done
    assert progress.progress == pytest.approx(final)
    assert progress.saved_files == saved
    assert progress.errors == errors
    assert {key: progress.data.get(key) for key in data} == data
    assert all(isinstance(value, str) for value in progress.data.values())


def test_eevee_ssr_quirk_does_not_go_back() -> None:
    _, trace = run(read_lines(PUBLIC_DIR / "2.93-eevee-movie-append-frame.txt"), [1])
    rendering = sorted(set(trace))
    assert rendering == pytest.approx([0.0, 100 / 65, 2600 / 64, 5100 / 64, 99.0, 100.0])


def test_5x_progress_within_the_frame() -> None:
    progress, _ = run(read_lines(PUBLIC_DIR / "5.0-cycles-gpu-still-remaining.txt")[:11], [1])
    assert progress.progress == pytest.approx(112 * 100 / 128)
    # elapsed is the frame's render time: the 5.x log time since the frame began, as Time: prints it
    assert progress.data == {"frame": "1", "mem": "1699M", "elapsed": "01:45.19",
                             "remaining": "00:14.53", "samples_done": "112", "samples_todo": "128"}


def test_5x_banner_after_log_lines_changes_nothing() -> None:
    lines = read_lines(PUBLIC_DIR / "5.2-unknown-python-render-clog-reordered.txt")
    progress = JobProgress(frames=[1])
    for line in lines[:4]:
        progress.feed(line)
    assert progress.frames_done == 1 and progress.progress == 100.0
    assert progress.blender_version is None
    assert progress.feed(lines[4]) is False  # the late banner
    assert progress.blender_version == "5.2.1"
    assert progress.frames_done == 1 and progress.progress == 100.0


def test_5x_skipping_existing_frames() -> None:
    progress = JobProgress(frames=[1, 2, 3], engine="CYCLES")
    assert progress.feed('00:00.301  render           | Skipping existing frame "/out/f_0001.png"')
    assert progress.feed('00:00.301  render           | Skipping existing frame "/out/f_0002.png"')
    assert progress.frames_done == 2
    assert progress.progress == pytest.approx(200 / 3)
    assert progress.skipped_files == ["/out/f_0001.png", "/out/f_0002.png"]
    assert progress.saved_files == []


def test_skipped_then_rendered_frames() -> None:
    lines = ['skipping existing frame "/out/f_0001.png"', *read_lines(F / "cycles-3.4-anim.txt")[49:]]
    progress, trace = run(lines, [1, 2, 3])
    assert trace[0] == pytest.approx(100 / 3)
    assert progress.frames_done == 3 and progress.progress == 100.0
    assert progress.saved_files == ["/render/out/cyca_0002.png", "/render/out/cyca_0003.png"]


def test_multiview_lines_count_one_frame() -> None:
    """Stereo renders print one skip or Saved: line per view of the same frame."""
    progress = JobProgress(frames=[1, 2, 3, 4])
    progress.feed('skipping existing frame "/out/f_0001_L.png" for view "left"')
    progress.feed('skipping existing frame "/out/f_0001_R.png" for view "right"')
    assert progress.frames_done == 1
    progress.feed("Fra:2 Mem:1.00M (Peak 1.00M) | Time:00:00.10 | Rendering 4 / 4 samples")
    progress.feed("Saved: '/out/f_0002_L.png'")
    progress.feed("Saved: '/out/f_0002_R.png'")
    progress.feed(" Time: 00:01.00 (Saving: 00:00.10)")
    assert progress.frames_done == 2
    progress.feed("Saved: '/out/f_0003_L.png'")  # Workbench: no Fra: line names the frame
    progress.feed("Saved: '/out/f_0003_R.png'")
    progress.feed(" Time: 00:01.00 (Saving: 00:00.10)")
    assert progress.frames_done == 3
    assert progress.progress == 75.0
    assert progress.saved_files == ["/out/f_0002_L.png", "/out/f_0002_R.png",
                                    "/out/f_0003_L.png", "/out/f_0003_R.png"]


# -- the override script's markers ------------------------------------------------------------

def _with_markers(lines: list[str], frames: list[int], *, before_saved: bool, engine: str = "CYCLES",
                  samples: int | None = 4) -> list[str]:
    """The capture as Render+ sees it: a ready marker first, a frame marker per written frame
    (after the frame's ``Time:`` line, as ``render_write`` runs, or before its ``Saved:``)."""
    out = [format_marker("ready", engine=engine, scene="Scene", frames=frames, samples=samples,
                         blender="3.4.1")]
    pending: str | None = None
    index = 0
    for line in lines:
        if line.startswith("Saved: "):
            path = line[8:-1]
            marker = format_marker("frame", frame=frames[index], path=path)
            index += 1
            if before_saved:
                out.append(marker)
            else:
                pending = marker
        out.append(line)
        if line.lstrip().startswith("Time:") and pending:
            out.append(pending)
            pending = None
    return out


@pytest.mark.parametrize("before_saved", [False, True])
@pytest.mark.parametrize(("name", "frames"), [
    ("cycles-3.4-anim.txt", [1, 2, 3]), ("workbench-3.4-anim.txt", [1, 2, 3]),
    ("eevee-3.4-anim.txt", [1, 2, 3]), ("cycles-3.4-sigint-once-anim.txt", [1, 2, 3]),
])
def test_markers_and_blender_lines_count_each_frame_once(name: str, frames: list[int],
                                                         before_saved: bool) -> None:
    plain = read_lines(F / name)
    lines = _with_markers(plain, frames, before_saved=before_saved)
    progress = JobProgress(frames=frames, engine="")
    saved_lines = frame_markers = 0
    for line in lines:
        progress.feed(line)
        saved_lines += line.startswith("Saved: ")
        frame_markers += '"event":"frame"' in line
        assert progress.frames_done <= max(saved_lines, frame_markers)
    expected, _ = run(plain, frames)
    assert progress.frames_done == expected.frames_done
    assert progress.saved_files == expected.saved_files
    assert progress.progress == pytest.approx(expected.progress)
    assert progress.engine_type == "CYCLES"  # the ready marker's word beats the lines'


def test_marker_frame_numbers_win_over_a_guess() -> None:
    """Workbench prints no frame numbers; the marker's frame replaces the guessed one."""
    progress = JobProgress(frames=[1, 2, 3])
    progress.feed(format_marker("ready", engine="BLENDER_WORKBENCH", frames=[10, 20, 30], samples=None))
    assert progress.frames == (10, 20, 30) and progress.engine_type == "BLENDER_WORKBENCH"
    progress.feed("Saved: '/out/w_0020.png'")  # (say frame 10 was rendered elsewhere)
    progress.feed(format_marker("frame", frame=20, path="/out/w_0020.png"))
    progress.feed(" Time: 00:00.10 (Saving: 00:00.01)")
    assert progress.frames_done == 1
    progress.feed(format_marker("frame", frame=10, path="/out/w_0010.png"))
    progress.feed(format_marker("frame", frame=30, path="/out/w_0030.png"))
    assert progress.frames_done == 3 and progress.progress == 100.0
    assert progress.saved_files == ["/out/w_0020.png", "/out/w_0010.png", "/out/w_0030.png"]


def test_ready_marker_samples_fill_a_missing_total() -> None:
    progress = JobProgress(frames=[1], engine="CYCLES")
    progress.feed(format_marker("ready", engine="CYCLES", frames=[1], samples=200))
    assert progress.data == {"samples_todo": "200"} and progress.samples == 200
    progress.feed("Fra:1 Mem:1.00M (Peak 1.00M) | Time:00:00.10 | Mem:1M, Peak:1M | Scene, ViewLayer"
                  " | Sample 50")
    assert progress.progress == pytest.approx(25.0)
    assert progress.data["samples_done"] == "50" and progress.data["samples_todo"] == "200"


def test_ready_marker_engine_beats_the_recipe() -> None:
    progress = JobProgress(frames=[1], engine="CYCLES")
    assert progress.engine_type == "CYCLES"
    progress.feed(format_marker("ready", engine="BLENDER_EEVEE_NEXT", frames=[1], samples=64))
    assert progress.engine_type == "BLENDER_EEVEE_NEXT"


def test_override_error_marker_is_recorded() -> None:
    progress = JobProgress(frames=[1], engine="CYCLES")
    assert progress.feed(format_marker("error", message="Camera 'Cam2' not found in scene 'Scene'"))
    assert progress.errors == ["Camera 'Cam2' not found in scene 'Scene'"]


# -- engines ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("engine", "expected"), [
    ("CYCLES", "CYCLES"), ("cycles", "CYCLES"), ("BLENDER_EEVEE", "BLENDER_EEVEE"),
    ("BLENDER_EEVEE_NEXT", "BLENDER_EEVEE_NEXT"), ("BLENDER_WORKBENCH", "BLENDER_WORKBENCH"),
    ("LUXCORE", "NON_COMPATIBLE"), ("RPR", "NON_COMPATIBLE"), ("", None), (None, None),
])
def test_engine_from_the_recipe(engine: str | None, expected: str | None) -> None:
    assert JobProgress(frames=[1], engine=engine).engine_type == expected


def test_third_party_engine_counts_frames_but_not_its_own_text() -> None:
    progress = JobProgress(frames=[1, 2], engine="")
    progress.feed(format_marker("ready", engine="LUXCORE", frames=[1, 2], samples=None))
    assert progress.engine_type == "NON_COMPATIBLE"
    # the prefix is Blender's, the rest is the add-on's: no within-frame progress from it
    progress.feed("Fra:1 Mem:50.00M (Peak 60.00M) | Time:00:05.00 | Sample 10/20")
    assert progress.progress == 0.0
    assert progress.data["frame"] == "1" and progress.data["mem"] == "50.00M"
    progress.feed("Saved: '/out/l_0001.png'")
    assert progress.progress == 50.0
    assert progress.engine_type == "NON_COMPATIBLE"  # a Cycles-looking line does not change it


def test_luxcore_lines_without_markers() -> None:
    progress, _ = run(read_lines(PUBLIC_DIR / "3.6-luxcore-final-render-start.txt"), [1])
    assert progress.engine_type == "NON_COMPATIBLE"
    progress, _ = run(read_lines(PUBLIC_DIR / "3.6-luxcore-final-render-start.txt"), [1], engine="CYCLES")
    assert progress.engine_type == "CYCLES"  # the recipe's word beats a hint


# -- feed's answer and inputs --------------------------------------------------------------------

def test_feed_says_when_something_changed() -> None:
    progress = JobProgress(frames=[1])
    line = ("Fra:1 Mem:9.40M (Peak 10.83M) | Time:00:00.09 | Mem:0.00M, Peak:0.00M | Scene, ViewLayer"
            " | Updating Camera")
    assert progress.feed("Read blend: /render/tiny_CYCLES.blend") is False
    assert progress.feed(line) is True
    assert progress.feed(line) is False  # same values again
    assert progress.feed(line.replace("Time:00:00.09", "Time:00:00.10")) is True


def test_data_is_replaced_not_changed() -> None:
    """A reader in another thread keeps a consistent dict while the next line arrives."""
    progress = JobProgress(frames=[1])
    progress.feed("Fra:1 Mem:1.00M (Peak 1.00M) | Time:00:00.10 | Rendering 1 / 4 samples")
    before = progress.data
    snapshot = dict(before)
    progress.feed("Fra:1 Mem:1.00M (Peak 1.00M) | Time:00:00.20 | Rendering 4 / 4 samples")
    assert before == snapshot and progress.data["samples_done"] == "4"


def test_unknown_frames_wait_for_the_ready_marker() -> None:
    progress = JobProgress()
    progress.feed("Fra:1 Mem:1.00M (Peak 1.00M) | Time:00:00.10 | Rendering 2 / 4 samples")
    assert progress.progress == 0.0  # no total to measure against yet
    progress.feed(format_marker("ready", engine="BLENDER_EEVEE", frames=[1, 2], samples=4))
    progress.feed("Fra:1 Mem:1.00M (Peak 1.00M) | Time:00:00.20 | Rendering 3 / 4 samples")
    assert progress.progress == pytest.approx(37.5)


@pytest.mark.parametrize(("frames", "engine", "message"), [
    ("1-3", "", "frames must be a list of frame numbers, not a string"),
    (5, "", "frames must be a list of frame numbers, not int"),
    ([1, 2.5], "", r"frames must hold whole frame numbers \(got 2.5\)"),
    ([True], "", r"frames must hold whole frame numbers \(got True\)"),
    ([1], 3, "engine must be a str like 'CYCLES', not int"),
])
def test_bad_arguments_are_clear_errors(frames: object, engine: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        JobProgress(frames=frames, engine=engine)  # type: ignore[arg-type]


def test_errors_are_capped() -> None:
    progress = JobProgress(frames=[1])
    for index in range(250):
        progress.feed(f"Error: Python: failure {index}")
    assert len(progress.errors) == MAX_ERRORS + 1
    assert progress.errors[0] == "Error: Python: failure 0"
    assert progress.errors[MAX_ERRORS - 1] == f"Error: Python: failure {MAX_ERRORS - 1}"
    assert progress.errors[-1] == f"... and {250 - MAX_ERRORS} more errors"


def test_malformed_ready_marker_is_ignored_not_fatal() -> None:
    progress = JobProgress(frames=[1, 2], engine="CYCLES")
    progress.feed(format_marker("ready", engine=7, frames=["a", 2], samples="many"))
    assert progress.frames == (1, 2) and progress.engine_type == "CYCLES" and progress.samples is None

