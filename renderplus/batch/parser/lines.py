"""The stateless line grammar: one line of Blender's stdout in, one ``Event`` (or None) out.

No state, so each stdout format is a row in a table test. Sources, most trusted first: the
override script's marker lines (``markers.py``), then Blender's own lines (``Fra:`` status lines,
``Saved:``, ``Append frame``, ``Video append frame``, ``skipping existing frame``, ``Error: ...``,
a frame Blender could not write),
then lines that name why Blender died (``fatal.py``). Blender's text changes between versions
(docs/blender.md, Output lines by version); anything unknown is None.

The parser sits on the path of every stdout line, so it checks a line's first character and
cheap prefixes before any regular expression, and the expressions are compiled once. A line
longer than ``MAX_LINE_CHARS`` (marker lines: ``MAX_MARKER_CHARS``) is cut before it is read:
a runaway line costs a bounded amount of work and nothing downstream keeps it whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from typing import Any, Final, NamedTuple

from ..markers import MARKER_PREFIX, parse_marker
from .fatal import FATAL_FIRST_CHARS, FatalKind, classify_device_error, classify_error, classify_line

NON_COMPATIBLE: Final = "NON_COMPATIBLE"
MAX_LINE_CHARS: Final = 8192       # a PATH_MAX path in a ``Saved:`` line still fits
MAX_MARKER_CHARS: Final = 65536    # a ready marker lists layers and a frame-range spec


class EventKind(Enum):
    """What a line says. Not a job status: a job that renders sees many ``FINISHED`` frames."""

    STATUS = "status"          # a status line (``Fra:``): frame, memory, time, samples/tiles
    FINISHED = "finished"      # the engine finished the frame; its file is not written yet
    CANCELLED = "cancelled"    # the render was stopped (one Ctrl+C): the frame is discarded
    SAVED = "saved"            # ``Saved: '<path>'``: an image file was written
    APPENDED = "appended"      # ``Append frame N`` / 5.x ``Video append frame N``: a movie frame
    SKIPPED = "skipped"        # ``skipping existing frame "<path>"`` (overwrite off)
    FRAME_TIME = "time"        # `` Time: 00:00.49 (Saving: ...)``: a frame's end
    ERROR = "error"            # ``Error: ...``, a crash, a fatal line, an override error
    ENGINE = "engine"          # a line that only one engine prints (a hint, nothing else)
    BANNER = "banner"          # ``Blender 3.4.1 ...``
    QUIT = "quit"              # ``Blender quit``: a normal exit; what follows is shutdown noise
    MEMORY_LEAK = "leak"       # ``Error: Not freed memory blocks: ...``: harmless at exit
    READY = "ready"            # marker: overrides applied, rendering begins
    FRAME_WRITTEN = "frame"    # marker: a frame's file was written
    WRITE_FAILED = "unwritten"  # ``Render error (...) cannot save: '<path>'``, OpenEXR's write error


class Event(NamedTuple):
    """What one stdout line says; fields a line does not carry are None.

    Numbers Blender printed as text for people (memory, times) stay strings, as printed.
    ``elapsed`` is a frame's render time as Blender printed it (2.7x-4.x status lines, every
    ``Time:`` line); 5.x status lines carry none, only ``log_time``, the 5.x log prefix's time
    since Blender started (``JobProgress`` turns it into the frame's time). ``text`` is the
    path (saved, skipped, marker frame), the error message, or the Blender version (banner);
    ``engine`` is the engine a line reveals (ready marker, hint lines). ``scene_layer`` is
    Cycles' ``Scene, ViewLayer`` field as printed (2.7x-4.x; multiview adds ``, <view>``).
    ``fatal`` names why Blender died when an error line says so.
    """

    kind: EventKind
    frame: int | None = None
    mem: str | None = None
    elapsed: str | None = None
    remaining: str | None = None
    samples_done: int | None = None
    samples_todo: int | None = None
    tiles_done: int | None = None
    tiles_todo: int | None = None
    text: str | None = None
    engine: str | None = None
    extra: dict[str, Any] | None = None
    scene_layer: str | None = None
    log_time: str | None = None
    fatal: FatalKind | None = None

    @property
    def fraction(self) -> float | None:
        """How far into the frame this line is (0..1), from tiles or samples; None if unknown."""
        if self.tiles_todo:
            done = float(self.tiles_done or 0)
            if self.samples_todo and done < self.tiles_todo:
                done += min(self.samples_done or 0, self.samples_todo) / self.samples_todo
            return min(done / self.tiles_todo, 1.0)
        if self.samples_todo and self.samples_done is not None:
            return min(self.samples_done / self.samples_todo, 1.0)
        return None


# Module-level names for the members: attribute access on an Enum class costs ~10x a global.
STATUS: Final = EventKind.STATUS
_FINISHED, _CANCELLED = EventKind.FINISHED, EventKind.CANCELLED
_SAVED, _APPENDED, _SKIPPED = EventKind.SAVED, EventKind.APPENDED, EventKind.SKIPPED
_FRAME_TIME, _ERROR, _ENGINE = EventKind.FRAME_TIME, EventKind.ERROR, EventKind.ENGINE
_BANNER, _QUIT, _LEAK = EventKind.BANNER, EventKind.QUIT, EventKind.MEMORY_LEAK
_READY, _FRAME_WRITTEN, _WRITE_FAILED = EventKind.READY, EventKind.FRAME_WRITTEN, EventKind.WRITE_FAILED

# 5.x log prefix: ``00:04.230  render           | `` (time since start, CLOG category).
_CLOG = re.compile(r"((?:\d+:)?\d+:\d\d\.\d{3}) +([\w.]+) *\| ")
# 2.7x-4.x prefix: ``Fra:1 Mem:9.91M (Peak 10.83M) | Time:00:00.09 | `` (2.7x-2.8x:
# ``(0.00M, Peak ...)``; optional ``Field N``/``Blur N``).
# Then Cycles' ``Remaining:00:07.27 | `` when it has an estimate; the engine's text follows.
_STATUS_OLD = re.compile(
    r"Fra:(-?\d+) Mem:(\S+) \([^)]*\)(?: [A-Z][a-z]+ \d+)*(?: \| Time:(\S+))? \| ?"
    r"(?:Remaining:(\S+) \| )?(.*)")
# 5.x: ``Fra: 1 | Remaining: 01:43.73 | Mem: 1699M | `` (Remaining and Mem optional).
_STATUS_NEW = re.compile(r"Fra: ?(-?\d+)(?: \| Remaining: ?(\S+))?(?: \| Mem: ?(\S+))?(?: \| (.*)|$)")
# Cycles: ``Rendered 6/510 Tiles[, Sample a/b]`` (2.8x+), ``Path Tracing Tile 1/16[, Sample a/b]``
# (2.7x), ``[Path Tracing ]Sample 80/256``: one `` | `` field of the status text.
_CYCLES_PROGRESS = re.compile(
    r"(?:(?:Rendered (\d+)/(\d+) Tiles|Path Tracing Tile (\d+)/(\d+))(?:, Sample (\d+)/(\d+))?"
    r"|(?:Path Tracing )?Sample (\d+)(?:/(\d+))?)")
# EEVEE (legacy and Next): ``Rendering 26 / 64 samples``.
_EEVEE_PROGRESS = re.compile(r"Rendering (\d+) / (\d+) samples")
_SKIPPING = re.compile(r"[Ss]kipping existing frame \"(.*?)\"(?: for view \"(.*)\")?$")
_APPEND = re.compile(r"(?:Video )?Append frame (-?\d+)$", re.IGNORECASE)
_BANNER_RE = re.compile(r"Blender (\d+\.\d+(?:\.\d+)?)\b")
_CRASH_REPORT = re.compile(r"Writing: (.+\.crash\.txt)$")
# A frame Blender could not write (a full disk, a lost folder): its file may be left cut short.
# ``Error: Render error (No space left on device) cannot save: '/out/f_0001.png'`` (2.8x-5.x);
# ``OpenEXR-writePixels: ERROR: Failed to write pixel data to image file "/out/f.exr". <reason>``
# (EXR, whose ``Saved:`` line still follows).
_CANNOT_SAVE = re.compile(r"(?:Error: |ERROR )?Render error \((?P<reason>[^)]*)\) cannot save: (?P<path>.+)$")
_EXR_WRITE = re.compile(r"OpenEXR-\w+: ERROR: Failed to write \w+ data to image file \"(?P<path>.+)\"\.? ?"
                        r"(?P<reason>.*)$")

_new_event = tuple.__new__  # builds an Event from a full tuple, skipping NamedTuple's slower __new__

_LUXCORE_PREFIXES: Final = ("[LuxCore][", "[LuxRays][", "[SDL][", "[Engine/Final]")
# What may carry another line spliced into it, and where such a line starts.
_MAY_HOLD_A_SPLICE: Final = frozenset({STATUS, _FINISHED, _FRAME_TIME, _ENGINE, _BANNER})
_SPLICE: Final = re.compile(re.escape(MARKER_PREFIX) + r"|Saved: '|(?<![A-Za-z])Error: "
                            r"|(?<![\d:])(?:\d+:)?\d+:\d\d\.\d{3} +[\w.]+ *\| ")
_LEAK_PREFIX: Final = "Error: Not freed memory blocks"


def parse_line(line: str | bytes) -> Event | None:
    """The event one stdout line carries, or None when it says nothing we read.

    Accepts the line with or without its line end; bytes are decoded as UTF-8.
    """
    if line.__class__ is not str:
        if isinstance(line, (bytes, bytearray)):
            line = bytes(line[:MAX_MARKER_CHARS]).decode("utf-8", "replace")
        elif isinstance(line, str):
            line = str(line)
        else:
            raise TypeError(f"a stdout line must be str or bytes, not {type(line).__name__}")
    if len(line) > MAX_LINE_CHARS:
        line = line[:MAX_MARKER_CHARS] if line.startswith(MARKER_PREFIX) else line[:MAX_LINE_CHARS]
    text = line.rstrip()  # line end, and the trailing spaces of Windows console copies
    if text.startswith("Fra:"):  # most lines: skip the dispatch
        event = _parse_status(text, None)
    elif not text:
        return None
    else:
        event = _parse_text(text, None)
    if event is not None and event.kind not in _MAY_HOLD_A_SPLICE:
        return event
    return _spliced(text) or event


def _spliced(text: str) -> Event | None:
    """A marker, ``Saved:``, error or 5.x log line that does not start the line: 5.x prints
    statistics from other threads into the middle of lines, so these are read wherever they
    start. The cheap ``in`` tests keep the expression off lines that cannot hold one."""
    if not (MARKER_PREFIX in text or "Saved: '" in text or "Error: " in text
            or text.find("  ", text.find("| ") + 1) != -1):   # a 5.x prefix's padding, later on
        return None
    for found in _SPLICE.finditer(text, 1):
        inner = _parse_text(text[found.start():], None)
        if inner is not None:
            return inner
    return None


def _parse_text(text: str, log_time: str | None) -> Event | None:
    event = _parse_known(text, log_time)
    if event is not None:
        return event
    fatal = classify_device_error(text)  # Cycles' ``<what> in <call>(...) (<source>)``, any wording
    if fatal is None and (text[0] in FATAL_FIRST_CHARS or "Assertion " in text):
        fatal = classify_line(text)
    return None if fatal is None else _new_event(Event, (
        _ERROR, None, None, None, None, None, None, None, None, text, None, None, None, None, fatal))


def _parse_known(text: str, log_time: str | None) -> Event | None:
    """Dispatch on the first character: each reader checks its cheap prefixes, then its regex."""
    reader = _READERS_BY_FIRST_CHAR.get(text[0])
    return None if reader is None else reader(text, log_time)


def _read_status(text: str, log_time: str | None) -> Event | None:
    return _parse_status(text, log_time) if text.startswith("Fra:") else None


def _read_clog(text: str, log_time: str | None) -> Event | None:
    # A 5.x log prefix inside a 5.x line's text is not a second prefix.
    return _parse_clog(text) if log_time is None else None


def _read_saved_or_skipping(text: str, log_time: str | None) -> Event | None:
    if text.startswith("Saved: "):
        return Event(_SAVED, text=_unquote(text[7:]))
    if text.startswith("Skipping existing frame"):
        return _parse_skipping(text)
    return None


def _read_lowercase_skipping(text: str, log_time: str | None) -> Event | None:
    return _parse_skipping(text) if text.startswith("skipping existing frame") else None


def _read_frame_time(text: str, log_time: str | None) -> Event | None:
    stripped = text.lstrip(" ")
    if not stripped.startswith("Time: "):
        return None
    value = stripped[6:].split(" ", 1)[0]
    return Event(_FRAME_TIME, elapsed=value, log_time=log_time) if value else None


def _read_error(text: str, log_time: str | None) -> Event | None:
    if not (text.startswith("Error: ") or text.startswith("Error! ")):
        return None
    if text.startswith(_LEAK_PREFIX):
        return Event(_LEAK, text=text)
    return _write_failure(text, _CANNOT_SAVE) or Event(_ERROR, text=text, fatal=classify_error(text))


def _read_openexr(text: str, log_time: str | None) -> Event | None:
    return _write_failure(text, _EXR_WRITE) if text.startswith("OpenEXR-") else None


def _write_failure(text: str, grammar: re.Pattern[str]) -> Event | None:
    """A frame Blender could not write: ``text`` its path, ``extra["reason"]`` why."""
    if "cannot save: " not in text and "Failed to write " not in text:
        return None
    match = grammar.match(text)
    if match is None:
        return None
    reason = match.group("reason").strip().rstrip(".") or "write error"
    return Event(_WRITE_FAILED, text=_unquote(match.group("path")), extra={"reason": reason})


def _read_marker(text: str, log_time: str | None) -> Event | None:
    return _parse_marker(text) if text.startswith(MARKER_PREFIX) else None


def _read_append(text: str, log_time: str | None) -> Event | None:
    if not (text.startswith("Append frame ") or text.startswith("Video append frame ")):
        return None
    match = _APPEND.match(text)
    return Event(_APPENDED, frame=int(match.group(1))) if match else None


def _read_banner_or_quit(text: str, log_time: str | None) -> Event | None:
    if not text.startswith("Blender "):
        return None
    if text == "Blender quit":
        return Event(_QUIT)
    match = _BANNER_RE.match(text)
    return Event(_BANNER, text=match.group(1)) if match else None


def _read_luxcore(text: str, log_time: str | None) -> Event | None:
    return Event(_ENGINE, engine=NON_COMPATIBLE) if text.startswith(_LUXCORE_PREFIXES) else None


def _read_crash_report(text: str, log_time: str | None) -> Event | None:
    match = _CRASH_REPORT.match(text) if text.startswith("Writing: ") else None
    if match is None:
        return None
    return Event(_ERROR, text=f"Blender crashed (crash report: {match.group(1)})", fatal=FatalKind.CRASH)


_LineReader = Callable[[str, str | None], Event | None]
_READERS_BY_FIRST_CHAR: Final[dict[str, _LineReader]] = {
    "F": _read_status,
    **dict.fromkeys("0123456789", _read_clog),
    "S": _read_saved_or_skipping,
    "s": _read_lowercase_skipping,
    " ": _read_frame_time,
    "T": _read_frame_time,
    "E": _read_error,
    "R": _read_marker,
    "A": _read_append,
    "V": _read_append,
    "B": _read_banner_or_quit,
    "[": _read_luxcore,
    "W": _read_crash_report,
    "O": _read_openexr,
}


def _parse_clog(text: str) -> Event | None:
    """A 5.x line: strip ``00:04.230  render           | `` and read what follows."""
    match = _CLOG.match(text)
    if match is None:
        return None
    rest = text[match.end():]
    if not rest:
        return None
    if rest.startswith("ERROR ") or rest.startswith("FATAL "):
        if rest.startswith("ERROR Not freed memory blocks"):
            return Event(_LEAK, text=rest)
        unwritten = _write_failure(rest, _CANNOT_SAVE)
        if unwritten is not None:
            return unwritten
        fatal = classify_error(rest) or (FatalKind.FATAL if rest[0] == "F" else None)
        return Event(_ERROR, text=rest, fatal=fatal)
    return _parse_text(rest, match.group(1))


def _parse_status(text: str, log_time: str | None) -> Event | None:
    elapsed: str | None
    if text.startswith("Fra: "):
        match = _STATUS_NEW.match(text)
        if match is None:
            return None
        frame, remaining, mem, info = match.groups()
        elapsed = None  # 5.x lines carry no Time: field; the log prefix says when
        if info is None:
            info = ""
    else:
        match = _STATUS_OLD.match(text)
        if match is None:
            return None
        frame, mem, elapsed, remaining, info = match.groups()
    # The engine's own status is the last `` | `` field (Cycles 2.7x-4.x: after ``Mem:.., Peak:..
    # | Scene, ViewLayer``; EEVEE and 5.x: the whole text), or the one before when a detail
    # follows it. One split serves both and the ``Scene, ViewLayer`` field.
    fields = info.split(" | ")
    last = fields[-1]
    several = len(fields) > 1
    scene_layer = fields[1] if several and info[:4] == "Mem:" else None
    kind = STATUS
    engine = None
    samples_done = samples_todo = tiles_done = tiles_todo = None
    if "Sample" in last or "Tile" in last or (several and "Sample" in info):
        progress = _CYCLES_PROGRESS.match(last)
        if progress is None and several:
            progress = _CYCLES_PROGRESS.match(fields[-2])
        if progress is not None:
            engine = "CYCLES"
            samples_done, samples_todo, tiles_done, tiles_todo = _cycles_counts(progress.groups())
    elif last.startswith("Rendering "):
        progress = _EEVEE_PROGRESS.match(last)
        if progress is not None:
            engine = "BLENDER_EEVEE"
            samples_done, samples_todo = int(progress.group(1)), int(progress.group(2))
    elif last == "Finished":
        kind = _FINISHED
    elif last == "Cancelled":
        kind = _CANCELLED
    elif info.startswith("Syncing "):
        engine = "BLENDER_EEVEE"
    if engine is None and ", Peak:" in info:
        engine = "CYCLES"  # Cycles' own ``Mem:0.76M, Peak:0.76M`` field
    return _new_event(Event, (kind, int(frame), mem, elapsed, remaining, samples_done, samples_todo,
                              tiles_done, tiles_todo, None, engine, None, scene_layer, log_time, None))


def _cycles_counts(groups: tuple[str | Any, ...]) -> tuple[int | None, int | None, int | None, int | None]:
    """(samples done, samples to do, tiles done, tiles to do) from a ``_CYCLES_PROGRESS`` match."""
    if groups[6] is not None:
        return int(groups[6]), int(groups[7]) if groups[7] is not None else None, None, None
    tiles = groups[0:2] if groups[0] is not None else groups[2:4]
    if groups[4] is not None:
        return int(groups[4]), int(groups[5]), int(tiles[0]), int(tiles[1])
    return None, None, int(tiles[0]), int(tiles[1])


def _parse_skipping(text: str) -> Event | None:
    match = _SKIPPING.match(text)
    if match is None:
        return None
    view = match.group(2)
    return Event(_SKIPPED, text=match.group(1), extra={"view": view} if view is not None else None)


def _parse_marker(text: str) -> Event | None:
    payload = parse_marker(text)
    if payload is None:
        return None
    event = payload["event"]
    if event == "frame":
        frame = payload.get("frame")
        path = payload.get("path")
        if not isinstance(frame, int) or isinstance(frame, bool):
            return None
        return Event(_FRAME_WRITTEN, frame=frame, text=path if isinstance(path, str) and path else None)
    if event == "ready":
        engine = payload.get("engine")
        return Event(_READY, engine=engine if isinstance(engine, str) else None, extra=payload)
    if event == "error":
        message = payload.get("message")
        return Event(_ERROR, text=str(message) if message else "the override script failed", extra=payload)
    return None


def _unquote(path: str) -> str:
    """``'/out/x.png'`` -> ``/out/x.png``; also when a quote is missing."""
    path = path.strip()
    if path.startswith("'"):
        path = path[1:]
    if path.endswith("'"):
        path = path[:-1]
    return path
