"""Blender's stdout, one line at a time, turned into a job's progress (Blender 2.8x to 5.x).

Two layers. ``parse_line`` reads one line into an ``Event`` and keeps no state, so each
stdout format is a row in a table test. ``JobProgress`` folds events into what a poll shows:
progress over the whole job, the engine, engine data, frames done, files saved and errors.

Sources, most trusted first: the override script's marker lines (``markers.py``: the real
engine, frames and sample count, one line per written frame), then Blender's own lines
(``Fra:`` status lines for the detail within a frame, ``Saved:``, ``Append frame``,
``skipping existing frame``, ``Error: ...``). Blender's text changes between versions
(``tests/parser/fixtures/public-logs/format-strings.md``); anything unknown is ignored.

A frame of a scene with several view layers renders each layer in turn, its samples starting
again at 0 each time. The ready marker lists the layers; Cycles 2.8x-4.x status lines name the
one rendering (``Scene, ViewLayer``), EEVEE's and 5.x's do not: there a sample count that drops
within a frame (or ``Finished`` before it) starts the next layer.

The parser sits on the path of every stdout line, so it checks a line's first character and
cheap prefixes before any regular expression, and the expressions are compiled once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final, NamedTuple

from .markers import MARKER_PREFIX, parse_marker

COMPATIBLE_ENGINES: Final = frozenset(
    {"CYCLES", "BLENDER_EEVEE", "BLENDER_EEVEE_NEXT", "BLENDER_WORKBENCH"})
NON_COMPATIBLE: Final = "NON_COMPATIBLE"

# Event kinds.
STATUS: Final = "status"          # a status line (``Fra:``): frame, memory, time, samples/tiles
FINISHED: Final = "finished"      # the engine finished the frame; its file is not written yet
CANCELLED: Final = "cancelled"    # the render was stopped (one Ctrl+C): the frame is discarded
SAVED: Final = "saved"            # ``Saved: '<path>'``: an image file was written
APPENDED: Final = "appended"      # ``Append frame N``: a frame went into a movie file
SKIPPED: Final = "skipped"        # ``skipping existing frame "<path>"`` (overwrite off)
FRAME_TIME: Final = "time"        # `` Time: 00:00.49 (Saving: ...)``: a frame's end
ERROR: Final = "error"            # ``Error: ...``, ``Error! ...``, a crash, an override error
ENGINE: Final = "engine"          # a line that only one engine prints (a hint, nothing else)
BANNER: Final = "banner"          # ``Blender 3.4.1 ...``
READY: Final = "ready"            # marker: overrides applied, rendering begins
FRAME_WRITTEN: Final = "frame"    # marker: a frame's file was written

# A frame's progress from its samples stops short of done: only a written file finishes it
# (one Ctrl+C lets Cycles reach ``Sample N/N`` and ``Finished``, then discards the frame).
FRAME_FRACTION_CAP: Final = 0.99
MAX_ERRORS: Final = 200


class Event(NamedTuple):
    """What one stdout line says; fields a line does not carry are None.

    Numbers Blender printed as text for people (memory, times) stay strings, as printed.
    ``text`` is the path (saved, skipped, marker frame), the error message, or the Blender
    version (banner); ``engine`` is the engine a line reveals (ready marker, hint lines).
    ``scene_layer`` is Cycles' ``Scene, ViewLayer`` field as printed (2.7x-4.x status lines;
    multiview adds ``, <view>``); names may hold ``, `` themselves, so it stays unsplit here.
    """

    kind: str
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
_APPEND = re.compile(r"Append frame (-?\d+)")
_BANNER = re.compile(r"Blender (\d+\.\d+(?:\.\d+)?)\b")
_CRASH_REPORT = re.compile(r"Writing: (.+\.crash\.txt)$")
_VERSION = re.compile(r"(\d+)\.(\d+)")

_new_event = tuple.__new__  # builds an Event from a full tuple, skipping NamedTuple's slower __new__

_LUXCORE_PREFIXES: Final = ("[LuxCore][", "[LuxRays][", "[SDL][", "[Engine/Final]")


def parse_line(line: str | bytes) -> Event | None:
    """The event one stdout line carries, or None when it says nothing about progress.

    Accepts the line with or without its line end; bytes are decoded as UTF-8.
    """
    if line.__class__ is not str:
        if isinstance(line, (bytes, bytearray)):
            line = line.decode("utf-8", "replace")
        elif isinstance(line, str):
            line = str(line)
        else:
            raise TypeError(f"a stdout line must be str or bytes, not {type(line).__name__}")
    text = line.rstrip()  # line end, and the trailing spaces of Windows console copies
    if text.startswith("Fra:"):  # most lines: skip the dispatch
        return _parse_status(text, None)
    if not text:
        return None
    return _parse_text(text, None)


def _parse_text(text: str, log_time: str | None) -> Event | None:
    first = text[0]
    if first == "F":
        if text.startswith("Fra:"):
            return _parse_status(text, log_time)
        return None
    if "0" <= first <= "9":
        if log_time is None:
            return _parse_clog(text)
        return None
    if first == "S":
        if text.startswith("Saved: "):
            return Event(SAVED, text=_unquote(text[7:]))
        if text.startswith("Skipping existing frame"):
            return _parse_skipping(text)
        return None
    if first == " " or first == "T":
        stripped = text.lstrip(" ")
        if stripped.startswith("Time: "):
            value = stripped[6:].split(" ", 1)[0]
            return Event(FRAME_TIME, elapsed=value) if value else None
        return None
    if first == "E":
        if text.startswith("Error: ") or text.startswith("Error! "):
            return Event(ERROR, text=text)
        return None
    if first == "R":
        if text.startswith(MARKER_PREFIX):
            return _parse_marker(text)
        return None
    if first == "s":
        if text.startswith("skipping existing frame"):
            return _parse_skipping(text)
        return None
    if first == "A":
        if text.startswith("Append frame "):
            match = _APPEND.match(text)
            return Event(APPENDED, frame=int(match.group(1))) if match else None
        return None
    if first == "B":
        if text.startswith("Blender "):
            match = _BANNER.match(text)
            return Event(BANNER, text=match.group(1)) if match else None
        return None
    if first == "[":
        if text.startswith(_LUXCORE_PREFIXES):
            return Event(ENGINE, engine=NON_COMPATIBLE)
        return None
    if first == "W":
        if text.startswith("Writing: "):
            match = _CRASH_REPORT.match(text)
            if match:
                return Event(ERROR, text=f"Blender crashed (crash report: {match.group(1)})")
        return None
    return None


def _parse_clog(text: str) -> Event | None:
    """A 5.x line: strip ``00:04.230  render           | `` and read what follows."""
    match = _CLOG.match(text)
    if match is None:
        return None
    rest = text[match.end():]
    if not rest:
        return None
    if rest.startswith("ERROR ") or rest.startswith("FATAL "):
        return Event(ERROR, text=rest)
    return _parse_text(rest, match.group(1))


def _parse_status(text: str, log_time: str | None) -> Event | None:
    if text.startswith("Fra: "):
        match = _STATUS_NEW.match(text)
        if match is None:
            return None
        frame, remaining, mem, info = match.groups()
        elapsed = log_time  # 5.x lines carry no Time: field; the log prefix says when
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
            groups = progress.groups()
            if groups[6] is not None:
                samples_done = int(groups[6])
                samples_todo = int(groups[7]) if groups[7] is not None else None
            else:
                tiles = groups[0:2] if groups[0] is not None else groups[2:4]
                tiles_done, tiles_todo = int(tiles[0]), int(tiles[1])
                if groups[4] is not None:
                    samples_done, samples_todo = int(groups[4]), int(groups[5])
    elif last.startswith("Rendering "):
        progress = _EEVEE_PROGRESS.match(last)
        if progress is not None:
            engine = "BLENDER_EEVEE"
            samples_done, samples_todo = int(progress.group(1)), int(progress.group(2))
    elif last == "Finished":
        kind = FINISHED
    elif last == "Cancelled":
        kind = CANCELLED
    elif info.startswith("Syncing "):
        engine = "BLENDER_EEVEE"
    if engine is None and ", Peak:" in info:
        engine = "CYCLES"  # Cycles' own ``Mem:0.76M, Peak:0.76M`` field
    return _new_event(Event, (kind, int(frame), mem, elapsed, remaining, samples_done, samples_todo,
                              tiles_done, tiles_todo, None, engine, None, scene_layer))


def _parse_skipping(text: str) -> Event | None:
    match = _SKIPPING.match(text)
    if match is None:
        return None
    view = match.group(2)
    return Event(SKIPPED, text=match.group(1), extra={"view": view} if view is not None else None)


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
        return Event(FRAME_WRITTEN, frame=frame, text=path if isinstance(path, str) and path else None)
    if event == "ready":
        engine = payload.get("engine")
        return Event(READY, engine=engine if isinstance(engine, str) else None, extra=payload)
    if event == "error":
        message = payload.get("message")
        return Event(ERROR, text=str(message) if message else "the override script failed", extra=payload)
    return None


def _unquote(path: str) -> str:
    """``'/out/x.png'`` -> ``/out/x.png``; also when a quote is missing."""
    path = path.strip()
    if path.startswith("'"):
        path = path[1:]
    if path.endswith("'"):
        path = path[:-1]
    return path


def normalize_engine(engine: str | None) -> str | None:
    """An engine id as a poll shows it: one of ``COMPATIBLE_ENGINES``, ``NON_COMPATIBLE``, or None."""
    if not engine:
        return None
    name = engine.strip().upper()
    if not name:
        return None
    return name if name in COMPATIBLE_ENGINES else NON_COMPATIBLE


def _version_tuple(version: str | None) -> tuple[int, int] | None:
    match = _VERSION.match(version or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


# How sure we are of the engine: a line's hint < the recipe's engine < the ready marker.
_FROM_LINES, _FROM_RECIPE, _FROM_MARKER = 1, 2, 3
# Engine data that belongs to one frame; dropped when the next frame starts.
_PROGRESS_KEYS: Final = ("samples_done", "samples_todo", "tiles_done", "tiles_todo")
_PER_FRAME_KEYS: Final = ("remaining", *_PROGRESS_KEYS)


class JobProgress:
    """One render job's progress, fed Blender's stdout line by line.

    ``progress`` goes from 0 to 100 over all the job's frames: frames done plus the share of
    the current frame its samples (or tiles) show. It never goes back, and it is exactly 100
    only once every frame is done. A frame is done when its file is written (marker ``frame``,
    ``Saved:``, movie ``Append frame``) or skipped because it exists. When the ready marker
    lists several view layers, a frame's share is (layers done + the current layer's share) /
    layers, each layer weighing the same.

    ``frames`` is the job's frame list (empty: unknown until the ready marker lists them);
    ``engine`` the recipe's engine id ("" when the file's own engine is used). The ready
    marker's engine beats the recipe's, which beats what Blender's lines suggest.

    ``data`` holds strings as Blender printed them: ``frame``, ``mem`` (Blender's memory),
    ``elapsed`` (the frame's render time; in 5.x, whose lines carry none, the log prefix's time
    since Blender started), ``samples_done``/``samples_todo``, ``tiles_done``/``tiles_todo``
    (2.7x-2.9x tiles), and ``remaining`` while Cycles has an estimate.

    Written by one thread (the one draining stdout); other threads may read the attributes.
    ``data`` is replaced, never changed in place, so a reader's dict stays consistent.
    """

    def __init__(self, frames: Iterable[int] = (), engine: str | None = "") -> None:
        self._frames: list[int] = _checked_frames(frames, "frames")
        if engine is not None and not isinstance(engine, str):
            raise TypeError(f"engine must be a str like 'CYCLES', not {type(engine).__name__}")
        self.engine_type: str | None = normalize_engine(engine)
        self._engine_source = _FROM_RECIPE if self.engine_type else 0
        self.progress: float = 0.0
        self.data: dict[str, str] = {}
        self.saved_files: list[str] = []
        self.skipped_files: list[str] = []
        self.errors: list[str] = []
        self.errors_dropped = 0
        self.cancelled = False
        self.samples: int | None = None          # from the ready marker
        self.blender_version: str | None = None  # from the ready marker or the banner
        self._saved_set: set[str] = set()
        self._done: set[int] = set()
        self._next_index = 0                  # frames before it in self._frames are all done
        self._current: int | None = None      # frame of the last status line
        self._fraction = 0.0                  # how far the current frame is (0..cap)
        self._frame_open = True               # False from a Saved: line to the next frame
        self._unconfirmed: int | None = None  # frame a Saved: line was guessed to belong to
        self._markers_count_frames = False    # set by the first frame marker
        self._skip_views: set[str] = set()
        self._synthetic = 0
        self._layers: list[str] = []          # view layers that render (ready marker)
        self._layer_count = 0                 # len(self._layers) when several, else 0
        self._scene: str | None = None        # the rendered scene's name (ready marker)
        self._layer_of: dict[str, int | None] = {}  # scene_layer field -> layer index, cached
        self._layer = 0                       # index of the layer rendering in the current frame
        self._layer_samples: int | None = None  # last sample count seen in that layer
        self._layer_finished = False          # a Finished line closed that layer

    @property
    def layers(self) -> list[str]:
        """The view layers each frame renders, in order (the ready marker's; empty: unknown)."""
        return list(self._layers)

    @property
    def frames(self) -> list[int]:
        """The frames the job renders (the ready marker's once it has arrived)."""
        return list(self._frames)

    @property
    def frames_total(self) -> int:
        return len(self._frames)

    @property
    def frames_done(self) -> int:
        done = len(self._done)
        total = len(self._frames)
        return min(done, total) if total else done

    def feed(self, line: str | bytes) -> bool:
        """Read one stdout line; True when anything a poll shows has changed."""
        event = parse_line(line)
        if event is None:
            return False
        return self.apply(event)

    def apply(self, event: Event) -> bool:
        """Fold one parsed event into the job's state; True when anything visible changed."""
        kind = event.kind
        if kind in (STATUS, FINISHED, CANCELLED):
            changed = self._on_status(event)
        elif kind == SAVED:
            changed = self._on_saved(event)
        elif kind == FRAME_TIME:
            changed = self._on_time(event)
        elif kind == FRAME_WRITTEN:
            changed = self._on_frame_marker(event)
        elif kind == ERROR:
            changed = self._add_error(event.text or "error")
        elif kind == APPENDED:
            changed = self._on_appended(event)
        elif kind == SKIPPED:
            changed = self._on_skipped(event)
        elif kind == READY:
            changed = self._on_ready(event)
        elif kind == ENGINE:
            changed = self._hint_engine(event.engine)
        elif kind == BANNER:
            if self.blender_version is None:
                self.blender_version = event.text
            changed = False
        else:
            return False
        if self._skip_views and kind != SKIPPED:
            self._skip_views.clear()
        return self._update_progress() or changed

    # -- events -------------------------------------------------------------------------------

    def _on_status(self, event: Event) -> bool:
        frame = event.frame
        old = self.data
        data: dict[str, str] | None = None  # a copy, made only when a value differs
        if frame != self._current:
            self._current = frame
            self._fraction = 0.0
            self._frame_open = True
            self._layer = 0
            self._layer_samples = None
            self._layer_finished = False
            data = {key: value for key, value in old.items() if key not in _PER_FRAME_KEYS}
            data["frame"] = str(frame)
        current = old if data is None else data
        mem, elapsed, remaining = event.mem, event.elapsed, event.remaining
        if mem is not None and current.get("mem") != mem:
            if data is None:
                current = data = old.copy()
            data["mem"] = mem
        if elapsed is not None and current.get("elapsed") != elapsed:
            if data is None:
                current = data = old.copy()
            data["elapsed"] = elapsed
        if current.get("remaining") != remaining:
            if data is None:
                current = data = old.copy()
            if remaining is None:
                del data["remaining"]
            else:
                data["remaining"] = remaining
        has_progress = event.samples_done is not None or event.tiles_todo is not None
        if has_progress:
            progress = self._progress_data(event)
            if any(current.get(key) != progress.get(key) for key in _PROGRESS_KEYS):
                if data is None:
                    data = old.copy()
                for key in _PROGRESS_KEYS:
                    data.pop(key, None)
                data.update(progress)
        changed = data is not None
        if data is not None:
            self.data = data
        if event.engine is not None and not self._engine_source:
            changed = self._hint_engine(event.engine) or changed
        kind = event.kind
        layers = self._layer_count
        if layers and self.engine_type != NON_COMPATIBLE:
            self._follow_layer(event, layers)
        if kind == STATUS:
            if has_progress and self.engine_type != NON_COMPATIBLE:  # other engines' text: unreliable
                fraction = event.fraction
                if fraction is None and event.samples_done is not None and self.samples:
                    fraction = event.samples_done / self.samples
                if fraction is not None:
                    if layers:
                        fraction = (self._layer + fraction) / layers
                    fraction = min(fraction, FRAME_FRACTION_CAP)
                    if fraction > self._fraction:
                        self._fraction = fraction
        elif kind == FINISHED:
            if self.engine_type != NON_COMPATIBLE:
                if layers:
                    self._layer_finished = True
                    self._raise_fraction((self._layer + 1) / layers)
                else:
                    self._fraction = FRAME_FRACTION_CAP
        elif not self.cancelled:  # CANCELLED
            self.cancelled = True
            changed = True
        return changed

    def _follow_layer(self, event: Event, layers: int) -> None:
        """Which view layer of the current frame ``event`` belongs to: the one Cycles names,
        else the next one once the sample count drops or the layer printed ``Finished``."""
        index: int | None = None
        scene_layer = event.scene_layer
        if scene_layer is not None:
            index = self._layer_of.get(scene_layer, -1)
            if index == -1:
                index = self._resolve_layer(scene_layer)
        samples = event.samples_done
        if index is None:
            if samples is None or event.tiles_todo is not None:
                return  # no layer name and no plain sample count: nothing says a layer changed
            last = self._layer_samples
            if (self._layer_finished or (last is not None and samples < last)) and self._layer < layers - 1:
                index = self._layer + 1
            else:
                index = self._layer
        if index != self._layer:
            self._layer = index
            self._layer_finished = False
            self._raise_fraction(index / layers)  # the layers before it are done
        if samples is not None:
            self._layer_samples = samples

    def _resolve_layer(self, scene_layer: str) -> int | None:
        """The index of the layer a ``Scene, ViewLayer[, view]`` field names, or None."""
        scene = self._scene
        if scene is not None:
            prefix = scene + ", "
            name = scene_layer[len(prefix):] if scene_layer.startswith(prefix) else None
        else:
            name = scene_layer.partition(", ")[2] or None
        index: int | None = None
        if name is not None:
            names = self._layers
            if name in names:
                index = names.index(name)
            else:
                base = name.rpartition(", ")[0]  # multiview: ``Scene, ViewLayer, left``
                if base in names:
                    index = names.index(base)
        if len(self._layer_of) < 256:  # a handful of distinct fields per job; never grow unbounded
            self._layer_of[scene_layer] = index
        return index

    def _raise_fraction(self, fraction: float) -> None:
        fraction = min(fraction, FRAME_FRACTION_CAP)
        if fraction > self._fraction:
            self._fraction = fraction

    def _progress_data(self, event: Event) -> dict[str, str]:
        """The samples/tiles a progress line shows; it replaces the last one's entirely
        (``Tile 64/64`` after ``Tile 64/64, Sample 1/1`` has no samples any more)."""
        progress: dict[str, str] = {}
        if event.samples_done is not None:
            progress["samples_done"] = str(event.samples_done)
            if event.samples_todo is not None:
                progress["samples_todo"] = str(event.samples_todo)
            elif self.samples:
                progress["samples_todo"] = str(self.samples)
        if event.tiles_todo is not None:
            progress["tiles_done"] = str(event.tiles_done)
            progress["tiles_todo"] = str(event.tiles_todo)
        return progress

    def _on_saved(self, event: Event) -> bool:
        changed = self._add_saved(event.text)
        if self._frame_open and not self._markers_count_frames:
            current = self._current
            if current is not None and current not in self._done:
                key: int | None = current
            else:
                key = self._next_frame()
                self._unconfirmed = key
            if key is not None and key not in self._done:
                self._mark_done(key)
                changed = True
        self._frame_open = False  # more Saved: lines before the next frame are other views
        return changed

    def _on_time(self, event: Event) -> bool:
        self._frame_open = True
        if event.elapsed is not None and self.data.get("elapsed") != event.elapsed:
            data = self.data.copy()
            data["elapsed"] = event.elapsed
            data.pop("remaining", None)
            self.data = data
            return True
        return False

    def _on_frame_marker(self, event: Event) -> bool:
        changed = self._add_saved(event.text)
        frame = event.frame
        if frame is None:
            return changed
        if not self._markers_count_frames:
            self._markers_count_frames = True
            guess = self._unconfirmed
            if guess is not None and guess != frame and frame not in self._done:
                self._done.discard(guess)  # the Saved: line before was this frame's
                self._next_index = min(self._next_index, self._index_of(guess))
        self._unconfirmed = None
        if frame not in self._done:
            self._mark_done(frame)
            changed = True
        return changed

    def _on_appended(self, event: Event) -> bool:
        frame = event.frame
        if frame is None or frame in self._done:
            return False
        self._mark_done(frame)
        return True

    def _on_skipped(self, event: Event) -> bool:
        if event.text is not None:
            self.skipped_files.append(event.text)
        view = event.extra.get("view") if event.extra else None
        if view is not None:
            # Multiview prints one line per view of the same frame: count the frame once.
            same_frame = bool(self._skip_views) and view not in self._skip_views
            if same_frame:
                self._skip_views.add(view)
                return True
            self._skip_views = {view}
        else:
            self._skip_views.clear()
        key = self._next_frame()
        if key is not None:
            self._mark_done(key)
        return True

    def _on_ready(self, event: Event) -> bool:
        payload = event.extra or {}
        changed = False
        engine = normalize_engine(event.engine)
        if engine is not None:
            changed = engine != self.engine_type
            self.engine_type = engine
            self._engine_source = _FROM_MARKER
        frames = payload.get("frames")
        if isinstance(frames, list) and frames:
            try:
                checked = _checked_frames(frames, "the ready marker's frames")
            except (TypeError, ValueError):
                checked = []
            if checked and checked != self._frames:
                self._frames = checked
                self._next_index = 0
                self._advance_next()
                changed = True
        samples = payload.get("samples")
        if isinstance(samples, int) and not isinstance(samples, bool) and samples > 0:
            self.samples = samples
            if "samples_todo" not in self.data:
                self.data = {**self.data, "samples_todo": str(samples)}
                changed = True
        version = payload.get("blender")
        if isinstance(version, str) and version:
            self.blender_version = version
        scene = payload.get("scene")
        self._scene = scene if isinstance(scene, str) else None
        layers = payload.get("layers")
        if isinstance(layers, list) and all(isinstance(name, str) for name in layers):
            self._layers = list(layers)
            self._layer_count = len(layers) if len(layers) > 1 else 0
        self._layer_of = {}
        return changed

    # -- helpers ------------------------------------------------------------------------------

    def _hint_engine(self, engine: str | None) -> bool:
        """Take the engine a line reveals, unless the recipe or a marker already said."""
        if engine is None or self._engine_source:
            return False
        if engine == "BLENDER_EEVEE":
            version = _version_tuple(self.blender_version)
            if version is not None and (4, 2) <= version < (5, 0):
                engine = "BLENDER_EEVEE_NEXT"  # the engine id of 4.2-4.5
        self.engine_type = engine
        self._engine_source = _FROM_LINES
        return True

    def _add_error(self, message: str) -> bool:
        """Keep the first ``MAX_ERRORS``: a script failing on every frame must not fill memory."""
        errors = self.errors
        if len(errors) < MAX_ERRORS:
            errors.append(message)
            return True
        self.errors_dropped += 1
        note = f"... and {self.errors_dropped} more errors"
        if len(errors) == MAX_ERRORS:
            errors.append(note)
        else:
            errors[-1] = note
        return True

    def _add_saved(self, path: str | None) -> bool:
        if not path or path in self._saved_set:
            return False
        self._saved_set.add(path)
        self.saved_files.append(path)
        return True

    def _mark_done(self, frame: int) -> None:
        self._done.add(frame)
        self._advance_next()

    def _advance_next(self) -> None:
        frames, done, index = self._frames, self._done, self._next_index
        while index < len(frames) and frames[index] in done:
            index += 1
        self._next_index = index

    def _next_frame(self) -> int | None:
        """The first frame of the job not done yet (frames render in order)."""
        self._advance_next()
        if self._next_index < len(self._frames):
            return self._frames[self._next_index]
        if self._frames:
            return None  # every frame is done: a stray line
        self._synthetic += 1  # frames unknown yet: count it under a number no frame has
        return -(10**9) - self._synthetic

    def _index_of(self, frame: int) -> int:
        try:
            return self._frames.index(frame)
        except ValueError:
            return self._next_index

    def _update_progress(self) -> bool:
        total = len(self._frames)
        if not total:
            return False
        done = len(self._done)
        if done >= total:
            value = 100.0
        else:
            current = self._current
            fraction = self._fraction if current is not None and current not in self._done else 0.0
            value = (done + fraction) * 100.0 / total
        if value > self.progress:
            self.progress = value
            return True
        return False


def _checked_frames(frames: Iterable[int], what: str) -> list[int]:
    if isinstance(frames, (str, bytes)):
        raise TypeError(f"{what} must be a list of frame numbers, not a string")
    try:
        items = list(frames)
    except TypeError:
        raise TypeError(f"{what} must be a list of frame numbers, not {type(frames).__name__}") from None
    for item in items:
        if not isinstance(item, int) or isinstance(item, bool):
            raise TypeError(f"{what} must hold whole frame numbers (got {item!r})")
    return items
