"""Table tests: one stdout line in, one event out, for every format Blender 2.7x-5.x prints.

Lines are real (from ``fixtures/``, or quoted in the public-logs README from other projects'
tests) unless marked ``synthetic``: those follow Blender's format strings
(docs/blender.md, Output lines by version) where no real sample exists.
"""

from __future__ import annotations

from typing import Any

import pytest

from renderplus.batch import parser as p
from renderplus.batch.markers import MARKER_PREFIX, format_marker
from renderplus.batch.parser import Event, EventKind, FatalKind, parse_line

from .logs import STDOUT_DIR, public_logs, read_lines, stdout_logs

K = EventKind

CLOG = "00:04.230  render           | "

# (id, line, kind, fields the event must carry; every other field must be None)
ROWS: list[tuple[str, str, EventKind, dict[str, Any]]] = [
    # -- Cycles 2.9x-4.x ---------------------------------------------------------------------
    ("cycles-3.4-sample-remaining",
     "Fra:1 Mem:12.55M (Peak 12.55M) | Time:00:03.44 | Remaining:00:07.27 | Mem:3.39M, Peak:3.39M"
     " | Scene, ViewLayer | Sample 80/256",
     K.STATUS, {"frame": 1, "mem": "12.55M", "elapsed": "00:03.44", "remaining": "00:07.27",
                "samples_done": 80, "samples_todo": 256, "engine": "CYCLES",
                "scene_layer": "Scene, ViewLayer"}),
    ("cycles-3.4-sample-0",
     "Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.09 | Mem:0.76M, Peak:0.76M | Scene, ViewLayer | Sample 0/4",
     K.STATUS, {"frame": 1, "mem": "9.91M", "elapsed": "00:00.09", "samples_done": 0, "samples_todo": 4,
                "engine": "CYCLES", "scene_layer": "Scene, ViewLayer"}),
    ("cycles-3.4-updating-substatus",
     "Fra:1 Mem:9.40M (Peak 10.83M) | Time:00:00.09 | Mem:0.00M, Peak:0.00M | Scene, ViewLayer"
     " | Updating Objects | Copying Transformations to device",
     K.STATUS, {"frame": 1, "mem": "9.40M", "elapsed": "00:00.09", "engine": "CYCLES",
                "scene_layer": "Scene, ViewLayer"}),
    ("cycles-3.4-no-layer-field",
     "Fra:1 Mem:9.04M (Peak 10.83M) | Time:00:00.00 | Mem:0.00M, Peak:0.00M | Scene | Initializing",
     K.STATUS, {"frame": 1, "mem": "9.04M", "elapsed": "00:00.00", "engine": "CYCLES",
                "scene_layer": "Scene"}),
    ("cycles-3.4-finished",
     "Fra:1 Mem:10.07M (Peak 10.83M) | Time:00:00.10 | Mem:0.86M, Peak:0.86M | Scene, ViewLayer | Finished",
     K.FINISHED, {"frame": 1, "mem": "10.07M", "elapsed": "00:00.10", "engine": "CYCLES",
                "scene_layer": "Scene, ViewLayer"}),
    ("cycles-3.4-cancelled",
     "Fra:2 Mem:12.25M (Peak 14.60M) | Time:00:02.19 | Mem:1.93M, Peak:1.93M | Scene, ViewLayer | Cancelled",
     K.CANCELLED, {"frame": 2, "mem": "12.25M", "elapsed": "00:02.19", "engine": "CYCLES",
                "scene_layer": "Scene, ViewLayer"}),
    ("cycles-4.4-trailing-spaces",
     "Fra:1 Mem:11.68M (Peak 12.83M) | Time:00:00.05 | Mem:0.00M, Peak:0.00M | Scene, ViewLayer"
     " | Updating Scene BVH | Building BVH    ",
     K.STATUS, {"frame": 1, "mem": "11.68M", "elapsed": "00:00.05", "engine": "CYCLES",
                "scene_layer": "Scene, ViewLayer"}),
    ("cycles-negative-remaining",
     "Fra:2 Mem:5037.19M (Peak 5037.20M) | Time:00:09.82 | Remaining:-14:-08.-48 | Mem:3044.05M,"
     " Peak:3044.05M | Scene, Full | Sample 129/15000",
     K.STATUS, {"frame": 2, "mem": "5037.19M", "elapsed": "00:09.82", "remaining": "-14:-08.-48",
                "samples_done": 129, "samples_todo": 15000, "engine": "CYCLES",
                "scene_layer": "Scene, Full"}),
    ("cycles-bvh-counter-is-not-progress",
     "Fra:2 Mem:5037.19M (Peak 5037.20M) | Time:00:09.82 | Mem:3044.05M, Peak:3044.05M | Scene, Full"
     " | Updating Geometry BVH sheet.009 255/442 | Building BVH",
     K.STATUS, {"frame": 2, "mem": "5037.19M", "elapsed": "00:09.82", "engine": "CYCLES",
                "scene_layer": "Scene, Full"}),
    ("cycles-3.x-tiles-and-samples-synthetic",
     "Fra:3 Mem:812.00M (Peak 900.00M) | Time:00:41.02 | Remaining:02:03.40 | Mem:700.10M, Peak:700.10M"
     " | Scene, ViewLayer | Rendered 1/4 Tiles, Sample 16/128",
     K.STATUS, {"frame": 3, "mem": "812.00M", "elapsed": "00:41.02", "remaining": "02:03.40",
                "tiles_done": 1, "tiles_todo": 4, "samples_done": 16, "samples_todo": 128,
                "engine": "CYCLES", "scene_layer": "Scene, ViewLayer"}),
    ("cycles-hours",
     "Fra:1 Mem:2088.19M (0.00M, Peak 4612.16M) | Time:01:53:53.18 | Sce: Scene Ve:0 Fa:0 La:0",
     K.STATUS, {"frame": 1, "mem": "2088.19M", "elapsed": "01:53:53.18"}),
    ("compositing-operation",
     "Fra:0 Mem:93.94M (Peak 185.01M) | Time:00:00.44 | Compositing | Operation 2-10",
     K.STATUS, {"frame": 0, "mem": "93.94M", "elapsed": "00:00.44"}),
    ("compositing-4.1",
     "Fra:2 Mem:130.48M (Peak 272.58M) | Time:00:07.64 | Compositing | De-initializing execution",
     K.STATUS, {"frame": 2, "mem": "130.48M", "elapsed": "00:07.64"}),
    # -- Cycles 2.7x / 2.8x (mmap field, tiles) --------------------------------------------------
    ("cycles-2.7x-mmap-tile",
     "Fra:10 Mem:17.52M (0.00M, Peak 33.47M) | Time:00:04.17 | Remaining:00:00.87 | Mem:1.42M, Peak:1.42M"
     " | Scene, RenderLayer | Path Tracing Tile 110/135",
     K.STATUS, {"frame": 10, "mem": "17.52M", "elapsed": "00:04.17", "remaining": "00:00.87",
                "tiles_done": 110, "tiles_todo": 135, "engine": "CYCLES",
                "scene_layer": "Scene, RenderLayer"}),
    ("cycles-2.7x-tile-and-sample",
     "Fra:125 Mem:12.37M (0.00M, Peak 14.83M) | Time:00:00.13 | Remaining:00:00.14 | Mem:0.71M, Peak:1.20M"
     " | Background Lines, RenderLayer | Path Tracing Tile 1/16, Sample 10/10",
     K.STATUS, {"frame": 125, "mem": "12.37M", "elapsed": "00:00.13", "remaining": "00:00.14",
                "tiles_done": 1, "tiles_todo": 16, "samples_done": 10, "samples_todo": 10,
                "engine": "CYCLES", "scene_layer": "Background Lines, RenderLayer"}),
    ("cycles-2.78-sheepit-last-tile",
     "Fra:340 Mem:7.84M (0.00M, Peak 8.06M) | Time:00:00.14 | Remaining:00:00.00 | Mem:0.33M, Peak:0.44M"
     " | Scene, RenderLayer | Path Tracing Tile 64/64, Sample 1/1",
     K.STATUS, {"frame": 340, "mem": "7.84M", "elapsed": "00:00.14", "remaining": "00:00.00",
                "tiles_done": 64, "tiles_todo": 64, "samples_done": 1, "samples_todo": 1,
                "engine": "CYCLES", "scene_layer": "Scene, RenderLayer"}),
    ("cycles-2.8x-rendered-tiles-denoised",
     "Fra:1 Mem:57.95M (0.00M, Peak 58.09M) | Time:00:02.00 | Remaining:00:08.06 | Mem:23.22M, Peak:23.22M"
     " | Scene, View Layer | Rendered 1/64 Tiles, Denoised 0 tiles",
     K.STATUS, {"frame": 1, "mem": "57.95M", "elapsed": "00:02.00", "remaining": "00:08.06",
                "tiles_done": 1, "tiles_todo": 64, "engine": "CYCLES", "scene_layer": "Scene, View Layer"}),
    ("cycles-2.8x-gpu-tiles-sample-denoised",
     "Fra:1 Mem:1217.50M (0.00M, Peak 1928.75M) | Time:01:42.41 | Remaining:01:41.37 | Mem:1050.48M,"
     " Peak:1052.07M | Scene, View Layer | Rendered 66/135 Tiles, Sample 72/128, Denoised 50 tiles",
     K.STATUS, {"frame": 1, "mem": "1217.50M", "elapsed": "01:42.41", "remaining": "01:41.37",
                "tiles_done": 66, "tiles_todo": 135, "samples_done": 72, "samples_todo": 128,
                "engine": "CYCLES", "scene_layer": "Scene, View Layer"}),
    ("cycles-2.91-rendered-tiles",
     "Fra:1 Mem:49.99M (Peak 50.25M) | Time:00:00.04 | Remaining:00:00.82 | Mem:2.94M, Peak:3.06M"
     " | Scene, View Layer | Rendered 6/510 Tiles",
     K.STATUS, {"frame": 1, "mem": "49.99M", "elapsed": "00:00.04", "remaining": "00:00.82",
                "tiles_done": 6, "tiles_todo": 510, "engine": "CYCLES", "scene_layer": "Scene, View Layer"}),
    ("cycles-2.8x-progressive-synthetic",
     "Fra:1 Mem:20.00M (0.00M, Peak 21.00M) | Time:00:00.50 | Remaining:00:10.00 | Mem:5.00M, Peak:5.00M"
     " | Scene, View Layer | Path Tracing Sample 1/123",
     K.STATUS, {"frame": 1, "mem": "20.00M", "elapsed": "00:00.50", "remaining": "00:10.00",
                "samples_done": 1, "samples_todo": 123, "engine": "CYCLES",
                "scene_layer": "Scene, View Layer"}),
    ("cycles-2.79-sce-fallback",
     "Fra:1 Mem:77.84M (0.00M, Peak 108.99M) | Time:00:00.81 | Sce: Scene Ve:0 Fa:0 La:0",
     K.STATUS, {"frame": 1, "mem": "77.84M", "elapsed": "00:00.81"}),
    ("internal-2.79-parts",
     "Fra:1 Mem:545.16M (0.00M, Peak 1012.27M) | Time:00:11.36 | Scene, Part 82-135",
     K.STATUS, {"frame": 1, "mem": "545.16M", "elapsed": "00:11.36"}),
    # -- EEVEE legacy and Next -------------------------------------------------------------------
    ("eevee-3.4-syncing",
     "Fra:1 Mem:10.79M (Peak 11.91M) | Time:00:01.82 | Syncing Cube",
     K.STATUS, {"frame": 1, "mem": "10.79M", "elapsed": "00:01.82", "engine": "BLENDER_EEVEE"}),
    ("eevee-3.4-rendering",
     "Fra:1 Mem:10.80M (Peak 11.91M) | Time:00:02.58 | Rendering 1 / 4 samples",
     K.STATUS, {"frame": 1, "mem": "10.80M", "elapsed": "00:02.58", "samples_done": 1, "samples_todo": 4,
                "engine": "BLENDER_EEVEE"}),
    ("eevee-2.93-ssr-first-sample",
     "Fra:1 Mem:325.89M (Peak 339.28M) | Time:00:03.48 | Rendering 1 / 65 samples",
     K.STATUS, {"frame": 1, "mem": "325.89M", "elapsed": "00:03.48", "samples_done": 1, "samples_todo": 65,
                "engine": "BLENDER_EEVEE"}),
    ("eevee-2.93-ssr-next-sample",
     "Fra:1 Mem:303.25M (Peak 339.28M) | Time:01:19.40 | Rendering 26 / 64 samples",
     K.STATUS, {"frame": 1, "mem": "303.25M", "elapsed": "01:19.40", "samples_done": 26, "samples_todo": 64,
                "engine": "BLENDER_EEVEE"}),
    ("eevee-next-4.2",
     "Fra:0 Mem:128.76M (Peak 135.62M) | Time:00:00.27 | Rendering 25 / 64 samples",
     K.STATUS, {"frame": 0, "mem": "128.76M", "elapsed": "00:00.27", "samples_done": 25, "samples_todo": 64,
                "engine": "BLENDER_EEVEE"}),
    # -- Blender 5.x (CLOG prefix) ---------------------------------------------------------------
    ("5.0-cycles-remaining",
     "00:04.230  render           | Fra: 1 | Remaining: 01:43.73 | Mem: 1699M | Sample 1/128",
     K.STATUS, {"frame": 1, "mem": "1699M", "log_time": "00:04.230", "remaining": "01:43.73",
                "samples_done": 1, "samples_todo": 128, "engine": "CYCLES"}),
    ("5.0-cycles-sample-0",
     "00:03.413  render           | Fra: 1 | Mem: 1450M | Sample 0/128",
     K.STATUS, {"frame": 1, "mem": "1450M", "log_time": "00:03.413", "samples_done": 0, "samples_todo": 128,
                "engine": "CYCLES"}),
    ("5.0-cycles-finished",
     "02:19.277  render           | Fra: 1 | Mem: 1699M | Finished",
     K.FINISHED, {"frame": 1, "mem": "1699M", "log_time": "02:19.277"}),
    ("5.2-finished-small-mem",
     "00:00.834  render           | Fra: 1 | Mem: 1M | Finished",
     K.FINISHED, {"frame": 1, "mem": "1M", "log_time": "00:00.834"}),
    ("5.2-updating",
     "00:01.250  render           | Fra: 17 | Mem: 1M | Updating Scene BVH | Building",
     K.STATUS, {"frame": 17, "mem": "1M", "log_time": "00:01.250"}),
    ("5.2-eevee",
     "00:07.157  render           | Fra: 1 | Rendering 1 / 64 samples",
     K.STATUS, {"frame": 1, "log_time": "00:07.157", "samples_done": 1, "samples_todo": 64,
                "engine": "BLENDER_EEVEE"}),
    ("5.x-eevee-no-prefix",
     "Fra: 1 | Rendering 8 / 16 samples",
     K.STATUS, {"frame": 1, "samples_done": 8, "samples_todo": 16, "engine": "BLENDER_EEVEE"}),
    ("5.x-cycles-no-prefix",
     "Fra: 1 | Remaining: 01:43.73 | Mem: 1699M | Sample 1/128",
     K.STATUS, {"frame": 1, "mem": "1699M", "remaining": "01:43.73", "samples_done": 1,
                "samples_todo": 128, "engine": "CYCLES"}),
    ("5.0-saved",
     "02:19.739  render           | Saved: '/tmp/0001.png'",
     K.SAVED, {"text": "/tmp/0001.png"}),
    ("5.0-time",
     "02:19.739  render           | Time: 02:19.28 (Saving: 00:00.31)",
     K.FRAME_TIME, {"elapsed": "02:19.28", "log_time": "02:19.739"}),
    ("5.x-error-report",
     "00:00.891  reports          | ERROR Cannot render, no camera",
     K.ERROR, {"text": "ERROR Cannot render, no camera"}),
    ("5.x-skipping-capital-synthetic",
     CLOG + 'Skipping existing frame "/render/out/f_0002.png"',
     K.SKIPPED, {"text": "/render/out/f_0002.png"}),
    # -- end of frame -----------------------------------------------------------------------------
    ("saved-3.4", "Saved: '/render/out/cyc_0001.png'", K.SAVED, {"text": "/render/out/cyc_0001.png"}),
    ("saved-windows", "Saved: 'C:\\tmp\\0001.png'", K.SAVED, {"text": "C:\\tmp\\0001.png"}),
    ("saved-relative", "Saved: 'test0001.png'", K.SAVED, {"text": "test0001.png"}),
    ("saved-missing-opening-quote", "Saved: ..\\data\\scene_P69905_render_plddt.png'",
     K.SAVED, {"text": "..\\data\\scene_P69905_render_plddt.png"}),
    ("saved-with-line-end", "Saved: '/out/a b.png'\r\n", K.SAVED, {"text": "/out/a b.png"}),
    ("time-3.x-leading-space", " Time: 00:00.49 (Saving: 00:00.38)", K.FRAME_TIME, {"elapsed": "00:00.49"}),
    ("time-4.x", "Time: 00:07.71 (Saving: 00:00.07)", K.FRAME_TIME, {"elapsed": "00:07.71"}),
    ("time-hours", " Time: 01:53:54.08 (Saving: 00:00.90)", K.FRAME_TIME, {"elapsed": "01:53:54.08"}),
    ("time-no-saving", "Time: 02:19.28", K.FRAME_TIME, {"elapsed": "02:19.28"}),
    ("append-frame-movie", "Append frame 1", K.APPENDED, {"frame": 1}),
    ("skipping-3.4", 'skipping existing frame "/render/out/cyc_0001.png"',
     K.SKIPPED, {"text": "/render/out/cyc_0001.png"}),
    # -- errors, crashes, engines, banner ---------------------------------------------------------
    ("error-oidn", "Error: Build without OpenImageDenoiser", K.ERROR,
     {"text": "Error: Build without OpenImageDenoiser"}),
    ("error-4.1-cannot-read",
     'Error: Cannot read file "/tmp/x.blend": No such file or directory', K.ERROR,
     {"text": 'Error: Cannot read file "/tmp/x.blend": No such file or directory'}),
    ("error-glx", "Error! GLX_ARB_create_context not available.", K.ERROR,
     {"text": "Error! GLX_ARB_create_context not available."}),
    ("crash-report", "Writing: /tmp/config_ortho.crash.txt", K.ERROR,
     {"text": "Blender crashed (crash report: /tmp/config_ortho.crash.txt)", "fatal": FatalKind.CRASH}),
    ("luxcore-log", "[LuxCore][25.576] Configuration: ", K.ENGINE, {"engine": p.NON_COMPATIBLE}),
    ("luxcore-sdl", "[SDL][8.666] Define ImageMap: NamedObject", K.ENGINE, {"engine": p.NON_COMPATIBLE}),
    ("luxcore-engine", '[Engine/Final] Rendering layer "View Layer"', K.ENGINE, {"engine": p.NON_COMPATIBLE}),
    ("banner-debian", "Blender 3.4.1", K.BANNER, {"text": "3.4.1"}),
    ("banner-lts", "Blender 4.5.4 LTS (hash b3efe983cc58 built 2025-10-28 14:22:47)", K.BANNER,
     {"text": "4.5.4"}),
    ("banner-5.2", "Blender 5.2.1 LTS (hash 9e2066aef7ef built 2026-08-25 01:35:57)", K.BANNER,
     {"text": "5.2.1"}),
]

