"""Runs inside Blender for ``--list-gpus`` (batch/gpus.py): reports Cycles' render devices.

Prints one marker line with the device backends (CUDA, OPTIX, HIP, ...), every device Cycles
sees and the CPU thread count. Standard library and bpy only (Blender 2.80 to 5.x).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import bpy

PREFIX = "RENDERPLUS> "  # markers.MARKER_PREFIX (a test keeps them equal)


def device_types(prefs: Any) -> list[str]:
    if not hasattr(prefs, "get_device_types"):
        return []
    return [t[0] for t in prefs.get_device_types(bpy.context) if t[0] != "NONE"]


def main() -> None:
    preferences: Any = bpy.context.preferences  # never None in a running Blender
    prefs = preferences.addons["cycles"].preferences
    if hasattr(prefs, "refresh_devices"):
        prefs.refresh_devices()
    else:
        prefs.get_devices()
    types = device_types(prefs)
    devices: list[dict[str, str]] = []
    for device_type in types:
        try:
            found = prefs.get_devices_for_type(device_type) if hasattr(prefs, "get_devices_for_type") else []
        except Exception:  # a backend whose driver is missing raises; it simply has no devices
            found = []
        devices += [{"type": d.type, "name": d.name, "id": d.id} for d in found]
    for device in prefs.devices:
        entry = {"type": device.type, "name": device.name, "id": device.id}
        if entry not in devices:
            devices.append(entry)
    print(PREFIX + json.dumps({"event": "devices", "blender": bpy.app.version_string,
                               "backends": types, "devices": devices, "threads": os.cpu_count()}))
    sys.stdout.flush()


main()
