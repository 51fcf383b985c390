"""Output lines that name why Blender died: GPU and driver failures, memory, display, assertions.

A crashed job must say why. These patterns come from real reports (Cycles on CUDA, HIP, OptiX,
Metal; ROCm's runtime; glog-style ``F0523 12:34:56.789 ...`` fatal lines of the libraries Cycles
links; glibc's and Blender's assertions). ``classify_line`` reads a line Blender's grammar does
not know; ``classify_error`` names the reason inside an ``Error: ...`` line. Both return None
when the line names no known fatal cause, so only what is recognised is ever labelled.
"""

from __future__ import annotations

import re
from enum import Enum


class FatalKind(Enum):
    """Why a job died, as far as its output says; the value is the words a message uses."""

    OUT_OF_MEMORY = "out of memory"
    GPU = "GPU or driver failure"
    DISPLAY = "no display"
    ASSERTION = "assertion failed"
    CRASH = "crash"
    FATAL = "fatal error"
    UNREADABLE_FILE = "unreadable .blend file"  # not a crash: the same file fails every time


# glog / absl: ``F0523 12:34:56.789012  1234 file.cc:42] Check failed: ...`` (F = fatal severity).
_GLOG_FATAL = re.compile(r"F\d{4} \d\d:\d\d:\d\d(?:\.\d+)? ")
# glibc: ``blender: ../src/dispatch_common.c:885: epoxy_get_proc_address: Assertion `0' failed.``
_C_ASSERT = re.compile(r": Assertion .* failed\.?$")
_GPU_WORDS = re.compile(r"\b(?:CUDA|HIP|OptiX|OPTIX|Metal|oneAPI|ONEAPI|OpenCL|GPU)\b")
_GPU_FAILURE = re.compile(r"\b(?:context|device|kernel|queue|driver)\b", re.IGNORECASE)
# Cycles' device errors, whatever the driver's wording (``cuda_assert``, ``hip_assert``,
# ``optix_assert``, oneAPI's and Metal's checks): ``<what> in <driver call>(...) (<source>)``,
# the source being Cycles' file of that backend, relative or as the build machine's full path:
# ``Launch failed in cuCtxSynchronize() (intern/cycles/device/cuda/queue.cpp:147)``.
DEVICE_SOURCE_MARK = "cycles"  # the cheap test before ``_DEVICE_ERROR``: most lines lack it
_DEVICE_ERROR = re.compile(
    r"(?:Error: |ERROR )?(?P<what>\S.*?) in (?P<call>\S.*) \((?P<source>(?:[^()]*[\\/])?"
    r"intern[\\/]cycles[\\/]device[\\/](?P<backend>cuda|hip|optix|oneapi|metal)[\\/][^()]*)\)$")
# Blender cannot read the .blend at all (2.8x-5.x): a damaged or truncated file, or not a .blend.
# (``Cannot read file '...': <errno>`` is not one: a folder that comes back may pass next time.)
_UNREADABLE_BLEND = ("File format is not supported in file '", "Failed to read blend file '",
                     "Cannot read blend file '")   # 4.x: "..., may be from a newer version of Blender"

# (prefix, kind): lines that are fatal whatever follows; the first matching prefix wins.
_PREFIXES: tuple[tuple[str, FatalKind], ...] = (
    ("System is out of GPU", FatalKind.OUT_OF_MEMORY),      # "... and shared host memory" / "... memory"
    ("Out of memory in ", FatalKind.OUT_OF_MEMORY),         # CUDA/HIP call failures
    ("Malloc returns null", FatalKind.OUT_OF_MEMORY),       # Blender's guarded allocator
    ("Calloc returns null", FatalKind.OUT_OF_MEMORY),
    ("terminate called after throwing an instance of 'std::bad_alloc'", FatalKind.OUT_OF_MEMORY),
    ("Failed to create CUDA context", FatalKind.GPU),
    ("Failed to configure CUDA context", FatalKind.GPU),
    ("Failed to create HIP context", FatalKind.GPU),
    ("Memory access fault by GPU", FatalKind.GPU),           # ROCm / HIP
    ("Illegal address in ", FatalKind.GPU),                  # "... CUDA queue", "... HIP queue"
    ("OptiX error", FatalKind.GPU),
    ("Unable to open a display", FatalKind.DISPLAY),
    ("BLI_assert failed", FatalKind.ASSERTION),
    ("*** Check failure stack trace", FatalKind.FATAL),      # glog, after its F line
)
_FIRST_CHARS = frozenset(prefix[0] for prefix, _ in _PREFIXES)
# A line may name a fatal cause only if it starts with one of these or holds "Assertion ":
# the grammar checks this before calling ``classify_line`` (most lines are neither).
FATAL_FIRST_CHARS = _FIRST_CHARS | {"F"}


def classify_line(text: str) -> FatalKind | None:
    """The fatal cause a line (without line end) names, or None. ``text`` is not empty."""
    first = text[0]
    if first in _FIRST_CHARS:
        for prefix, kind in _PREFIXES:
            if text.startswith(prefix):
                return kind
    if first == "F" and _GLOG_FATAL.match(text):
        return classify_error(text) or FatalKind.FATAL
    if "Assertion " in text and _C_ASSERT.search(text):
        return FatalKind.ASSERTION
    return None


def classify_error(text: str) -> FatalKind | None:
    """The fatal cause an error message names (``Error: Failed to create CUDA context ...``)."""
    lower = text.lower()
    if "out of memory" in lower or "out of gpu" in lower or "bad_alloc" in lower:
        return FatalKind.OUT_OF_MEMORY
    if any(words in text for words in _UNREADABLE_BLEND):
        return FatalKind.UNREADABLE_FILE
    device = classify_device_error(text)
    if device is not None:
        return device
    if _GPU_WORDS.search(text) and _GPU_FAILURE.search(text):
        return FatalKind.GPU
    return None


def classify_device_error(text: str) -> FatalKind | None:
    """A Cycles device error line (``_DEVICE_ERROR``), of any wording: out of memory when it
    says so, else a GPU or driver failure; None for any other line."""
    if DEVICE_SOURCE_MARK not in text or text[-1] != ")":
        return None
    match = _DEVICE_ERROR.match(text)
    if match is None:
        return None
    what = match.group("what").lower()
    return FatalKind.OUT_OF_MEMORY if "memory" in what else FatalKind.GPU


def unreadable_blend_reason(message: str) -> str:
    """Blender's sentence about an unreadable .blend, without its ``Error: `` prefix."""
    for prefix in ("Error: ", "ERROR "):
        message = message.removeprefix(prefix)
    return message
