"""Issue 9, "Blender's output": lines that say why Blender died, harmless exit noise, movie frames.

Lines are real, from public issue threads (cited per row), unless marked ``synthetic``: those
follow the format string of the program that prints them.
"""

from __future__ import annotations

import pytest

from renderplus.batch.parser import EventKind, FatalKind, JobProgress, parse_line

CLOG = "00:08.760  render           | "

# (id, line, fatal kind, or None for an ordinary error)
FATAL_ROWS: list[tuple[str, str, FatalKind | None]] = [
    # modal-labs/modal-examples#45 (Blender 3.x on a cloud GPU)
    ("cuda-context-error", "Error: Failed to create CUDA context (Not permitted)", FatalKind.GPU),
    # vosen/ZLUDA#186 (Blender 4.1.0)
    ("cuda-context-configure", "Failed to configure CUDA context (Invalid context)", FatalKind.GPU),
    # princeton-vl/infinigen#68, ynshung/blender-colab#5
    ("gpu-oom", "System is out of GPU and shared host memory", FatalKind.OUT_OF_MEMORY),
    # vosen/ZLUDA#223 (Blender 4.1)
    ("cuda-oom-call",
     "Out of memory in cuStreamCreate(&cuda_stream_, CU_STREAM_NON_BLOCKING) (C:\\Users\\blender\\git\\"
     "blender-v410\\blender.git\\intern\\cycles\\device\\cuda\\queue.cpp:21)", FatalKind.OUT_OF_MEMORY),
    # ROCm/legacy-rocm-build#2930 (Blender 4.0-4.1, HIP)
    ("hip-memory-fault",
     "Memory access fault by GPU node-1 (Agent handle: 0x7c1aea898400) on address 0x5fd000. Reason: Page"
     " not present or supervisor privilege.", FatalKind.GPU),
    # KillzXGaming/Switch-Toolbox#657
    ("cuda-illegal-address",
     "Illegal address in CUDA queue copy_from_device (integrator_shade_surface"
     " integrator_sorted_paths_array prefix_sum)", FatalKind.GPU),
    # glog fatal lines (format of glog/absl; these two from caffe-based tools' public logs)
    ("glog-fatal",
     "F0422 15:32:44.672654    21 cudnn_conv_layer.cpp:53] Check failed: status == CUDNN_STATUS_SUCCESS"
     " (4 vs. 0)  CUDNN_STATUS_INTERNAL_ERROR", FatalKind.FATAL),
    ("glog-fatal-oom",
     "F0202 10:18:19.439698  3173 syncedmem.cpp:58] Check failed: error == cudaSuccess (2 vs. 0)"
     "  out of memory", FatalKind.OUT_OF_MEMORY),
    ("glog-stack-trace", "*** Check failure stack trace: ***", FatalKind.FATAL),
    # nytimes/rd-blender-docker#38 (Blender 3.1.0, EEVEE without a display)
    ("no-display", "Unable to open a display", FatalKind.DISPLAY),
    # synthetic: Blender's BLI_assert format ``BLI_assert failed: %s:%d, %s(), at '%s'``
    ("bli-assert", "BLI_assert failed: source/blender/blenkernel/intern/lib_id.cc:1043, BKE_id_free_us(),"
     " at 'id->us == 0'", FatalKind.ASSERTION),
    # NixOS/nixpkgs#530702 (Blender 5.1.1)
    ("glibc-assert",
     "blender: ../src/dispatch_common.c:885: epoxy_get_proc_address: Assertion `0 && \"Couldn't find"
     " current GLX or EGL context.\\n\"' failed.", FatalKind.ASSERTION),
    # synthetic: libstdc++'s message when an allocation throws
    ("bad-alloc", "terminate called after throwing an instance of 'std::bad_alloc'", FatalKind.OUT_OF_MEMORY),
    # 5.x log prefix in front of a fatal line (synthetic prefix on the real ZLUDA line)
    ("5x-prefixed", CLOG + "Failed to configure CUDA context (Invalid context)", FatalKind.GPU),
    ("5x-fatal-level", "00:01.002  gpu              | FATAL Unable to initialize GPU backend",
     FatalKind.FATAL),
    # ordinary errors name no fatal cause
    ("no-camera", "Error: Cannot render, no camera", None),
    ("no-device-type", "Error: Found no Cycles device of the specified type", None),
    ("5x-report", "00:00.891  reports          | ERROR Cannot render, no camera", None),
]


@pytest.mark.parametrize(("line", "fatal"), [row[1:] for row in FATAL_ROWS],
                         ids=[row[0] for row in FATAL_ROWS])
