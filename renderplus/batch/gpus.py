"""``--list-gpus BLENDER_BIN``: the GPUs a given Blender can render with, and their numbers.

Only that Blender knows which compute backends (CUDA, OptiX, HIP, oneAPI, Metal) its build has
and which devices its drivers see, so this runs it once with a small script that asks Cycles'
preferences and prints the answer as one marker line. A GPU that several backends see (CUDA and
OptiX on one NVIDIA card) is listed once, numbered in the order Blender reports them, with its
backends; on a machine without a usable GPU the listing says so and names the CPU instead.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field

from .exit_status import ExitStatus
from .markers import parse_marker
from .script_paths import DEVICES_SCRIPT

LIST_TIMEOUT = 120.0
RULE = "-" * 80



@dataclass
class Gpu:
    number: int
    name: str
    backends: list[str] = field(default_factory=list)


@dataclass
class DeviceList:
    blender: str
    gpus: list[Gpu]
    cpus: list[str]
    backends: list[str]
    threads: int | None = None


class GpuListError(RuntimeError):
    """Blender could not be run or did not answer; ``str()`` says why."""


def _physical_id(device_id: str, device_type: str) -> str:
    """Blender's device id without its backend prefix (``CUDA_NVIDIA H200_0000:1b:00`` ->
    ``NVIDIA H200_0000:1b:00``), so one card seen by two backends is one entry."""
    prefix = device_type + "_"
    return device_id[len(prefix):] if device_id.startswith(prefix) else device_id


def parse_devices(payload: dict[str, object]) -> DeviceList:
    """The probe's marker payload as numbered GPUs (one per physical card) and CPUs."""
    gpus: dict[str, Gpu] = {}
    cpus: list[str] = []
    raw_devices = payload.get("devices")
    for raw in raw_devices if isinstance(raw_devices, list) else []:
        if not isinstance(raw, dict):
            continue
        kind, name = str(raw.get("type", "")), str(raw.get("name", "")).strip()
        if kind == "CPU":
            if name and name not in cpus:
                cpus.append(name)
            continue
        key = _physical_id(str(raw.get("id", name)), kind)
        gpu = gpus.get(key)
        if gpu is None:
            gpu = gpus[key] = Gpu(number=len(gpus), name=name or key)
        if kind not in gpu.backends:
            gpu.backends.append(kind)
    backends = payload.get("backends")
    threads = payload.get("threads")
    return DeviceList(blender=str(payload.get("blender", "")), gpus=list(gpus.values()), cpus=cpus,
                      backends=[str(b) for b in backends] if isinstance(backends, list) else [],
                      threads=threads if isinstance(threads, int) else None)


def list_devices(blender_bin: str, *, run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
                 timeout: float = LIST_TIMEOUT) -> DeviceList:
    """Run ``blender_bin`` and return what it can render with; GpuListError when it cannot tell."""
    argv = [blender_bin, "-b", "--factory-startup", "--python-exit-code", "1",
            "--python", str(DEVICES_SCRIPT)]
    try:
        result = run(argv, capture_output=True, text=True, timeout=timeout,
                     stdin=subprocess.DEVNULL, errors="replace")
    except subprocess.TimeoutExpired:
        raise GpuListError(f"{blender_bin} did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise GpuListError(f"cannot run {blender_bin}: {exc.strerror or exc}") from None
    for line in result.stdout.splitlines():
        marker = parse_marker(line)
        if marker is not None and marker.get("event") == "devices":
            return parse_devices(marker)
    tail = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
    how = ExitStatus.of(result.returncode).describe()
    raise GpuListError(f"{blender_bin} did not list its devices ({how}): {tail[0]}")


def format_devices(devices: DeviceList) -> str:
    """The ``--list-gpus`` listing (docs/api.md, Command line): a title, a rule, then
    ``NAME | Number: N`` per GPU."""
    lines = ["GPUS AVAILABLE FOR RENDERING", RULE]
    for gpu in devices.gpus:
        lines.append(f"{gpu.name} | Number: {gpu.number}")
    if devices.gpus:
        lines.append("")
        lines.extend(f"Number {gpu.number} renders with {', '.join(gpu.backends)}" for gpu in devices.gpus)
    else:
        backends = ", ".join(devices.backends) or "none"
        lines.append(f"No GPU found: Blender {devices.blender} renders on the CPU only "
                     f"(GPU backends in this build: {backends}).")
    for cpu in devices.cpus or ["(unnamed CPU)"]:
        threads = f" | Threads: {devices.threads}" if devices.threads else ""
        lines.append(f"CPU: {cpu}{threads}")
    return "\n".join(lines)
