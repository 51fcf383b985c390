"""The per-batch log file written with ``--write-log`` / ``settings.write_log``.

One new file per run, named after its start (docs/api.md, Logs:
``renderplus_[day]-[month]-[year]-[hour]-[minute]-[seconds]``), holding what a person needs to
understand a failed night: the commands, every hook's output and each job's complete Blender
output. The mail password never reaches it: the recipe is written redacted.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

# Only its user reads it (hook output, Blender's output), in any folder: ``--work-dir`` too.
_NEW_PRIVATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def log_file_name(when: float) -> str:
    return time.strftime("renderplus_%d-%m-%Y-%H-%M-%S", time.localtime(when))


class BatchLog:
    """Appends timestamped sections and raw lines; a no-op when no file is open.

    Line-buffered, so a killed Render+ leaves a log that ends where it died. A write that fails
    (a full or read-only disk) closes the log and calls ``on_error`` once with a sentence: a
    failing log never stops a batch.
    """

    def __init__(self, stream: TextIO | None = None, path: Path | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        self._stream = stream
        self.path = path
        self._on_error = on_error
        self._lock = threading.Lock()

    @classmethod
    def open(cls, directory: Path, when: float | None = None,
             on_error: Callable[[str], None] | None = None) -> BatchLog:
        """A new log file in ``directory`` (created); never overwrites an earlier run's file."""
        directory.mkdir(parents=True, exist_ok=True)
        base = log_file_name(time.time() if when is None else when)
        path = directory / base
        counter = 1
        while True:
            try:
                stream = os.fdopen(os.open(path, _NEW_PRIVATE, 0o600), "w", encoding="utf-8", buffering=1)
                break
            except FileExistsError:
                counter += 1
                path = directory / f"{base}_{counter}"
        return cls(stream, path, on_error)

    @property
    def enabled(self) -> bool:
        return self._stream is not None

    def section(self, title: str) -> None:
        self.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {title}")

    def write(self, line: str) -> None:
        with self._lock:
            if self._stream is None:
                return
            try:
                self._stream.write(line + "\n")
            except (OSError, ValueError) as exc:
                problem = self._drop(exc)
            else:
                return
        if self._on_error is not None:
            self._on_error(problem)

    def flush(self) -> None:
        with self._lock:
            if self._stream is not None:
                try:
                    self._stream.flush()
                except OSError as exc:
                    self._drop(exc)

    def close(self) -> None:
        with self._lock:
            if self._stream is not None:
                with contextlib.suppress(OSError):
                    self._stream.close()
                self._stream = None

    def _drop(self, exc: Exception) -> str:
        """Give the file up after a failed write; the sentence to report (lock held)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"cannot write {self.path}: {reason}"
