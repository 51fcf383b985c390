"""The recipe's data model (format v2.2, plus Render+'s keys: docs/api.md, Recipe).

Each dataclass field that is a recipe key is declared with its rule (see ``fields``): the
field list below *is* the list of keys, defaults, limits and JSON names. Field names are the
recipe's, except ``MailSettings.password`` (key ``pass``) and ``Job.frame_list`` (key
``frames``: ``Job.frames`` is the FrameSet the job renders, whichever keys gave it).
"""

# The field constructors (text(), record(), ...) return dataclasses.field(...) with the rule in its
# metadata; ruff cannot know that, so its "call in a dataclass default" check is off here.
# ruff: noqa: RUF009

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from ..frames import MAX_FRAME, FrameSet
from ..schedule import Window
from .datapath import MAX_PATH_CHARS
from .errors import ValidationIssue
from .fields import (
    Record,
    choice,
    choices,
    count_or_auto,
    flag,
    fraction,
    hook_phases,
    integer,
    optional_record,
    record,
    records,
    size,
    special,
    text,
    web_url,
)

RECIPE_VERSION = 2.2
SUPPORTED_VERSIONS = (2.2,)
BATCH_HOOK_PHASES = ("PRE_BATCH", "POST_BATCH")
JOB_HOOK_PHASES = ("PRE_JOB", "POST_JOB")
POWER_ACTIONS = ("DISABLED", "SLEEP", "HIBERNATE", "POWEROFF")
CYCLES_DEVICES = ("DEFAULT", "CPU", "CUDA", "OPTIX", "HIP", "ONEAPI", "METAL")
# Blender's -F values (image formats it can write from the command line).
IMAGE_FORMATS = (
    "TGA", "RAWTGA", "JPEG", "IRIS", "IRIZ", "AVIRAW", "AVIJPEG", "PNG", "BMP", "HDR", "TIFF",
    "OPEN_EXR", "OPEN_EXR_MULTILAYER", "MPEG", "CINEON", "DPX", "DDS", "JP2", "WEBP", "FFMPEG",
)
MAX_JOBS = 10_000
MAX_SIZE = 65_536
MAX_RETRIES = 10
MAX_PARALLEL = 256
MAX_FRAME_COUNT = 2 * MAX_FRAME + 1


@dataclass
class Hook(Record):
    """A shell command run around a batch or a job."""

    cmd: str = text(required=True)
    enabled: bool = flag(True)


@dataclass
class Section(Record):
    """Render border as fractions of the frame (Blender's border_min/max)."""

    enabled: bool = flag(False)
    x: float = fraction(0.0)
    y: float = fraction(0.0)
    width: float = fraction(1.0)
    height: float = fraction(1.0)


@dataclass
class CyclesSettings(Record):
    """Cycles overrides: samples (0 keeps the file's) and device (a GPU type may add ``+CPU``)."""

    samples: int = integer(0, 0, 16_777_216)
    device: str = special("device", "DEFAULT")


@dataclass
class CustomOverride(Record):
    """Set a data path (``render.fps``, ``objects["Cube"].hide_render``) to a value."""

    path: str = text(required=True, doc=f"a plain data path, at most {MAX_PATH_CHARS} characters: names "
                     'and literal subscripts only, e.g. render.fps or objects["Cube"].hide_render')
    value: Any = special("override_value", required=True,
                         doc="a number, string, boolean or a list of 1-16 numbers")
    enabled: bool = flag(True)


MOVIE_FORMAT_NAMES = ("h264", "prores", "ffv1", "webm")  # encode.formats.FORMATS (a test holds them equal)
MAX_FPS = 1000.0


@dataclass
class EncodeSettings(Record):
    """A movie made from the job's frames once every frame is verified (docs/movies.md)."""

    format: str = choice("h264", MOVIE_FORMAT_NAMES)
    fps: float | None = special("fps", None, nullable=True,
                                doc="frames per second; null: the scene's (fps / fps_base)")
    output: str = text(doc="the movie's path (a folder: the default name in it); \"\": beside the "
                           "frames, named after them")
    audio: bool = flag(True, doc="the scene's sound (its sequencer strips and speakers), when it has any")


