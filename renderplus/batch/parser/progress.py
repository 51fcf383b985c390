"""``JobProgress``: Blender's stdout events folded into what a poll shows of one job.

``lines.py`` reads each line; this module keeps the state: progress over the whole job, the
engine, engine data, frames done, files written, errors, why Blender died, and the last
meaningful lines. Everything kept is bounded (``kept.py``, ``done.py``): a job over two
million frames, or a Blender printing a 200 MB line, costs the same memory as a small one.
View layers within a frame: ``layers.py``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Final

from .clock import clock_text, seconds_of
from .done import DoneFrames
from .engine_data import status_data, without_frame_data
from .engines import eevee_id, normalize_engine, version_tuple
from .fatal import FatalKind
from .framelist import checked_frames, marker_frames, same_frames
from .kept import MAX_PATH_CHARS, MAX_PATHS, RecentPaths, Tail, cap_text
from .layers import LayerTracker
from .lines import MAX_LINE_CHARS, NON_COMPATIBLE, Event, EventKind, parse_line

# A frame's progress from its samples stops short of done: only a written file finishes it
# (one Ctrl+C lets Cycles reach ``Sample N/N`` and ``Finished``, then discards the frame).
FRAME_FRACTION_CAP: Final = 0.99
MAX_ERRORS: Final = 200
RECENT_ERRORS: Final = 4  # an error repeating one of these is not kept again
MAX_SCRIPT_ERRORS: Final = 5  # the job script's sentences kept (it stops at its first)

_STATUS, _FINISHED, _CANCELLED = EventKind.STATUS, EventKind.FINISHED, EventKind.CANCELLED
_SAVED, _APPENDED, _SKIPPED = EventKind.SAVED, EventKind.APPENDED, EventKind.SKIPPED
_FRAME_TIME, _ERROR, _ENGINE = EventKind.FRAME_TIME, EventKind.ERROR, EventKind.ENGINE
_BANNER, _QUIT, _READY = EventKind.BANNER, EventKind.QUIT, EventKind.READY
_FRAME_WRITTEN, _WRITE_FAILED = EventKind.FRAME_WRITTEN, EventKind.WRITE_FAILED

# How sure we are of the engine: a line's hint < the recipe's engine < the ready marker.
_FROM_LINES, _FROM_RECIPE, _FROM_MARKER = 1, 2, 3

class JobProgress:
    """One render job's progress, fed Blender's stdout line by line.

    ``progress`` goes from 0 to 100 over all the job's frames: frames done plus the share of
    the current frame its samples (or tiles) show. It never goes back, and it is exactly 100
    only once every frame is done. A frame is done when its file is written (marker ``frame``,
    ``Saved:``, movie ``Append frame`` / 5.x ``Video append frame``) or skipped because it
    exists. With several view layers a frame's share is (layers done + the current layer's
    share) / layers.

    ``frames`` is the job's frames: a ``FrameSet``, a range or any ``Sequence[int]``, kept as
    given and never expanded (empty: unknown until the ready marker lists them). ``engine`` is
    the recipe's engine id ("" when the file's own engine is used). The ready marker's engine
    beats the recipe's, which beats what Blender's lines suggest; an EEVEE id follows the
    Blender version once known (``BLENDER_EEVEE_NEXT`` in 4.2-4.5, ``BLENDER_EEVEE`` otherwise).

    ``data`` holds strings: ``frame``, ``mem`` (as Blender printed it), ``elapsed`` (always the
    current frame's render time, as Blender's ``Time:`` says it; for 5.x status lines, which
    carry none, the log time since the frame began), and while a frame renders
    ``samples_done``/``samples_todo``, ``tiles_done``/``tiles_todo`` and ``remaining``: these
    go when the frame is done.

    Bounded: ``saved_files``/``skipped_files`` hold the last ``MAX_PATHS`` paths while
    ``saved_count``/``skipped_count`` count all; ``errors`` keeps the first ``MAX_ERRORS``
    messages, each cut to ``kept.MAX_KEPT_CHARS``, and ``script_errors`` the first of them that
    Render+'s job script said itself (an override, a camera it could not apply); ``tail()``
    the last ``TAIL_LINES`` meaningful lines. ``fatal_kind`` names the first fatal cause
    seen (GPU, out of memory, display, assertion, crash), ``fatal_message`` its line;
    ``out_of_memory`` is True once any line said memory ran out. ``unwritten`` maps each file
    Blender said it could not write (a full disk) to why; such a file never counts as a
    frame, even when ``Saved:`` follows.

    Written by one thread (the one draining stdout); other threads may read the attributes.
    ``data`` is replaced, never changed in place, so a reader's dict stays consistent.
    """

    def __init__(self, frames: Sequence[int] | Iterable[int] = (), engine: str | None = "") -> None:
        self._done = DoneFrames(checked_frames(frames, "frames"))
        if engine is not None and not isinstance(engine, str):
            raise TypeError(f"engine must be a str like 'CYCLES', not {type(engine).__name__}")
        self.engine_type: str | None = normalize_engine(engine)
        self._engine_source = _FROM_RECIPE if self.engine_type else 0
        self.progress: float = 0.0
        self.data: dict[str, str] = {}
        self._saved = RecentPaths()
        self._skipped: deque[str] = deque(maxlen=MAX_PATHS)
        self.skipped_count = 0
        self.errors: list[str] = []
        self.errors_dropped = 0
        self.script_errors: list[str] = []  # the job script's own sentences (its error markers)
        self.fatal_kind: FatalKind | None = None
        self.fatal_message: str | None = None
        self.out_of_memory = False
        self.unwritten: dict[str, str] = {}      # path -> reason (the first MAX_ERRORS)
        self.cancelled = False
        self.quit = False                        # Blender printed "Blender quit"
        self.samples: int | None = None          # from the ready marker
        self.blender_version: str | None = None  # from the ready marker or the banner
        self._tail = Tail()
        self._current: int | None = None      # frame of the last status line
        self._current_done = False            # whether that frame is done
        self._fraction = 0.0                  # how far the current frame is (0..cap)
        self._frame_open = True               # False from a Saved: line to the next frame
        self._unconfirmed: int | None = None  # frame a Saved: line was guessed to belong to
        self._markers_count_frames = False    # set by the first frame marker
        self._skip_views: set[str] = set()
        self._synthetic = 0
        self._clock_start = 0.0               # 5.x log time at which the current frame began
        self._layers = LayerTracker()

    # -- what a poll reads -------------------------------------------------------------------

    @property
    def layers(self) -> list[str]:
        """The view layers each frame renders, in order (the ready marker's; empty: unknown)."""
        return list(self._layers.names)

    @property
    def frames(self) -> Sequence[int]:
        """The frames the job renders (the ready marker's once it has arrived), not expanded."""
        return self._done.frames

    @property
    def frames_total(self) -> int:
        return self._done.total

    @property
    def frames_done(self) -> int:
        done = self._done.count
        total = self._done.total
        return min(done, total) if total else done

    @property
    def saved_files(self) -> list[str]:
        """Paths written, in order: the last ``MAX_PATHS`` of ``saved_count``."""
        return list(self._saved)

    @property
    def saved_count(self) -> int:
        return self._saved.count

    @property
    def skipped_files(self) -> list[str]:
        """Existing files skipped (overwrite off): the last ``MAX_PATHS`` of ``skipped_count``."""
        return list(self._skipped)

    def tail(self, count: int = 10) -> list[str]:
        """The last ``count`` meaningful lines (no status, blank or marker lines), oldest first:
        what a failed job's message quotes."""
        return self._tail.last(count)

    # -- feeding -----------------------------------------------------------------------------

    def feed(self, line: str | bytes) -> bool:
        """Read one stdout line; True when anything a poll shows has changed."""
        event = parse_line(line)
        if event is None:
            if not self.quit:
                self._tail.remember(line, MAX_LINE_CHARS)
            return False
        kind = event.kind
        if kind is _STATUS:  # most lines: skip apply's dispatch
            changed = self._on_status(event)
            if self._skip_views:
                self._skip_views.clear()
            return self._update_progress() or changed
        if not self.quit:
            if kind is _ERROR:
                self._tail.remember(event.text or "", MAX_LINE_CHARS)
            elif kind is _SAVED or kind is _APPENDED or kind is _SKIPPED or kind is _ENGINE:
                self._tail.remember(line, MAX_LINE_CHARS)
        return self.apply(event)

    def apply(self, event: Event) -> bool:
        """Fold one parsed event into the job's state; True when anything visible changed."""
        kind = event.kind
        if kind is _STATUS or kind is _FINISHED or kind is _CANCELLED:
            changed = self._on_status(event)
        elif kind is _SAVED:
            changed = self._on_saved(event)
        elif kind is _FRAME_TIME:
            changed = self._on_time(event)
        elif kind is _FRAME_WRITTEN:
            changed = self._on_frame_marker(event)
        elif kind is _ERROR:
            changed = self._on_error(event)
        elif kind is _WRITE_FAILED:
            changed = self._on_write_failed(event)
        elif kind is _APPENDED:
            changed = self._on_appended(event)
        elif kind is _SKIPPED:
            changed = self._on_skipped(event)
        elif kind is _READY:
            changed = self._on_ready(event)
        elif kind is _ENGINE:
            changed = self._hint_engine(event.engine)
        elif kind is _BANNER:
            if self.blender_version is None:
                self._set_version(event.text)
            changed = False
        elif kind is _QUIT:
            self.quit = True
            changed = False
        else:  # MEMORY_LEAK: Blender's leak report at exit is not the job's error
            return False
        if self._skip_views and kind is not _SKIPPED:
            self._skip_views.clear()
        return self._update_progress() or changed

    # -- events ------------------------------------------------------------------------------

    def _on_status(self, event: Event) -> bool:
        frame = event.frame
        new_frame = frame != self._current
        if new_frame:
            self._current = frame
            self._current_done = frame in self._done if frame is not None else False
            self._fraction = 0.0
            self._frame_open = True
            self._layers.new_frame()
        elapsed = event.elapsed
        if elapsed is None and event.log_time is not None:
            elapsed = self._frame_clock(event.log_time)
        data = status_data(self.data, event, elapsed, self.samples, new_frame)
        changed = data is not None
        if data is not None:
            self.data = data
        if event.engine is not None and not self._engine_source:
            changed = self._hint_engine(event.engine) or changed
        kind = event.kind
        layers = self._layers.count
        compatible = self.engine_type != NON_COMPATIBLE  # other engines' text: unreliable
        if layers and compatible:
            self._raise_fraction(self._layers.follow(event))
        if kind is _STATUS:
            if compatible and (event.samples_done is not None or event.tiles_todo is not None):
                fraction = event.fraction
                if fraction is None and event.samples_done is not None and self.samples:
                    fraction = event.samples_done / self.samples
                if fraction is not None:
                    if layers:
                        fraction = (self._layers.index + fraction) / layers
                    self._raise_fraction(fraction)
        elif kind is _FINISHED:
            if compatible:
                self._raise_fraction(self._layers.finished() if layers else 1.0)
        elif not self.cancelled:  # CANCELLED
            self.cancelled = True
            changed = True
        return changed

    def _frame_clock(self, log_time: str) -> str | None:
        seconds = seconds_of(log_time)
        return None if seconds is None else clock_text(seconds - self._clock_start)

    def _raise_fraction(self, fraction: float) -> None:
        fraction = min(fraction, FRAME_FRACTION_CAP)
        if fraction > self._fraction:
            self._fraction = fraction

    def _on_saved(self, event: Event) -> bool:
        if event.text in self.unwritten:  # OpenEXR says Saved: after a failed write
            self._frame_open = False
            return False
        changed = self._add_saved(event.text)
        if self._frame_open and not self._markers_count_frames:
            current = self._current
            if current is not None and not self._current_done:
                key: int | None = current
            else:
                key = self._next_frame()
                self._unconfirmed = key
            if key is not None and self._mark_done(key):
                changed = True
        self._frame_open = False  # more Saved: lines before the next frame are other views
        return changed

    def _on_time(self, event: Event) -> bool:
        self._frame_open = True
        if event.log_time is not None:
            start = seconds_of(event.log_time)
            if start is not None:
                self._clock_start = start  # the next frame's 5.x clock starts here
        changed = self._drop_frame_data()
        if event.elapsed is not None and self.data.get("elapsed") != event.elapsed:
            self.data = {**self.data, "elapsed": event.elapsed}
            return True
        return changed

    def _on_frame_marker(self, event: Event) -> bool:
        if event.text in self.unwritten:
            return False
        changed = self._add_saved(event.text)
        frame = event.frame
        if frame is None:
            return changed
        if not self._markers_count_frames:
            self._markers_count_frames = True
            guess = self._unconfirmed
            if guess is not None and guess != frame and frame not in self._done:
                self._done.discard(guess)  # the Saved: line before was this frame's
                if guess == self._current:
                    self._current_done = False
        self._unconfirmed = None
        return self._mark_done(frame) or changed

    def _on_appended(self, event: Event) -> bool:
        frame = event.frame
        return frame is not None and self._mark_done(frame)

    def _on_skipped(self, event: Event) -> bool:
        if event.text is not None:
            self._skipped.append(cap_text(event.text, MAX_PATH_CHARS))
            self.skipped_count += 1
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

    def _on_error(self, event: Event) -> bool:
        message = cap_text(event.text or "error")
        if event.extra is not None and event.extra.get("event") == "error" \
                and len(self.script_errors) < MAX_SCRIPT_ERRORS:
            self.script_errors.append(message)
        fatal = event.fatal
        if fatal is not None:
            if self.fatal_kind is None:
                self.fatal_kind, self.fatal_message = fatal, message
            if fatal is FatalKind.OUT_OF_MEMORY:
                self.out_of_memory = True
        return self._add_error(message)

    def _on_write_failed(self, event: Event) -> bool:
        path, reason = event.text or "", str((event.extra or {}).get("reason") or "write error")
        if path and len(self.unwritten) < MAX_ERRORS:
            self.unwritten[cap_text(path, MAX_PATH_CHARS)] = reason
        return self._add_error(cap_text(f"Blender could not write {path} ({reason})"))

    def _on_ready(self, event: Event) -> bool:
        payload = event.extra or {}
        changed = False
        engine = normalize_engine(event.engine)
        if engine is not None:
            changed = engine != self.engine_type
            self.engine_type = engine
            self._engine_source = _FROM_MARKER
        frames = marker_frames(payload.get("frames"))
        if frames is not None and not same_frames(frames, self._done.frames):
            self._done = self._done.rebase(frames)
            self._current_done = self._current is not None and self._current in self._done
            changed = True
        samples = payload.get("samples")
        if isinstance(samples, int) and not isinstance(samples, bool) and samples > 0:
            self.samples = samples
            if "samples_todo" not in self.data:
                self.data = {**self.data, "samples_todo": str(samples)}
                changed = True
        version = payload.get("blender")
        if isinstance(version, str) and version:
            self._set_version(version)
        self._layers.configure(payload.get("scene"), payload.get("layers"))
        return changed

    # -- helpers -----------------------------------------------------------------------------

    def _set_version(self, version: str | None) -> None:
        self.blender_version = version
        parsed = version_tuple(version)
        eevee = self.engine_type in ("BLENDER_EEVEE", "BLENDER_EEVEE_NEXT")
        if parsed is not None and eevee and self._engine_source != _FROM_MARKER:
            self.engine_type = eevee_id(parsed)

    def _hint_engine(self, engine: str | None) -> bool:
        """Take the engine a line reveals, unless the recipe or a marker already said."""
        if engine is None or self._engine_source:
            return False
        self.engine_type = normalize_engine(engine, self.blender_version)
        self._engine_source = _FROM_LINES
        return True

    def _add_error(self, message: str) -> bool:
        """Keep the first ``MAX_ERRORS``: a script failing on every frame must not fill memory.
        A message among the last few (a GPU failing per tile, two lines at a time) is kept once."""
        errors = self.errors
        if message in errors[-RECENT_ERRORS:]:
            return False
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
        if not path or len(path) > MAX_PATH_CHARS:
            return False
        return self._saved.add(path)

    def _mark_done(self, frame: int) -> bool:
        """Mark a frame done; its per-frame engine data goes with it. False if it already was."""
        if not self._done.add(frame):
            return False
        if frame == self._current or self._current is None:
            self._current_done = frame == self._current
            self._drop_frame_data()
        return True

    def _drop_frame_data(self) -> bool:
        data = without_frame_data(self.data)
        if data is not None:
            self.data = data
        return data is not None

    def _next_frame(self) -> int | None:
        """The first frame of the job not done yet (frames render in order)."""
        frame = self._done.first_missing()
        if frame is not None or self._done.total:
            return frame  # None: every frame is done, a stray line
        self._synthetic += 1  # frames unknown yet: count it under a number no frame has
        return -(10**9) - self._synthetic

    def _update_progress(self) -> bool:
        done = self._done
        total = done.total
        if not total:
            return False
        count = done.count
        if count >= total:
            value = 100.0
        else:
            fraction = self._fraction if self._current is not None and not self._current_done else 0.0
            value = (count + fraction) * 100.0 / total
        if value > self.progress:
            self.progress = value
            return True
        return False

