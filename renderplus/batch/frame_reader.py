"""The frame reader: a helper Blender that reads frames outside the Blender rendering them.

Render+ reads EXR and the other frames a browser cannot show with the very Blender binary that
rendered them, never inside a render handler (docs/blender.md, Reading frames outside the
rendering Blender). ``FrameReader`` owns one such helper: started on the first request
(``blender -b --factory-startup --python read_frames.py -- --renderplus-reader``), fed one JSON
request a line on stdin, answering one marker line each (``blender_scripts/read_frames.py``).

The helper is an owned child (``spawner.spawn``: its own process group, it dies with Render+);
a request that times out, or a helper that dies, ends it, and the next request starts a new
one. One caller at a time (the previews' worker thread); ``close`` from any thread.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import queue
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import spawner
from .markers import MARKER_PREFIX, parse_marker
from .process import OwnedProcess
from .script_paths import READER_SCRIPT

READER_FLAG = "--renderplus-reader"
START_TIMEOUT = 120.0     # seconds for the helper Blender to start (a loaded machine is slow)
REQUEST_TIMEOUT = 60.0    # seconds for one answer (a 4K multilayer EXR takes about one)
Spawn = Callable[..., OwnedProcess]


class FrameReaderError(Exception):
    """The helper could not start, died, or did not answer in time (it has been ended)."""


def reader_argv(blender: str) -> list[str]:
    return [blender, "-b", "--factory-startup", "--python-exit-code", "1",
            "--python", str(READER_SCRIPT), "--", READER_FLAG]


class FrameReader:
    """One helper Blender, started lazily; ``request`` returns its answer's fields."""

    def __init__(self, blender: str, env: Mapping[str, str] | None = None, *,
                 start_timeout: float = START_TIMEOUT, request_timeout: float = REQUEST_TIMEOUT,
                 spawn: Spawn = spawner.spawn) -> None:
        self.blender = blender
        self.env = env
        self.start_timeout = start_timeout
        self.request_timeout = request_timeout
        self._spawn = spawn
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._process: OwnedProcess | None = None
        self._answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._said: collections.deque[str] = collections.deque(maxlen=5)  # its last other lines

    @property
    def running(self) -> bool:
        process = self._process
        return process is not None and process.popen.poll() is None

    def start(self) -> None:
        """Start the helper now (it is ready for the first request); ``FrameReaderError``."""
        self._started()

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send one request and wait for its answer (``ok``, ``error`` or the op's fields)."""
        process = self._started()
        request_id = next(self._ids)
        line = json_line({"id": request_id, "op": op, **fields})
        try:
            assert process.popen.stdin is not None
            process.popen.stdin.write(line)
            process.popen.stdin.flush()
        except (OSError, ValueError) as exc:
            raise self._failed(f"it stopped reading ({exc})") from exc
        while True:
            answer = self._next(self.request_timeout, "to answer")
            if answer.get("event") == "answer" and answer.get("id") == request_id:
                return answer

    def close(self, grace: float = 2.0) -> None:
        """End the helper: stdin closed (it quits), SIGKILL to its group after ``grace``."""
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            assert process.popen.stdin is not None
            process.popen.stdin.close()
        threading.Thread(target=_end, args=(process, grace), name="renderplus-reader-end",
                         daemon=True).start()

    def _started(self) -> OwnedProcess:
        if self.running:
            assert self._process is not None
            return self._process
        self.close(0.0)
        self._answers = queue.Queue()
        try:
            process = self._spawn(reader_argv(self.blender), env=self.env, stdin_pipe=True)
        except OSError as exc:
            raise FrameReaderError(f"cannot start {self.blender}: {exc.strerror or exc}") from exc
        with self._lock:
            self._process = process
        threading.Thread(target=self._read, args=(process, self._answers),
                         name="renderplus-reader-out", daemon=True).start()
        while self._next(self.start_timeout, "to start").get("event") != "reader_ready":
            pass
        return process

    def _read(self, process: OwnedProcess, answers: queue.Queue[dict[str, Any] | None]) -> None:
        with contextlib.suppress(OSError, ValueError):  # the pipe closed under us
            for line in process.lines():
                marker = parse_marker(line) if line.startswith(MARKER_PREFIX) else None
                if marker is not None:
                    answers.put(marker)
                elif line.strip():
                    self._said.append(line.strip())
        answers.put(None)  # the helper closed its output: it has ended

    def _next(self, timeout: float, what: str) -> dict[str, Any]:
        try:
            answer = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise self._failed(f"it took over {timeout:g} s {what}") from None
        if answer is None:
            raise self._failed("it ended")
        return answer

    def _failed(self, why: str) -> FrameReaderError:
        self.close(0.0)
        said = f" (it said: {self._said[-1]})" if self._said else ""
        return FrameReaderError(f"the frame reader ({self.blender}): {why}{said}")


def json_line(fields: Mapping[str, Any]) -> bytes:
    return (json.dumps(fields, separators=(",", ":")) + "\n").encode("utf-8")


def _end(process: OwnedProcess, grace: float) -> None:
    """Let the helper quit on its closed stdin; after ``grace`` end its group; reap it."""
    try:
        process.popen.wait(grace)
    except subprocess.TimeoutExpired:
        process.terminate(1.0)
    process.wait()