def test_fatal_lines_are_named_errors(line: str, fatal: FatalKind | None) -> None:
    event = parse_line(line)
    assert event is not None and event.kind is EventKind.ERROR
    assert event.fatal is fatal


@pytest.mark.parametrize("line", [
    "Segmentation fault (core dumped)",   # the shell's, not Blender's (the crash report line says it)
    "F 12 apples", "Assertion is a word", "System is fine",
])
def test_lookalikes_are_not_fatal(line: str) -> None:
    assert parse_line(line) is None


INVALID_CONTEXT = "Invalid context in cuCtxPopCurrent(NULL) (intern/cycles/device/cuda/util.cpp:31)"


def test_gpu_out_of_memory_names_the_reason_once() -> None:
    """ynshung/blender-colab#5: the same two lines repeat for every tile."""
    progress = JobProgress(frames=[1], engine="CYCLES")
    progress.feed("Fra:1 Mem:16.37M (Peak 16.42M) | Time:00:00.14 | Mem:0.00M, Peak:0.00M | Scene, ViewLayer"
                  " | Synchronizing object | Nebula")
    for _ in range(50):
        progress.feed("System is out of GPU and shared host memory")
        progress.feed(INVALID_CONTEXT)
    assert progress.out_of_memory is True
    assert progress.fatal_kind is FatalKind.OUT_OF_MEMORY
    assert progress.fatal_message == "System is out of GPU and shared host memory"
    assert progress.errors == ["System is out of GPU and shared host memory", INVALID_CONTEXT]
    assert progress.tail(2) == ["System is out of GPU and shared host memory", INVALID_CONTEXT]


def test_first_fatal_cause_wins_and_oom_is_remembered() -> None:
    progress = JobProgress(frames=[1])
    progress.feed("Unable to open a display")
    progress.feed("Out of memory in cuMemAlloc(&device_pointer, size)")
    assert progress.fatal_kind is FatalKind.DISPLAY and progress.out_of_memory is True


def test_no_fatal_on_a_clean_render() -> None:
    progress = JobProgress(frames=[1])
    progress.feed("Saved: '/out/a_0001.png'")
    assert progress.fatal_kind is None and progress.fatal_message is None and not progress.out_of_memory


# -- exit noise --------------------------------------------------------------------------------

def test_leak_report_after_quit_is_not_an_error() -> None:
    """libsm64/libsm64-blender#29: ``Blender quit`` then the guarded allocator's leak report."""
    progress = JobProgress(frames=[1], engine="CYCLES")
    for line in ["Saved: '/out/a_0001.png'", " Time: 00:00.49 (Saving: 00:00.38)", "", "Blender quit",
                 "Error: Not freed memory blocks: 4, total unfreed memory 0.000420 MB",
                 "name len: 24 0x7f2b0c0a8f08"]:  # synthetic: a block of the leak list that follows
        progress.feed(line)
    assert progress.errors == [] and progress.fatal_kind is None
    assert progress.progress == 100.0 and progress.quit is True
    assert progress.tail() == ["Saved: '/out/a_0001.png'"]


@pytest.mark.parametrize(("line", "kind"), [
    ("Blender quit", EventKind.QUIT),
    ("Blender quit ", EventKind.QUIT),  # 4.4 Windows console copy
    ("Error: Not freed memory blocks: 26145, total unfreed memory 8.857952 MB", EventKind.MEMORY_LEAK),
])
def test_exit_lines(line: str, kind: EventKind) -> None:
    event = parse_line(line)
    assert event is not None and event.kind is kind


# -- 5.x movie output --------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "frame"), [
    (CLOG + "Video append frame 45", 45),   # quoted from another project's 5.x test
    ("Video append frame 3", 3),            # Blender's CLOG_INFO(&LOG, "Video append frame %d")
    ("Append frame 1", 1),                  # 2.93-4.x
])
def test_video_append_frame(line: str, frame: int) -> None:
    event = parse_line(line)
    assert event is not None and event.kind is EventKind.APPENDED and event.frame == frame


def test_5x_movie_job_reaches_100() -> None:
    progress = JobProgress(frames=range(1, 4), engine="CYCLES")
    for frame in (1, 2, 3):
        progress.feed(f"00:0{frame}.100  render           | Fra: {frame} | Mem: 1M | Sample 1/1")
        progress.feed(f"00:0{frame}.200  render           | Video append frame {frame}")
        progress.feed(f"00:0{frame}.210  render           | Time: 00:00.11")
    assert progress.frames_done == 3 and progress.progress == 100.0