@dataclass
class Job(Record):
    """One render job. Field names are the recipe's (see the module docstring)."""

    id: int = special("index", 0, doc="the job's index in jobs")
    name: str = text()
    enabled: bool = flag(True)
    output: str = text()
    external: bool = flag(False)
    layer: str = text()
    blendfile: str = text()
    filename: str = text()
    blend_file: str = text()
    animated: bool = flag(False)
    engine: str = special("engine", "")
    threads: int = integer(0, 0, 1024)
    hooks: dict[str, list[Hook]] = hook_phases(JOB_HOOK_PHASES)
    size: tuple[int, int] | None = size(None, nullable=True, doc="null keeps the file's size")
    scene: str = text()
    camera: str = text()
    world: str = text()
    frame_still: int = integer(1, -MAX_FRAME, MAX_FRAME)
    frame_start: int = integer(1, -MAX_FRAME, MAX_FRAME)
    frame_end: int = integer(1, -MAX_FRAME, MAX_FRAME, doc="defaults to frame_start; must be >= it")
    format: str = special("format", "")
    section: Section = record(Section)
    cycles: CyclesSettings = record(CyclesSettings)
    custom_overrides: list[CustomOverride] = records(CustomOverride)
    # Render+'s keys (docs/api.md, Render+'s recipe keys): additive, defaults keep 1.x behaviour.
    frame_list: FrameSet | None = special(
        "frames", key="frames", omit_unset=True,
        doc='a frame list that wins over frame_start/frame_end: "1-10,20,30-40x2", "-5..-1"')
    skip_existing: bool = flag(False, doc="render only frames whose output is missing")
    encode: EncodeSettings | None = optional_record(
        EncodeSettings, doc="a movie from the frames once they are all verified; null or absent: none. "
                            "Refused on a job that renders one frame or writes a movie format, and "
                            "with an output whose extension is another format's")
    blender_bin: str = text(doc="this job's Blender binary (overrides the recipe's); \"auto\": the "
                                "Blender matching its .blend's version")
    after: list[int] = special(
        "after", factory=list,
        doc="ids of jobs that must finish first: the job waits for them (others run meanwhile) "
            "and fails, saying why, when one failed, was cancelled or is disabled. An unknown id, "
            "the job's own id, an id given twice or a cycle is refused")
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def source_file(self) -> str:
        """The .blend this job renders (docs/api.md, Which file a job renders)."""
        return self.filename if self.external else self.blend_file

    @property
    def history_file(self) -> str:
        """The .blend its render times are remembered under: the file it renders, or, for the
        batch's own file, the original it came from when the recipe names it (``filename``):
        the add-on renders a fresh saved copy per batch, whose path says nothing of the scene."""
        return self.filename if self.filename and not self.external else self.source_file

    @property
    def frames(self) -> FrameSet:
        """Frames this job renders, in order, as ranges (never expanded)."""
        if self.frame_list is not None:
            return self.frame_list
        if self.animated:
            return FrameSet.span(self.frame_start, self.frame_end)
        return FrameSet.single(self.frame_still)

    @property
    def display_name(self) -> str:
        return self.name or f"Job {self.id}"


@dataclass
class Toggle(Record):
    """An ``{"enabled": ..., "value": ...}`` setting."""

    enabled: bool = flag(False)
    value: Any = None


@dataclass
class PercentageToggle(Toggle):
    value: int = integer(100, 1, 10_000)


@dataclass
class SizeToggle(Toggle):
    value: tuple[int, int] = size((1920, 1080), nullable=False)


@dataclass
class RssSettings(Record):
    enabled: bool = flag(False)
    path: str = text()


@dataclass
class ValidateSettings(Record):
    """How each written frame is checked whole before it counts as done (docs/api.md, validate)."""

    decode: bool = flag(True, doc="read every frame back whole: every layer of a multilayer EXR and "
                                  "every File Output file, by a helper Blender where a pure check "
                                  "cannot decode the format")
    black: bool = flag(False, doc="also refuse a frame that is uniformly black or holds NaNs")


@dataclass
class Settings(Record):
    rss: RssSettings = record(RssSettings)
    global_percentage: PercentageToggle = record(PercentageToggle)
    global_size: SizeToggle = record(SizeToggle)
    write_log: bool = flag(False)
    ignore_border: bool = flag(False)
    # Render+'s keys (docs/api.md, Render+'s recipe keys); the runner does not use all of them yet.
    skip_existing: bool = flag(False, doc="render only frames whose output is missing")
    retries: int = integer(1, 0, MAX_RETRIES, doc="how often a crashed job is retried (0 = never)")
    parallel: int | str = count_or_auto(1, 1, MAX_PARALLEL, doc='jobs rendering at once, or "auto"')
    session_reuse: bool | None = flag(
        None, nullable=True, doc="consecutive jobs of one file in one Blender (null: the engine decides)")
    farm_chunk: int = integer(10, 1, MAX_FRAME_COUNT, doc="frames per farm task")
    window: Window | None = special(
        "window", omit_unset=True, nullable=True,
        doc='when the batch renders, local time: {"start": "22:00", "end": "06:00"} (an end before '
            "the start spans midnight; start and end must differ); at its end the batch pauses "
            "after the frame and continues by itself at the next start (null or absent: any time)")
    validate: ValidateSettings | None = optional_record(
        ValidateSettings, doc="frames read back whole before they count as done (absent or null: "
                              "only the quick structural check every frame gets)")
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SoundSettings(Record):
    enabled: bool = flag(False)
    file: str = text()
    volume: int = integer(10, 0, 100)


