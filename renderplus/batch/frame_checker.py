"""Frames checked whole (settings key ``validate``), in the background, one worker thread.

The job loop hands each written frame here (``ask``) when its marker arrives and goes on at
once: the job's Blender renders the next frame meanwhile, so a check is off the render's
critical path. The worker checks the frame's files in order and posts one ``FrameChecked``
into the loop's event queue per frame; only then does the loop count the frame as done.

Every frame gets the structural check (``frame_checks.check_settled``: pure Python, cheap: a
file cut short, an EXR chunk past its end or not inflating to its lines' size, a PNG whose
data does not inflate); a file that is not there yet or still grows (a network disk) is
waited for, bounded. A request that asks for it (``black``, or ``decode`` where the
structural check did not read the data whole: not a PNG, nor a scanline EXR in NONE, RLE,
ZIPS or ZIP, ``frame_checks.decoded_whole``) is then read back whole by the frame reader of
the Blender binary that rendered the frame (one helper per binary, started on first need:
``frame_reader``). A reader that cannot start or dies never
loses a frame: the structural verdict stands, and the event carries a ``note`` saying so
(once per binary) for the batch's messages.

``warm`` starts the reader of a binary ahead of the first frame (the job's Blender has just
started), so that its own start-up is not waited for after a short job's last frame.

``close`` (when the loop returns: the batch ended or paused; never waits): the queued checks
are made (unless ``drop_waiting``: a cancel), then the helper Blenders end. A later ``ask``
starts a new worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..blender_scripts.frame_checks import check_settled, decoded_whole
from .executors.base import Exited
from .frame_reader import FrameReader, FrameReaderError

log = logging.getLogger("renderplus.batch")
GIVE_UP_AFTER = 3          # reader failures in a row (per binary) before structural checks only
INVALID_SUFFIX = ".invalid"
# A movie file grows with each frame: it is not a frame to check (the loop records it as before).
MOVIE_EXTENSIONS = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".ogv", ".ogg", ".flv", ".mpg",
                    ".mpeg", ".dv")
ReaderFactory = Callable[[str, Mapping[str, str] | None], FrameReader]
Check = Callable[[str], "str | None"]
Sink = Callable[["FrameChecked"], None]


@dataclass(frozen=True)
class CheckRequest:
    """One written frame to check: its files, the Blender that wrote them, what to check."""

    job_id: int
    frame: int
    paths: tuple[str, ...]
    blender: str
    decode: bool = False       # read back whole by the reader where the pure check cannot
    black: bool = False        # refuse a uniformly black frame or one holding NaNs


@dataclass(frozen=True)
class FrameChecked:
    """The verdict on one frame: ``problem`` None when whole, else a sentence naming the file
    and what is wrong. ``note``: a batch message (the reader failed: structural checks only)."""

    job_id: int
    frame: int
    paths: tuple[str, ...]
    problem: str | None
    note: str | None = None


class FrameChecks:
    """A batch's frame checker (see the module docstring). ``ask`` and ``close`` from the
    loop's thread."""

    def __init__(self, sink: Sink, env: Mapping[str, str] | None = None, *,
                 reader: ReaderFactory = FrameReader, check: Check = check_settled) -> None:
        self._sink = sink
        self._env = env
        self._make_reader = reader
        self._check_file = check
        self._queue: queue.Queue[CheckRequest | None] = queue.Queue()  # never dropped: no frame lost
        self._failures: dict[str, int] = {}
        self._told: set[str] = set()          # binaries whose reader failure was told
        self._thread: threading.Thread | None = None
        self._drop = threading.Event()

    def ask(self, request: CheckRequest) -> None:
        """Queue ``request``; returns at once. Its ``FrameChecked`` comes through the sink."""
        if self._thread is None or not self._thread.is_alive():
            self._queue = queue.Queue()
            self._drop = threading.Event()
            self._thread = threading.Thread(target=self._work, args=(self._queue, self._drop),
                                            name="renderplus-frame-checks", daemon=True)
            self._thread.start()
        self._queue.put(request)

    def warm(self, blender: str) -> None:
        """Start ``blender``'s reader in the background, ahead of the frames it will read."""
        self.ask(CheckRequest(-1, 0, (), blender, decode=True))

    def close(self, *, drop_waiting: bool = False) -> None:
        """The worker makes what is queued (unless ``drop_waiting``), ends the helper Blenders
        and stops. Returns at once."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        if drop_waiting:
            self._drop.set()
        self._queue.put(None)
        self._last = thread

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a closed worker to stop (tests)."""
        thread = getattr(self, "_last", None)
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _work(self, requests: queue.Queue[CheckRequest | None], drop: threading.Event) -> None:
        readers: dict[str, FrameReader] = {}     # this worker's helpers, one per binary
        try:
            while (request := requests.get()) is not None:
                if drop.is_set():
                    continue
                if not request.paths:
                    self._start_reader(request.blender, readers)
                    continue
                try:
                    problem, note = self.verdict(request, readers)
                except Exception as exc:  # a bug here must not leave the job waiting forever
                    log.exception("frame check failed")
                    problem, note = None, f"A frame check failed inside Render+ ({exc!r}); " \
                                          f"frame {request.frame} counts as written"
                self._sink(FrameChecked(request.job_id, request.frame, request.paths, problem, note))
        finally:
            for reader in readers.values():
                reader.close()

    def verdict(self, request: CheckRequest,
                readers: dict[str, FrameReader]) -> tuple[str | None, str | None]:
        """(the first problem of the frame's files or None, a batch note or None)."""
        for path in request.paths:
            problem = self._check_file(path)   # a missing or growing file is waited for, bounded
            if problem:
                return named(path, problem), None
        note = None
        for path in request.paths:
            if not request.black and not (request.decode and not decoded_whole(path)):
                continue   # the structural check read its data whole: a decode adds nothing
            answer, note = self._read_back(request, path, readers)
            if answer:
                return named(path, answer), None
            if note is not None or request.blender in self._told:
                break   # the reader failed: the structural verdict stands
        return None, note

    def _start_reader(self, blender: str, readers: dict[str, FrameReader]) -> None:
        """``warm``: a reader that fails to start here is told when a frame needs it."""
        if blender in readers or self._failures.get(blender, 0) >= GIVE_UP_AFTER:
            return
        reader = readers[blender] = self._make_reader(blender, self._env)
        with contextlib.suppress(FrameReaderError):
            reader.start()

    def _read_back(self, request: CheckRequest, path: str,
                   readers: dict[str, FrameReader]) -> tuple[str | None, str | None]:
        """The reader's problem with ``path`` (None: whole), and a note when it failed."""
        blender = request.blender
        if self._failures.get(blender, 0) >= GIVE_UP_AFTER:
            return None, None
        reader = readers.get(blender)
        if reader is None:
            reader = readers[blender] = self._make_reader(blender, self._env)
        try:
            answer = reader.request("check", frame=path, black=request.black, nan=request.black)
        except FrameReaderError as exc:
            failures = self._failures[blender] = self._failures.get(blender, 0) + 1
            return None, self._tell(blender, str(exc), failures)
        if answer.get("error") and "problem" not in answer:   # the op itself failed (not the frame)
            failures = self._failures[blender] = self._failures.get(blender, 0) + 1
            return None, self._tell(blender, str(answer["error"]), failures)
        self._failures[blender] = 0
        problem = answer.get("problem")
        return (str(problem) if problem else None), None

    def _tell(self, blender: str, why: str, failures: int) -> str | None:
        """The batch note for a failed reader, once per binary."""
        if blender in self._told:
            return None
        self._told.add(blender)
        more = ("; frames are no longer read back in this batch" if failures >= GIVE_UP_AFTER
                else "")
        line = (f"Frames could not be read back whole ({why}): their files were checked for "
                f"structure only{more}")
        log.info("%s", line)
        return line


