"""Previews of a batch's frames, made in the background by the frame reader (``frame_reader``).

The job loop calls ``ask`` when a verified frame's marker asks for a preview (a frame a browser
cannot show, with its scene's colour management); ``ask`` never waits: the request goes into a
bounded queue that one worker thread drains, so a preview never makes a job's Blender or the
batch's thread wait. When the queue is full the newest request is dropped (the dashboard then
shows "no preview yet"; the frame itself is untouched). A preview that fails is one line in the
batch's log, never a failed job. The worker asks the reader of the Blender binary that rendered
the frame (one helper per binary, started on first need).

``close`` (when the batch ends; never waits): a finished batch's queued previews are still
made, then the helpers end; a cancelled batch drops them. Either way the worker and its helper
Blenders are gone soon after, and die with Render+ (owned children).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .frame_reader import FrameReader, FrameReaderError

log = logging.getLogger("renderplus.batch")
MAX_WAITING = 256          # previews queued at most; more are dropped, one log line each
GIVE_UP_AFTER = 3          # reader failures in a row (per binary) before no more previews
ReaderFactory = Callable[[str, Mapping[str, str] | None], FrameReader]


@dataclass(frozen=True)
class _Ask:
    frame: str
    blender: str
    look: Mapping[str, Any] | None


class FramePreviews:
    """A batch's preview maker (see the module docstring)."""

    def __init__(self, note: Callable[[str], None], env: Mapping[str, str] | None = None, *,
                 max_waiting: int = MAX_WAITING,
                 reader: ReaderFactory = FrameReader) -> None:
        self._note = note
        self._env = env
        self._make_reader = reader
        self._queue: queue.Queue[_Ask | None] = queue.Queue(max_waiting)
        self._readers: dict[str, FrameReader] = {}
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._drop = threading.Event()    # a cancelled batch: the queued previews are not made

    def ask(self, frame: str, blender: str, look: Mapping[str, Any] | None) -> None:
        """Queue the preview of ``frame`` (rendered by ``blender``); returns at once."""
        with self._lock:
            if self._closed or self._failures.get(blender, 0) >= GIVE_UP_AFTER:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="renderplus-previews",
                                                daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait(_Ask(frame, blender, look))
        except queue.Full:
            self._say(f"No preview of {frame}: {self._queue.maxsize} previews are waiting already")

    def close(self, *, drop_waiting: bool = False) -> None:
        """No more requests; the worker makes what is queued (unless ``drop_waiting``), ends
        the helper Blenders and stops. Returns at once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if drop_waiting:
            self._drop.set()
        if thread is not None:
            self._queue.put(None)  # blocks only while full, and the worker is draining it

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker to stop after ``close`` (tests, a CLI about to exit)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _work(self) -> None:
        try:
            while (asked := self._queue.get()) is not None:
                if not self._drop.is_set():
                    self._make(asked)
        finally:
            for reader in self._readers.values():
                reader.close()

    def _make(self, asked: _Ask) -> None:
        if self._failures.get(asked.blender, 0) >= GIVE_UP_AFTER:
            return
        reader = self._readers.get(asked.blender)
        if reader is None:
            reader = self._readers[asked.blender] = self._make_reader(asked.blender, self._env)
        try:
            answer = reader.request("preview", frame=asked.frame, look=asked.look)
        except FrameReaderError as exc:
            failures = self._failures[asked.blender] = self._failures.get(asked.blender, 0) + 1
            stop = "; no more previews in this batch" if failures >= GIVE_UP_AFTER else ""
            self._say(f"No preview of {asked.frame}: {exc}{stop}")
            return
        self._failures[asked.blender] = 0
        if not answer.get("ok"):
            self._say(f"No preview of {asked.frame}: {answer.get('error') or 'the reader failed'}")

    def _say(self, line: str) -> None:
        log.info("%s", line)
        self._note(line)
