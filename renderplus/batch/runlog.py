"""A batch's log file and its folders: where the log goes, when one is written at all.

Every part of a batch writes to the one ``RunLog`` it was given; the log file itself
(``logfile.BatchLog``) is opened when the batch starts running, if the options or the recipe
ask for it. Until then, and without a log, writing is a no-op. A log that stops working (a full
disk) is said once in the batch's messages and the batch goes on without it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .logfile import BatchLog
from .options import RunOptions
from .paths import state_dir
from .recipe import Recipe


def log_dir(options: RunOptions) -> Path:
    """Where a batch's log files go: the options' folder, else the state folder's ``log``."""
    return Path(options.log_dir) if options.log_dir else state_dir() / "log"


def work_dir(options: RunOptions) -> Path:
    """Where a batch keeps what outlives a job (crash reports): the log folder or the state folder."""
    return Path(options.log_dir) if options.log_dir else state_dir()


class RunLog:
    """The batch's log: a no-op until ``open`` found that one is wanted and could be written."""

    def __init__(self, report: Callable[[str], None]) -> None:
        self._report = report
        self._file = BatchLog(on_error=self._failed)

    @property
    def path(self) -> Path | None:
        """The log file's path, or None when no log is written."""
        return self._file.path

    def open(self, recipe: Recipe, options: RunOptions) -> None:
        """Start the log file when ``--write-log`` or the recipe's ``write_log`` asks for one."""
        wanted = options.write_log
        if wanted is None:
            wanted = recipe.settings.write_log
        if not wanted:
            return
        directory = log_dir(options)
        try:
            self._file = BatchLog.open(directory, on_error=self._failed)
        except OSError as exc:
            self._report(f"Cannot write the log in {directory}: {exc.strerror or exc}")
            return
        self.section(f"batch {recipe.name!r} started")
        self.write(recipe.to_json(redact=True))

    def write(self, line: str) -> None:
        self._file.write(line)

    def section(self, title: str) -> None:
        self._file.section(title)

    def close(self) -> None:
        self._file.close()

    def _failed(self, problem: str) -> None:
        """The log stopped working (a full disk): say so once; the batch goes on without it."""
        self._report(f"The log file stopped: {problem}; the batch goes on without it")
