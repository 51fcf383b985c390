# mypy: disable-error-code="union-attr"
"""A job's movie in the N-panel: the Movie box of the Job panel (make a movie from the frames,
its format, frame rate, file and sound), greyed with the reason when the job cannot have one;
and the job's movie in a batch: waiting, encoding, made (with Play and its folder) or failed.

Draw only, like ``ui`` and ``ui_run`` (which call these); the words are ``movie_text``'s, the
reason ``recipe_io``'s (the same rule that leaves ``encode`` out of the recipe).
"""

from __future__ import annotations

from typing import Any

import bpy

from .movie_text import CANCELLED, DONE, ENCODING, FAILED, WAITING, movie_line, settings_note
from .props import written_format
from .recipe_io import FORMAT_FROM_FILE, encode_blocker
from .text_fit import LineWidth, wrap_lines

STATUS_ICONS = {WAITING: "TIME", ENCODING: "RENDER_ANIMATION", DONE: "FILE_MOVIE", FAILED: "ERROR",
                CANCELLED: "CANCEL"}
ICONS = frozenset(STATUS_ICONS.values()) | {"PLAY", "FILE_FOLDER", "INFO", "BLANK1"}
FAILURE_LINES = 6  # a failed encode's message, wrapped; the job's messages hold all of it


def movie_blocker(job: Any) -> str:
    """Why ``job`` cannot have a movie ("" when it can): a still, or frames that are a movie."""
    return encode_blocker(job, written_format(job) if job.format == FORMAT_FROM_FILE else "")


def draw_movie_settings(layout: bpy.types.UILayout, job: Any, width: int | LineWidth) -> None:
    """The Movie box: a checkbox heading, then its settings (dimmed while off). A job that
    cannot have a movie shows the checkbox disabled and a line saying why, as Blender does."""
    box = layout.box()
    blocker = movie_blocker(job)
    heading = box.row()
    heading.use_property_split = False
    heading.enabled = not blocker
    heading.prop(job, "use_encode", text="Movie from the Frames")
    if blocker:
        col = box.column(align=True)
        col.enabled = False
        for number, line in enumerate(wrap_lines(blocker, width)):
            col.label(text=line, icon="INFO" if number == 0 else "BLANK1")
        return
    col = box.column()
    col.active = job.use_encode
    col.prop(job, "encode_format", text="Format")
    col.prop(job, "encode_fps", text="Frame Rate")
    col.prop(job, "encode_output", text="File")
    col.prop(job, "encode_audio", text="Sound")
    note = col.row()
    note.active = False
    note.label(text=settings_note(job.encode_fps, job.encode_output))


def draw_movie_state(layout: bpy.types.UILayout, state: Any, width: int | LineWidth) -> None:
    """The job's movie in a batch, one line; a made one gets Play and its folder, a failed one
    the reason (wrapped). Nothing for a job that makes no movie."""
    status = state.movie_status
    if not status:
        return
    text = movie_line(status, progress=state.movie_progress, path=state.movie_path,
                      label=state.movie_label, seconds=state.movie_seconds,
                      message=state.movie_message)
    icon: Any = STATUS_ICONS.get(status, "FILE_MOVIE")
    if status == FAILED:
        col = layout.column(align=True)
        col.alert = True
        lines = wrap_lines(text, width)
        for number, line in enumerate(lines[:FAILURE_LINES]):
            col.label(text=line, icon=icon if number == 0 else "BLANK1")
        return
    row = layout.row(align=True)
    row.label(text=text, icon=icon)
    if status == DONE and state.movie_path:
        play = row.operator("renderplus.movie_open", text="Play", icon="PLAY")
        play.filepath = state.movie_path
        folder = row.operator("renderplus.movie_open", text="", icon="FILE_FOLDER")
        folder.filepath, folder.folder = state.movie_path, True
