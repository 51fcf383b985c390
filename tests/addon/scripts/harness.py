"""Shared by the scripts that tests/addon runs inside real Blender (the bpy wheel, or Debian's
Blender 3.4). Standard library only: Blender's own Python has no pytest.

A script does its steps, collects what it observed into a dict, and prints it as one JSON line
after ``RESULT_PREFIX``; the pytest side parses it and asserts. Any exception becomes
``{"error": traceback}`` so the test shows Blender's side of a failure.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable
from typing import Any

RESULT_PREFIX = "RENDERPLUS_TEST_RESULT "
EXTENSION = "bl_ext.user_default.renderplus"
SPAWNER = "renderplus-spawner"  # the engine's thread that starts every child process


def arguments() -> dict[str, Any]:
    """The JSON object the test passed: the last argument (after ``--`` in Blender's argv)."""
    return json.loads(sys.argv[-1])


def run(main: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    try:
        result = main(arguments())
    except BaseException:
        result = {"error": traceback.format_exc()}
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)


def install_extension(zip_path: str) -> str:
    """Install the built zip as an extension (enabled) and return its module name."""
    # bpy first: importing it puts Blender's script modules (addon_utils) on sys.path
    import bpy  # noqa: I001
    import addon_utils

    bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                             enable_on_install=True)
    if not addon_utils.check(EXTENSION)[1]:
        raise RuntimeError(f"{EXTENSION} is not enabled after installing {zip_path}")
    return EXTENSION


def submodule(addon: str, name: str) -> Any:
    return sys.modules[f"{addon}.addon.{name}"]


def registered_names() -> list[str]:
    """Render+'s classes that Blender has registered right now (property groups and
    preferences are not listed in ``bpy.types``: look for registered subclasses too)."""
    import bpy

    names = {n for n in dir(bpy.types) if n.startswith(("RENDERPLUS_", "RenderPlus"))}
    todo = [bpy.types.PropertyGroup, bpy.types.AddonPreferences]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if cls.__name__.startswith("RenderPlus") and getattr(cls, "is_registered", False):
                names.add(cls.__name__)
    return sorted(names)


def thread_names(settle_to: list[str] | None = None, timeout: float = 2.0) -> list[str]:
    """Names of the live threads; with ``settle_to``, give threads that are already ending
    (a cancelled kill timer wakes up and exits) up to ``timeout`` seconds to be gone."""
    deadline = time.monotonic() + timeout
    names = sorted(t.name for t in threading.enumerate())
    while settle_to is not None and names != sorted(settle_to) and time.monotonic() < deadline:
        time.sleep(0.02)
        names = sorted(t.name for t in threading.enumerate())
    return names


def request_threads() -> set[threading.Thread]:
    """The server's threads that serve a connection each (the slow client's among them)."""
    return {t for t in threading.enumerate() if t.name == "renderplus-http"}


def hold_request_thread(port: int) -> tuple[socket.socket, bool]:
    """Open a connection whose request head never completes: the server keeps a thread on it
    and a stop waits for it (its grace). The socket, and whether the server took it in 10 s."""
    earlier = request_threads()
    slow = socket.create_connection(("127.0.0.1", port), timeout=10)
    slow.sendall(b"GET /batch HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return slow, pump_until(lambda: None, lambda: bool(request_threads() - earlier), timeout=10)


def descendants(pid: int | None = None) -> list[int]:
    """Live descendant processes (from /proc), e.g. Blender jobs a batch left behind."""
    pid = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class AtexitWatch:
    """Tracks the exit callbacks registered and unregistered from now on (CPython's own count,
    ``atexit._ncallbacks()``, never goes down: unregistering only blanks a slot)."""

    def __init__(self) -> None:
        import atexit

        self.live: list[Callable[..., Any]] = []
        register, unregister = atexit.register, atexit.unregister

        def watched_register(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
            self.live.append(func)
            return register(func, *args, **kwargs)

        def watched_unregister(func: Callable[..., Any]) -> None:
            self.live = [f for f in self.live if f != func]
            unregister(func)

        atexit.register, atexit.unregister = watched_register, watched_unregister  # type: ignore[assignment]

    def names(self, prefix: str) -> list[str]:
        return sorted(f"{f.__module__}.{f.__qualname__}" for f in self.live
                      if getattr(f, "__module__", "").startswith(prefix))


def port_is_free(port: int) -> bool:
    """Nothing listens on the port: connecting is refused, and a new server could bind it
    (SO_REUSEADDR, as servers do, so closed connections in TIME_WAIT do not count)."""
    with socket.socket() as probe:
        probe.settimeout(2)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def http_json(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """(status, decoded JSON answer) of a request; ``body`` is sent as JSON, ``token`` as the
    server's access token."""
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def pump_until(pump: Callable[[], Any], done: Callable[[], bool], timeout: float,
               every: Callable[[], None] | None = None) -> bool:
    """Call the add-on's pump like Blender's timer would, until ``done()`` or the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pump()
        if every is not None:
            every()
        if done():
            return True
        time.sleep(0.05)
    pump()
    return done()


def write_png(path: str, width: int, height: int) -> None:
    """A real grey RGB PNG of ``width`` x ``height`` (standard library only: one IDAT chunk)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x80" * (3 * width)  # filter byte "none", then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as stream:
        stream.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))
