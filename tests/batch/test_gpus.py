"""``--list-gpus``: what Blender reports, numbered and formatted as docs/api.md shows."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from renderplus.batch.gpus import GpuListError, format_devices, list_devices, parse_devices

H200 = {"blender": "4.2.3", "backends": ["CUDA", "OPTIX"], "threads": 16, "devices": [
    {"type": "CUDA", "name": "NVIDIA H200", "id": "CUDA_NVIDIA H200_0000:1b:00"},
    {"type": "OPTIX", "name": "NVIDIA H200", "id": "OPTIX_NVIDIA H200_0000:1b:00"},
    {"type": "CUDA", "name": "NVIDIA RTX A4000", "id": "CUDA_NVIDIA RTX A4000_0000:3c:00"},
    {"type": "CPU", "name": "AMD EPYC 9354", "id": "CPU"}]}


def test_one_card_seen_by_two_backends_is_listed_once_with_its_number() -> None:
    devices = parse_devices(H200)
    assert [(g.number, g.name, g.backends) for g in devices.gpus] == [
        (0, "NVIDIA H200", ["CUDA", "OPTIX"]), (1, "NVIDIA RTX A4000", ["CUDA"])]
    text = format_devices(devices).splitlines()
    assert text[:4] == ["GPUS AVAILABLE FOR RENDERING", "-" * 80, "NVIDIA H200 | Number: 0",
                        "NVIDIA RTX A4000 | Number: 1"]
    assert "Number 0 renders with CUDA, OPTIX" in text
    assert text[-1] == "CPU: AMD EPYC 9354 | Threads: 16"


def test_no_gpu_says_so_and_names_the_cpu() -> None:
    devices = parse_devices({"blender": "3.4.1", "backends": ["CUDA", "HIP"], "threads": 2,
                             "devices": [{"type": "CPU", "name": "Intel Xeon Processor", "id": "CPU"}]})
    assert format_devices(devices).splitlines()[2:] == [
        "No GPU found: Blender 3.4.1 renders on the CPU only (GPU backends in this build: CUDA, HIP).",
        "CPU: Intel Xeon Processor | Threads: 2"]


def test_garbage_from_blender_is_tolerated() -> None:
    devices = parse_devices({"devices": ["x", {"type": "CUDA"}, None], "backends": "nope"})
    assert [g.number for g in devices.gpus] == [0] and devices.backends == []


def test_a_binary_that_is_not_blender_raises(tmp_path: Path) -> None:
    with pytest.raises(GpuListError, match="did not list its devices"):
        list_devices(shutil.which("true") or "/bin/true")
    with pytest.raises(GpuListError, match="cannot run"):
        list_devices(str(tmp_path / "missing"))


def test_a_wrapped_blender_that_crashed_while_listing_names_the_signal() -> None:
    def crashed(argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 139, "", "Segmentation fault\n")
    with pytest.raises(GpuListError, match=re.escape(
            "did not list its devices (killed by signal 11, SIGSEGV; exit status 139 from its "
            "wrapper): Segmentation fault")):
        list_devices("/opt/blender-wrapper", run=crashed)


@pytest.mark.blender
def test_the_real_blender_lists_at_least_a_cpu() -> None:
    devices = list_devices(shutil.which("blender") or "/usr/bin/blender")
    assert devices.blender[0].isdigit()
    assert devices.cpus and devices.threads
    assert all(gpu.backends for gpu in devices.gpus)
