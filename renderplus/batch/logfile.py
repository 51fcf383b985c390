"""The per-batch log file written with ``--write-log`` / ``settings.write_log``.

One new file per run, named as the spec says (``renderplus_[day]-[month]-[year]-[hour]-[minute]-
[seconds]``), holding what a person needs to understand a failed night: the commands, every hook's
output and each job's complete Blender output. The mail password never reaches it: the recipe is
written redacted.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TextIO

DEFAULT_LOG_DIR = Path(__file__).resolve().parent.parent / "server" / "log"


def log_file_name(when: float) -> str:
    return time.strftime("renderplus_%d-%m-%Y-%H-%M-%S", time.localtime(when))


class BatchLog:
    """Appends timestamped sections and raw lines; a no-op when no file is open."""

    def __init__(self, stream: TextIO | None = None, path: Path | None = None) -> None:
        self._stream = stream
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def open(cls, directory: Path, when: float | None = None) -> BatchLog:
        """A new log file in ``directory`` (created); never overwrites an earlier run's file."""
        directory.mkdir(parents=True, exist_ok=True)
        base = log_file_name(time.time() if when is None else when)
        path = directory / base
        counter = 1
        while True:
            try:
                stream = path.open("x", encoding="utf-8")
                break
            except FileExistsError:
                counter += 1
                path = directory / f"{base}_{counter}"
        return cls(stream, path)

    @property
    def enabled(self) -> bool:
        return self._stream is not None

    def section(self, title: str) -> None:
        self.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {title}")

    def write(self, line: str) -> None:
        if self._stream is None:
            return
        with self._lock:
            self._stream.write(line + "\n")

    def flush(self) -> None:
        if self._stream is not None:
            with self._lock:
                self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            with self._lock:
                self._stream.close()
                self._stream = None
