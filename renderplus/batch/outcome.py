"""How a job's render ended: FINISHED, FAILED with a reason people can act on, CANCELLED, or
QUEUED again (stopped for a pause: the rest renders when the batch continues).

The reason names what went wrong (Blender's own errors, a known fatal GPU/driver/memory
message, the last meaningful lines of output when nothing better is known, Blender's crash
report, a frame left truncated by a full disk; when Render+'s job script stopped Blender, its own
sentence, as "Override 'render.fpz': ..." without the exit code), never the whole log, and never a file of the
job's temporary folder, which is gone once the job ends.

``Outcome.retry`` is the retry decision's part that the output makes: a .blend Blender cannot
read fails the same way every time, so it is not retried (a crash, a GPU failure may pass).
A frame Blender said it could not write is set aside as ``<name>.partial`` (never deleted) so
that no cut file passes for a frame under its real name.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from .executors.base import Exited
from .exit_status import ExitStatus
from .markers import OVERRIDE_EXIT_CODE
from .parser import JobProgress
from .parser.fatal import FatalKind, unreadable_blend_reason
from .view import JobStatus

CRASH_LINES = 6


PARTIAL_SUFFIX = ".partial"
NAMED_UNWRITTEN = 3  # files a message names; the rest are counted


@dataclass(frozen=True)
class Outcome:
    status: JobStatus
    message: str | None = None
    retry: bool = True  # False: trying again cannot help (the .blend cannot be read)


def decide(progress: JobProgress, expected_frames: int, code: int, *, cancelled: bool,
           crash_note: str = "", paused: bool = False,
           checked: Collection[str] = frozenset()) -> Outcome:
    """The job's status from its exit and what its output said. ``paused``: the executor
    confirmed it stopped for a pause (a job that wrote every frame first still finishes).
    ``checked``: files the frame checker judged (a bad one is set aside there, not here)."""
    if cancelled:
        return Outcome(JobStatus.CANCELLED, "Cancelled while rendering")
    if paused:
        if progress.frames_done < expected_frames:
            return Outcome(JobStatus.QUEUED, f"Paused with {progress.frames_done} of "
                           f"{expected_frames} frames written: the rest renders when the batch "
                           "continues", retry=False)
        code = 0  # stopped (exit or signal) after its last frame: it is done
    if progress.fatal_kind is FatalKind.UNREADABLE_FILE:
        reason = unreadable_blend_reason(progress.fatal_message or "")
        why = ("the file was saved by a newer Blender: render it with that version or a newer one"
               if "newer version" in reason else
               "the file is damaged, cut short or not a .blend; save it again from Blender")
        return Outcome(JobStatus.FAILED, f"The .blend file cannot be read: {reason} (not retried: "
                                         f"{why})", retry=False)
    unwritten = set_aside_unwritten(progress.unwritten)
    if code != 0:
        how = ExitStatus.of(code).describe()
        note = f"; {unwritten}" if unwritten else ""
        if _script_stopped(code):
            return Outcome(JobStatus.FAILED, f"{_script_reason(progress)}{crash_note}{note}",
                           retry=False)
        return Outcome(JobStatus.FAILED, f"Blender failed ({how}): {_reason(progress, crash_note)}"
                                         f"{crash_note}{note}")
    if unwritten:
        return Outcome(JobStatus.FAILED, unwritten)
    problem = first_bad_output(p for p in progress.saved_files if p not in checked)
    if problem:
        return Outcome(JobStatus.FAILED, problem)
    if progress.frames_done < expected_frames:
        errors = "; ".join(progress.errors[-3:])
        detail = f" ({errors})" if errors else ""
        return Outcome(JobStatus.FAILED, "Blender exited without writing every frame: "
                       f"{progress.frames_done} of {expected_frames} written{detail}")
    return Outcome(JobStatus.FINISHED)


def _script_stopped(code: int) -> bool:
    """Render+'s job script stopped Blender itself (``OVERRIDE_EXIT_CODE``, no signal): a
    setting it could not apply, which its error markers say in words."""
    status = ExitStatus.of(code)
    return status.signal is None and status.raw == OVERRIDE_EXIT_CODE


def _script_reason(progress: JobProgress) -> str:
    """The job script's own sentences ("Override 'render.fpz': the scene's render has no 'fpz'
    (did you mean 'fps'?)") and Blender's errors beside them, without the exit code: the code
    only says that the script stopped, the sentences say why. With no sentence (the script
    itself raised), what Blender printed last."""
    said = list(progress.script_errors[:3])
    said += [error for error in progress.errors[-3:] if error not in said]
    if said and progress.script_errors:
        return "; ".join(said)
    return f"Render+'s script inside Blender stopped with an error: {_reason(progress)}"


def _reason(progress: JobProgress, crash_note: str = "") -> str:
    """Blender's known fatal message first (named: out of memory, GPU or driver failure...),
    then its errors, else the last meaningful lines it printed. With a ``crash_note`` (the
    report kept out of the job's temp folder) the crash line's temp path is not repeated."""
    parts: list[str] = []
    if progress.fatal_kind is FatalKind.CRASH and crash_note:
        parts.append("crash: Blender crashed")
    elif progress.fatal_kind is not None:
        parts.append(f"{progress.fatal_kind.value}: {progress.fatal_message}")
    parts += [error for error in progress.errors[-3:] if error != progress.fatal_message]
    if parts:
        return "; ".join(parts)
    lines = progress.tail(5)
    if lines:
        return "last output: " + " | ".join(lines)
    return "no error message"


def first_bad_output(paths: Iterable[str]) -> str | None:
    """A sentence about the first output that is missing or truncated (the file is removed:
    a half-written frame is no result, and a resume must render it again)."""
    for path in paths:
        if not os.path.exists(path):
            return f"Output file missing after render: {path}"
        problem = frame_problem(path)
        if problem:
            try:
                os.replace(path, path + ".truncated")
                where = f" (kept as {path}.truncated)"
            except OSError:
                where = ""
            return f"Output file {path} is {problem} (disk full?){where}"
    return None


def set_aside_unwritten(unwritten: dict[str, str]) -> str:
    """Rename each file Blender could not write to a free ``<name>.partial`` (never deleted,
    never under its real name); "" when there were none, else the sentence saying so."""
    notes = []
    for path, reason in list(unwritten.items())[:NAMED_UNWRITTEN]:
        notes.append(f"Blender could not write {path} ({reason}); {_set_aside(path)}")
    more = len(unwritten) - NAMED_UNWRITTEN
    if more > 0:
        for path in list(unwritten)[NAMED_UNWRITTEN:]:
            _set_aside(path)
        notes.append(f"and {more} more file(s) it could not write (set aside as *{PARTIAL_SUFFIX})")
    return "; ".join(notes)


def _set_aside(path: str) -> str:
    try:
        if not os.path.isfile(path) or os.path.islink(path):
            return "no file was left under its name"
        target, number = path + PARTIAL_SUFFIX, 1
        while os.path.lexists(target):
            number += 1
            target = f"{path}{PARTIAL_SUFFIX}-{number}"
        os.rename(path, target)
    except OSError as exc:
        return f"its partial file could not be renamed ({exc.strerror or exc}): do not use it"
    return f"the partial file was renamed {target}"


_TRAILERS = {b"\x89PNG": b"IEND\xaeB`\x82", b"\xff\xd8\xff": b"\xff\xd9"}


def frame_problem(path: str) -> str | None:
    """None when the frame file looks whole: not empty, and PNG/JPEG files end as they must."""
    try:
        size = os.path.getsize(path)
        if size == 0:
            return "empty"
        with open(path, "rb") as stream:
            head = stream.read(8)
            for magic, trailer in _TRAILERS.items():
                if head.startswith(magic):
                    stream.seek(max(0, size - 16))
                    if trailer not in stream.read():
                        return "truncated"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    return None


def keep_crash_report(tmpdir: str, keep_dir: Path, job_id: int) -> str:
    """Move Blender's crash report out of the job's temp folder (removed after the job);
    a message tail naming the kept file and its first lines, or "" when there is none."""
    try:
        reports = sorted(Path(tmpdir).glob("*.crash.txt"))
    except OSError:
        return ""
    if not reports:
        return ""
    try:
        keep_dir.mkdir(parents=True, exist_ok=True)
        target = keep_dir / f"job{job_id}-{time.strftime('%Y%m%d-%H%M%S')}-{reports[0].name}"
        shutil.move(str(reports[0]), target)
        lines = [ln.strip() for ln in target.read_text("utf-8", "replace").splitlines() if ln.strip()]
    except OSError as exc:  # its temp folder goes with the job: never name the report there
        return f". Its crash report could not be kept in {keep_dir} ({exc.strerror or exc})"
    head = " | ".join(line[:200] for line in lines[:CRASH_LINES])
    return f". Crash report kept as {target}: {head}"


def retryable(event: Exited, attempts: int, retries: int, cancelling: bool) -> bool:
    """Whether a failed run is tried again: a crash (a signal, directly or as a wrapper's
    128+N, an exit that is no override error, a fatal GPU/memory message) with attempts left;
    never a cancel (``cancelling``: the job's or the batch's), an override error or a job ended
    on a farm by hand."""
    if event.cancelled or event.final or cancelling:
        return False
    status = ExitStatus.of(event.returncode)
    if status.ok or (status.signal is None and status.raw == OVERRIDE_EXIT_CODE):
        return False
    return attempts <= retries