def named(path: str, problem: str) -> str:
    """The problem as a sentence naming its file."""
    return problem if os.path.basename(path) in problem else f"{path}: {problem}"


# ---------------------------------------------------------------- the loop's side


@dataclass
class JobChecks:
    """What the job loop keeps of one job's checks (loop thread only)."""

    markers: dict[int, Mapping[str, Any]] = field(default_factory=dict)  # frames being checked
    exited: Exited | None = None           # its Blender's exit, waiting for the checks
    failed: dict[int, int] = field(default_factory=dict)     # times each frame failed
    problems: dict[int, str] = field(default_factory=dict)   # the last problem of each bad frame
    paths: set[str] = field(default_factory=set)   # every file handed to the checker
    on_node: dict[int, set[str]] = field(default_factory=dict)  # frames a farm node judges:
    #                                      their files it has not yet named (frame_checked)

    @property
    def pending(self) -> bool:
        return bool(self.markers)

    def twice(self) -> tuple[int, str] | None:
        """The first frame that failed its check twice, and its problem."""
        for frame in sorted(self.failed):
            if self.failed[frame] >= 2:
                return frame, self.problems[frame]
        return None


def set_aside_invalid(paths: tuple[str, ...] | list[str]) -> list[str]:
    """Rename each of a bad frame's files to a free ``NAME.invalid`` (never deleted, never under
    its real name, so that no resume or encode takes it for a frame); the new names."""
    kept = []
    for path in paths:
        try:
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            target, number = path + INVALID_SUFFIX, 1
            while os.path.lexists(target):
                number += 1
                target = f"{path}{INVALID_SUFFIX}-{number}"
            os.rename(path, target)
            kept.append(target)
        except OSError as exc:
            log.info("could not set aside %s: %s", path, exc)
    return kept