EVENT_FIELDS = [name for name in Event._fields if name not in ("kind", "extra")]


@pytest.mark.parametrize(("line", "kind", "fields"), [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_line_table(line: str, kind: EventKind, fields: dict[str, Any]) -> None:
    event = parse_line(line)
    assert event is not None, line
    assert event.kind == kind
    got = {name: getattr(event, name) for name in EVENT_FIELDS}
    expected = {name: fields.get(name) for name in EVENT_FIELDS}
    assert got == expected


NOISE = [
    "", "   ", "\n", "Blender killed",
    "Read blend: /render/tiny_CYCLES.blend",
    'Read blend: "C:\\Code\\Github Repos\\QBlender\\test.blend"',
    "read blend: C:\\dev\\git\\sheepit-client\\test-data\\compute-method.blend",
    "found bundled python: /opt/blender-2.79-linux-glibc219-x86_64/2.79/python",
    "AL lib: (EE) UpdateDeviceParams: Failed to set 44100hz, got 48000hz instead",
    "ALSA lib confmisc.c:767:(parse_card) cannot find card '0'",
    "/run/user/1000/gvfs/ non-existent directory",
    "GPU failed to find function node_bsdf_hair",
    "Sent an internal break event. Press ^C again to kill Blender",
    "imb_savepng: Cannot open file for writing: '/proc/nope/x_0001.png'",
    "WARN (bke.customdata): ./source/blender/blenkernel/intern/customdata.cc:4544"
    " CustomData_layer_ensure_data_exists: CustomDataLayer->data is NULL for type 46.",
    "Caching exr file, 357x270, /tmp/cached_RR_micro_displacement_test_Scene.exr",
    "Render kaydedildi: ..\\data\\scene_P69905_render_plddt.png",
    "Segmentation fault (core dumped)",
    "Writing: /tmp/not-a-crash-report.txt",
    "BlendLuxCore registered (2.3beta1)",
    '00:00.255  blend            | Read blend: "/Users/x/ecosystem_map.blend"',
    "00:00.255  blend            | ",
    "12 apples",
    "Fra:",
    "Fra:abc Mem:1M",
    "Fra: x | Mem: 1M",
    "Saved:",
    "Time: ",
    "Append frame x",
    "skipping existing frame",
    "[CHECK 1/7] Structured Collections...",
    "  ✓ Collection 'Terrain' present (1 objects)",
    "Error",
    MARKER_PREFIX + "not json",
    MARKER_PREFIX + '{"no_event": 1}',
    MARKER_PREFIX + '["ready"]',
    format_marker("something_new", x=1),
    format_marker("frame", frame="3", path="/x.png"),
    format_marker("frame", frame=True, path="/x.png"),
]


@pytest.mark.parametrize("line", NOISE)
def test_lines_that_say_nothing(line: str) -> None:
    assert parse_line(line) is None


def test_ready_marker() -> None:
    line = format_marker("ready", engine="CYCLES", scene="Scene", frames=[1, 2, 3], samples=128,
                         blender="3.4.1")
    event = parse_line(line)
    assert event is not None and event.kind == K.READY
    assert event.engine == "CYCLES"
    assert event.extra is not None and event.extra["frames"] == [1, 2, 3] and event.extra["samples"] == 128


def test_frame_marker() -> None:
    event = parse_line(format_marker("frame", frame=3, path="/abs/out_0003.png"))
    assert event == Event(K.FRAME_WRITTEN, frame=3, text="/abs/out_0003.png")


def test_error_marker() -> None:
    event = parse_line(format_marker("error", message="Camera 'Cam2' not found in scene 'Scene'"))
    assert event is not None and event.kind == K.ERROR
    assert event.text == "Camera 'Cam2' not found in scene 'Scene'"


def test_multiview_skip_names_the_view() -> None:
    event = parse_line('skipping existing frame "/out/f_0001_L.png" for view "left"')
    assert event is not None and event.kind == K.SKIPPED
    assert event.text == "/out/f_0001_L.png"
    assert event.extra == {"view": "left"}


def test_bytes_are_decoded() -> None:
    assert parse_line(b"Saved: '/out/caf\xc3\xa9.png'\n") == Event(K.SAVED, text="/out/café.png")
    assert parse_line(b"Saved: '/out/\xff.png'") == Event(K.SAVED, text="/out/\ufffd.png")


def test_not_a_line_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="must be str or bytes, not int"):
        parse_line(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(("line", "fraction"), [
    ("Fra:1 Mem:1M (Peak 1M) | Time:00:00.10 | Mem:1M, Peak:1M | Scene, ViewLayer | Sample 80/256", 80 / 256),
    ("Fra:1 Mem:1M (Peak 1M) | Time:00:00.10 | Rendering 26 / 64 samples", 26 / 64),
    ("Fra:1 Mem:1M (0.00M, Peak 1M) | Time:00:00.10 | Mem:1M, Peak:1M | S, L | Path Tracing Tile 32/64", 0.5),
    ("Fra:1 Mem:1M (Peak 1M) | Time:00:00.10 | Mem:1M, Peak:1M | S, L | Rendered 1/4 Tiles, Sample 64/128",
     1.5 / 4),
    ("Fra:1 Mem:1M (0.00M, Peak 1M) | Time:00:00.10 | Mem:1M, Peak:1M | S, L | Path Tracing Tile 64/64,"
     " Sample 1/1", 1.0),
    ("Fra:1 Mem:1M (Peak 1M) | Time:00:00.10 | Mem:1M, Peak:1M | S, L | Updating Lights", None),
])
def test_fraction_of_the_frame(line: str, fraction: float | None) -> None:
    event = parse_line(line)
    assert event is not None
    if fraction is None:
        assert event.fraction is None
    else:
        assert event.fraction == pytest.approx(fraction)


def _all_fixture_lines() -> list[str]:
    return [line for path in [*stdout_logs(), *public_logs(), STDOUT_DIR / "errors-3.4.txt"]
            for line in read_lines(path)]


def test_every_fixture_status_line_parses() -> None:
    """No real ``Fra:`` line of any version falls through the status expressions."""
    status_lines = [line for line in _all_fixture_lines()
                    if line.startswith("Fra:") or "| Fra: " in line]
    assert len(status_lines) > 500
    kinds = (K.STATUS, K.FINISHED, K.CANCELLED)
    unparsed = [line for line in status_lines
                if (event := parse_line(line)) is None or event.kind not in kinds]
    assert unparsed == []


def test_every_saved_line_of_the_fixtures_is_read() -> None:
    saved = [line for line in _all_fixture_lines() if "Saved: " in line]
    events = [parse_line(line) for line in saved]
    assert all(e is not None and e.kind == K.SAVED and e.text and "'" not in e.text for e in events)
    assert len(saved) >= 25

