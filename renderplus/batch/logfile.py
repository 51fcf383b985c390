"""The per-batch log file written with ``--write-log`` / ``settings.write_log``.

One new file per run, named after its start (docs/api.md, Logs:
``renderplus_[day]-[month]-[year]-[hour]-[minute]-[seconds]``), holding what a person needs to
understand a failed night: the commands, every hook's output and each job's complete Blender
output. The mail password never reaches it: the recipe is written redacted.

The file is capped (``LOG_LIMIT_BYTES``): a Blender printing without end (millions of status
lines, random bytes) cannot fill the disk through it. At the cap a marker line says when and why
the log was cut; after it only section titles are written, and closing the log adds how many
lines and bytes were left out.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final, TextIO

LOG_LIMIT_BYTES: Final = 100 * 1024 * 1024   # one batch's log file at most (then cut)
CUT_MARK: Final = "=== log cut"

# Only its user reads it (hook output, Blender's output), in any folder: ``--work-dir`` too.
_NEW_PRIVATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def log_file_name(when: float) -> str:
    return time.strftime("renderplus_%d-%m-%Y-%H-%M-%S", time.localtime(when))


class BatchLog:
    """Appends timestamped sections and raw lines; a no-op when no file is open.

    Line-buffered, so a killed Render+ leaves a log that ends where it died. A write that fails
    (a full or read-only disk) closes the log and calls ``on_error`` once with a sentence: a
    failing log never stops a batch. Past ``limit`` bytes the log is cut (module docstring).
    """

    def __init__(self, stream: TextIO | None = None, path: Path | None = None,
                 on_error: Callable[[str], None] | None = None,
                 limit: int | None = None) -> None:
        self._stream = stream
        self.path = path
        self._on_error = on_error
        self._lock = threading.Lock()
        self.limit = LOG_LIMIT_BYTES if limit is None else limit
        self.written = 0                 # bytes written to the file
        self.cut = False
        self.lines_left_out = 0
        self.bytes_left_out = 0

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
        """A section title: written even after the cut (a few lines per job)."""
        self._write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {title}", always=True)

    def write(self, line: str) -> None:
        self._write(line, always=False)

    def _write(self, line: str, always: bool) -> None:
        text = line + "\n"
        size = len(text.encode("utf-8", "replace"))
        with self._lock:
            if self._stream is None:
                return
            if not always and self.written + size > self.limit:
                if not self.cut:
                    text = self._cut_mark()
                    size = len(text.encode("utf-8", "replace"))
                    self.cut = True
                else:
                    text = ""
                self.lines_left_out += 1
                self.bytes_left_out += len(line.encode("utf-8", "replace")) + 1
                if not text:
                    return
            try:
                self._stream.write(text)
                self.written += size
            except (OSError, ValueError) as exc:
                problem = self._drop(exc)
            else:
                return
        if self._on_error is not None:
            self._on_error(problem)

    def _cut_mark(self) -> str:
        """The line that says where and why the log was cut (lock held)."""
        return (f"{CUT_MARK} {time.strftime('%Y-%m-%d %H:%M:%S')}: the log reached its limit of "
                f"{self.limit:,} bytes; from here on only section titles are written, and the "
                f"end of the log says how much was left out\n")

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
                with contextlib.suppress(OSError, ValueError):
                    if self.cut:
                        self._stream.write(
                            f"{CUT_MARK}: {self.lines_left_out:,} line(s), "
                            f"{self.bytes_left_out:,} bytes, were left out after the cut\n")
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