@dataclass
class MailSettings(Record):
    """SMTP settings (docs/api.md, Mail). ``password`` is the recipe's ``pass``; never print it."""

    enabled: bool = flag(False)
    user: str = text()
    password: str = field(default="", repr=False, metadata=text(key="pass", secret=True).metadata)
    ssl: bool = flag(True)
    to: str = text()
    server: str = text()


WEBHOOK_PRESETS = ("json", "discord", "slack", "ntfy")
WEBHOOK_EVENTS = ("batch_end", "queue_end", "job_failed", "paused")


@dataclass
class WebhookSettings(Record):
    """A chat or webhook notice (docs/api.md, Webhooks). ``url`` carries the channel's key:
    a secret, like the mail's ``pass``."""

    enabled: bool = flag(False)
    url: str = field(default="", repr=False, metadata=web_url(
        doc="the webhook's http:// or https:// address, with a host (required when enabled); a "
            "secret: every poll, log and stored recipe shows \"***\"").metadata)
    preset: str = choice("json", WEBHOOK_PRESETS)
    events: list[str] = choices(WEBHOOK_EVENTS, doc="the events that send a notice (default: all)")


@dataclass
class Notifications(Record):
    desktop: bool = flag(False)
    desktop_job_failures: bool = flag(False, doc="also notify each failed job")
    sound: SoundSettings = record(SoundSettings)
    mail: MailSettings = record(MailSettings)
    webhook: WebhookSettings = record(WebhookSettings)


@dataclass
class PowerOff(Record):
    enabled: bool = flag(False)
    action: str = choice("DISABLED", POWER_ACTIONS)

    @property
    def active(self) -> bool:
        """True when the batch should end with a power action."""
        return self.enabled and self.action != "DISABLED"


def recipe_base_dir(recipe_path: str) -> str:
    """The folder a recipe file's relative paths are resolved against: the folder of the file
    itself, symlinks followed, so a recipe linked into another folder still finds the .blend
    files beside it. The CLI and the add-on's *Import Recipe* both use this rule."""
    return os.path.dirname(os.path.realpath(recipe_path))


@dataclass
class Recipe(Record):
    """A whole batch: settings and jobs. ``base_dir`` resolves relative paths.

    ``extra`` keeps keys this version does not know (written back unchanged, so a newer
    add-on's recipe survives a round trip); ``warnings`` names them, and anything else that is
    accepted but probably a mistake.
    """

    name: str = text()
    version: float = special("version", RECIPE_VERSION, required=True)
    settings: Settings = record(Settings)
    blender_bin: str = text(doc="the Blender of every job: a name on PATH, a path, or \"auto\" (the "
                                "Blender matching each .blend's version)")
    start_at: float | str | None = special(
        "start_at", omit_unset=True, nullable=True,
        doc='when a started batch begins rendering: epoch seconds, or "HH:MM" local time (the '
            "next such time: today while still ahead, else tomorrow); it waits (WAITING) until "
            "then. A time already past starts it at once")
    hooks: dict[str, list[Hook]] = hook_phases(BATCH_HOOK_PHASES)
    poweroff: PowerOff = record(PowerOff)
    notifications: Notifications = record(Notifications)
    jobs: list[Job] = special("jobs", required=True, factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    base_dir: str | None = None
    warnings: list[ValidationIssue] = field(default_factory=list)

    @property
    def enabled_jobs(self) -> list[Job]:
        return [j for j in self.jobs if j.enabled]

    def resolve(self, path: str) -> str:
        """``path`` made absolute against ``base_dir`` (``~`` expanded); empty stays empty."""
        if not path:
            return path
        path = os.path.expanduser(path)
        if not os.path.isabs(path) and self.base_dir:
            path = os.path.join(self.base_dir, path)
        return os.path.normpath(path)

    def to_json(self, *, indent: int | None = 2, redact: bool = False) -> str:
        return json.dumps(self.to_dict(redact=redact), indent=indent)
