"""Lines that decide how a job fails: Cycles' device errors in any wording, a .blend Blender
cannot read, a frame it could not write (docs/blender.md, Output lines by version)."""

from __future__ import annotations

import pytest

from renderplus.batch.parser import JobProgress
from renderplus.batch.parser.fatal import FatalKind
from renderplus.batch.parser.lines import EventKind, parse_line

# ``<what> in <driver call>(...) (<Cycles source of the backend>)``: the assert macros of each
# backend print the driver's own name for the error, so the wording is open-ended.
DEVICE_ERRORS = [
    ("Launch failed in cuCtxSynchronize() (intern/cycles/device/cuda/queue.cpp:147)", FatalKind.GPU),
    ("Invalid value in cuMemcpyHtoD((CUdeviceptr)mem.device_pointer + offset, host, size) "
     "(/home/builder/blender/intern/cycles/device/cuda/device_impl.cpp:1024)", FatalKind.GPU),
    ("Out of memory in cuMemAlloc_v2(&device_pointer, size) "
     "(intern/cycles/device/cuda/device_impl.cpp:828)", FatalKind.OUT_OF_MEMORY),
    ("Invalid device pointer in hipMemcpyDtoH((uchar *)mem.host_pointer + offset, "
     "(hipDeviceptr_t)(mem.device_pointer + offset), size) "
     "(C:\\b\\blender\\intern\\cycles\\device\\hip\\device_impl.cpp:1031)", FatalKind.GPU),
    ("hipErrorOutOfMemory in hipMalloc(&device_pointer, size) "
     "(intern/cycles/device/hip/device_impl.cpp:700)", FatalKind.OUT_OF_MEMORY),
    ("OPTIX_ERROR_CUDA_ERROR in optixLaunch(pipelines[PIP_SHADE], cuda_stream, launch_params_ptr, "
     "sizeof(KernelParamsOptiX), &sbt_params, work_size, 1, 1) "
     "(intern/cycles/device/optix/queue.cpp:126)", FatalKind.GPU),
    ("OPTIX_ERROR_HOST_OUT_OF_MEMORY in optixAccelBuild(context, NULL, &options, &build_input, 1, "
     "temp_mem.device_pointer, sizes.tempSizeInBytes, out_data.device_pointer, "
     "sizes.outputSizeInBytes, &out_handle, NULL, 0) (intern/cycles/device/optix/device_impl.cpp:1093)",
     FatalKind.OUT_OF_MEMORY),
    ("UR_RESULT_ERROR_DEVICE_LOST in queue->wait_and_throw() "
     "(intern/cycles/device/oneapi/device_impl.cpp:402)", FatalKind.GPU),
    ("Native API failed in sycl::malloc_device(memory_size, *queue) "
     "(/b/intern/cycles/device/oneapi/device_impl.cpp:288)", FatalKind.GPU),
    ("Command buffer execution failed in [mtlComputeCommandBuffer commit]() "
     "(intern/cycles/device/metal/queue.mm:785)", FatalKind.GPU),
    ("Insufficient Memory in [mtlDevice newBufferWithLength:size options:options]() "
     "(intern/cycles/device/metal/device_impl.mm:630)", FatalKind.OUT_OF_MEMORY),
]

NOT_DEVICE_ERRORS = [
    "Rendering in progress (intern/cycles/session/session.cpp)",      # no driver call, other folder
    "Read in file() (intern/cycles/scene/image.cpp:10)",              # Cycles, but not a device
    "Compiling kernels in CUDA (intern/cycles/device/cuda)",          # no call
    "Fra:1 Mem:9M (Peak 9M) | Time:00:01.00 | Sample 1/4",
]


@pytest.mark.parametrize(("line", "kind"), DEVICE_ERRORS)
def test_every_device_error_is_an_error_with_its_kind(line: str, kind: FatalKind) -> None:
    event = parse_line(line)
    assert event is not None and event.kind is EventKind.ERROR and event.fatal is kind
    assert event.text == line
    prefixed = parse_line("Error: " + line)  # as Blender's report repeats it
    assert prefixed is not None and prefixed.fatal is kind


@pytest.mark.parametrize("line", NOT_DEVICE_ERRORS)
def test_lookalikes_are_no_device_error(line: str) -> None:
    event = parse_line(line)
    assert event is None or event.fatal is None


def test_a_job_keeps_each_device_error_once() -> None:
    progress = JobProgress(frames=[1], engine="CYCLES")
    first, second = DEVICE_ERRORS[0][0], DEVICE_ERRORS[3][0]
    for _ in range(20):  # the same two lines for every tile
        progress.feed(first)
        progress.feed(second)
    assert progress.errors == [first, second]
    assert progress.fatal_kind is FatalKind.GPU and progress.fatal_message == first


@pytest.mark.parametrize("line", [
    "Error: File format is not supported in file '/shots/notes.blend'",
    "Error: Failed to read blend file '/shots/cut.blend': Missing DNA block",
    "Error: Failed to read blend file '/shots/cut.blend', not a blend file",
])
def test_an_unreadable_blend_is_a_file_error(line: str) -> None:
    event = parse_line(line)
    assert event is not None and event.kind is EventKind.ERROR
    assert event.fatal is FatalKind.UNREADABLE_FILE


@pytest.mark.parametrize(("line", "path", "reason"), [
    ("Error: Render error (No space left on device) cannot save: '/out/f_0001.png'",
     "/out/f_0001.png", "No space left on device"),
    ('OpenEXR-writePixels: ERROR: Failed to write pixel data to image file "/out/f_0001.exr". '
     "No space left on device.", "/out/f_0001.exr", "No space left on device"),
    ("00:04.230  render           | ERROR Render error (Disk quota exceeded) cannot save: '/o/a.png'",
     "/o/a.png", "Disk quota exceeded"),
])
def test_a_write_error_names_the_file_and_why(line: str, path: str, reason: str) -> None:
    event = parse_line(line)
    assert event is not None and event.kind is EventKind.WRITE_FAILED
    assert event.text == path and event.extra == {"reason": reason}


def test_a_frame_blender_could_not_write_is_no_frame_even_with_saved_after() -> None:
    progress = JobProgress(frames=[1, 2])
    progress.feed("Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.09 | Rendering 1 / 4 samples")
    progress.feed('OpenEXR-writePixels: ERROR: Failed to write pixel data to image file '
                  '"/out/f_0001.exr". No space left on device.')
    progress.feed("Saved: '/out/f_0001.exr'")
    assert progress.frames_done == 0 and progress.saved_files == []
    assert progress.unwritten == {"/out/f_0001.exr": "No space left on device"}
    assert progress.errors == ["Blender could not write /out/f_0001.exr (No space left on device)"]
    progress.feed("Fra:2 Mem:9.91M (Peak 10.83M) | Time:00:00.09 | Rendering 1 / 4 samples")
    progress.feed("Saved: '/out/f_0002.exr'")
    assert progress.frames_done == 1
