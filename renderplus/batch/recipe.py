"""The batch recipe (format v2.2 of the spec): parse, validate, fill defaults, write back.

A recipe arrives as JSON text from the add-on, the HTTP API or a file given to the CLI. It is
checked in one pass that collects *every* problem with the path of the field that has it
(``jobs[2].frame_end: must be >= frame_start (got 1 < 5)``), so a user fixes a recipe in one go.
Keys this version does not know are kept (``extra``) and written back unchanged, so a newer
add-on's recipe survives a round trip through an older server.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class ValidationIssue:
    """One problem in a recipe: where (``jobs[2].frame_end``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class RecipeError(ValueError):
    """A recipe that cannot be used; ``errors`` lists every problem found."""

    def __init__(self, errors: list[ValidationIssue]) -> None:
        self.errors = errors
        count = len(errors)
        head = f"invalid recipe ({count} error{'s' if count != 1 else ''})"
        super().__init__(head + ":\n" + "\n".join(f"  - {e}" for e in errors))


@dataclass
class Hook:
    """A shell command run around a batch or a job."""

    cmd: str
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "cmd": self.cmd}


@dataclass
class Section:
    """Render border as fractions of the frame (Blender's border_min/max)."""

    enabled: bool = False
    x: float = 0.0
    y: float = 0.0
    width: float = 1.0
    height: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "x": self.x, "y": self.y,
                "width": self.width, "height": self.height}


@dataclass
class CyclesSettings:
    """Cycles overrides: samples (0 keeps the file's) and device."""

    samples: int = 0
    device: str = "DEFAULT"

    def to_dict(self) -> dict[str, Any]:
        return {"samples": self.samples, "device": self.device}


@dataclass
class CustomOverride:
    """Set a data path (``render.fps``, ``objects["Cube"].hide_render``) to a value."""

    path: str
    value: Any
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "path": self.path, "value": self.value}


@dataclass
class Job:
    """One render job. Field names are the recipe's."""

    id: int
    name: str = ""
    enabled: bool = True
    output: str = ""
    external: bool = False
    layer: str = ""
    blendfile: str = ""
    filename: str = ""
    blend_file: str = ""
    animated: bool = False
    engine: str = ""
    threads: int = 0
    hooks: dict[str, list[Hook]] = field(default_factory=lambda: {p: [] for p in JOB_HOOK_PHASES})
    size: tuple[int, int] | None = None
    scene: str = ""
    camera: str = ""
    world: str = ""
    frame_still: int = 1
    frame_start: int = 1
    frame_end: int = 1
    format: str = ""
    section: Section = field(default_factory=Section)
    cycles: CyclesSettings = field(default_factory=CyclesSettings)
    custom_overrides: list[CustomOverride] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def source_file(self) -> str:
        """The .blend this job renders (Decision 17)."""
        return self.filename if self.external else self.blend_file

    @property
    def frames(self) -> list[int]:
        """Frames this job renders, in order."""
        if self.animated:
            return list(range(self.frame_start, self.frame_end + 1))
        return [self.frame_still]

    @property
    def display_name(self) -> str:
        return self.name or f"Job {self.id}"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        data.update({
            "enabled": self.enabled, "id": self.id, "name": self.name, "output": self.output,
            "external": self.external, "layer": self.layer, "blendfile": self.blendfile,
            "filename": self.filename, "animated": self.animated, "engine": self.engine,
            "threads": self.threads,
            "hooks": {p: [h.to_dict() for h in hs] for p, hs in self.hooks.items()},
            "size": list(self.size) if self.size else None,
            "blend_file": self.blend_file, "scene": self.scene, "camera": self.camera,
            "world": self.world, "frame_still": self.frame_still,
            "frame_start": self.frame_start, "frame_end": self.frame_end,
            "format": self.format, "section": self.section.to_dict(),
            "cycles": self.cycles.to_dict(),
            "custom_overrides": [o.to_dict() for o in self.custom_overrides],
        })
        return data


@dataclass
class Toggle:
    """An ``{"enabled": ..., "value": ...}`` setting."""

    enabled: bool = False
    value: Any = None


@dataclass
class RssSettings:
    enabled: bool = False
    path: str = ""


@dataclass
class Settings:
    rss: RssSettings = field(default_factory=RssSettings)
    global_percentage: Toggle = field(default_factory=lambda: Toggle(False, 100))
    global_size: Toggle = field(default_factory=lambda: Toggle(False, (1920, 1080)))
    write_log: bool = False
    ignore_border: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.extra)
        size = self.global_size.value
        data.update({
            "rss": {"enabled": self.rss.enabled, "path": self.rss.path},
            "global_percentage": {"enabled": self.global_percentage.enabled,
                                  "value": self.global_percentage.value},
            "global_size": {"enabled": self.global_size.enabled,
                            "value": list(size) if size is not None else None},
            "write_log": self.write_log,
            "ignore_border": self.ignore_border,
        })
        return data


@dataclass
class SoundSettings:
    enabled: bool = False
    file: str = ""
    volume: int = 10


@dataclass
class MailSettings:
    """SMTP settings (Decision 14). ``password`` is the recipe's ``pass``; never print it."""

    enabled: bool = False
    user: str = ""
    password: str = field(default="", repr=False)
    ssl: bool = True
    to: str = ""
    server: str = ""


@dataclass
class Notifications:
    desktop: bool = False
    desktop_job_failures: bool = False  # also notify each failed job, not only the batch's end
    sound: SoundSettings = field(default_factory=SoundSettings)
    mail: MailSettings = field(default_factory=MailSettings)

    def to_dict(self, *, redact: bool = False) -> dict[str, Any]:
        m = self.mail
        return {
            "desktop": self.desktop,
            "desktop_job_failures": self.desktop_job_failures,
            "sound": {"enabled": self.sound.enabled, "file": self.sound.file,
                      "volume": self.sound.volume},
            "mail": {"enabled": m.enabled, "user": m.user,
                     "pass": ("***" if m.password else "") if redact else m.password,
                     "ssl": m.ssl, "to": m.to, "server": m.server},
        }


@dataclass
class PowerOff:
    enabled: bool = False
    action: str = "DISABLED"

    @property
    def active(self) -> bool:
        """True when the batch should end with a power action."""
        return self.enabled and self.action != "DISABLED"


@dataclass
class Recipe:
    """A whole batch: settings and jobs. ``base_dir`` resolves relative paths."""

    name: str = ""
    version: float = RECIPE_VERSION
    settings: Settings = field(default_factory=Settings)
    blender_bin: str = ""
    hooks: dict[str, list[Hook]] = field(
        default_factory=lambda: {p: [] for p in BATCH_HOOK_PHASES})
    poweroff: PowerOff = field(default_factory=PowerOff)
    notifications: Notifications = field(default_factory=Notifications)
    jobs: list[Job] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    base_dir: str | None = None

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

    def to_dict(self, *, redact: bool = False) -> dict[str, Any]:
        """The recipe as JSON-ready data; ``redact`` hides the mail password."""
        data = dict(self.extra)
        data.update({
            "name": self.name,
            "version": self.version,
            "settings": self.settings.to_dict(),
            "blender_bin": self.blender_bin,
            "hooks": {p: [h.to_dict() for h in hs] for p, hs in self.hooks.items()},
            "poweroff": {"enabled": self.poweroff.enabled, "action": self.poweroff.action},
            "notifications": self.notifications.to_dict(redact=redact),
            "jobs": [j.to_dict() for j in self.jobs],
        })
        return data

    def to_json(self, *, indent: int | None = 2, redact: bool = False) -> str:
        return json.dumps(self.to_dict(redact=redact), indent=indent)


# --------------------------------------------------------------------------------------------
# Parsing


class _Checker:
    """Reads typed values out of nested dicts, recording problems instead of raising."""

    def __init__(self) -> None:
        self.errors: list[ValidationIssue] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(ValidationIssue(path, message))

    def obj(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.error(_join(path, key), f"must be an object (got {_kind(value)})")
            return {}
        return value

    def boolean(self, data: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = data.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(_join(path, key), f"must be true or false (got {_show(value)})")
            return default
        return value

    def string(self, data: Mapping[str, Any], key: str, path: str, default: str = "",
               *, required: bool = False) -> str:
        if key not in data or data[key] is None:
            if required:
                self.error(_join(path, key), "is required")
            return default
        value = data[key]
        if not isinstance(value, str):
            self.error(_join(path, key), f"must be a string (got {_show(value)})")
            return default
        if "\x00" in value:
            self.error(_join(path, key), "must not contain NUL characters")
            return default
        return value

    def integer(self, data: Mapping[str, Any], key: str, path: str, default: int,
                *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = data.get(key, default)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(_join(path, key), f"must be an integer (got {_show(value)})")
            return default
        if minimum is not None and value < minimum:
            self.error(_join(path, key), f"must be >= {minimum} (got {value})")
            return default
        if maximum is not None and value > maximum:
            self.error(_join(path, key), f"must be <= {maximum} (got {value})")
            return default
        return value

    def number(self, data: Mapping[str, Any], key: str, path: str, default: float,
               *, minimum: float, maximum: float) -> float:
        value = data.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.error(_join(path, key), f"must be a number (got {_show(value)})")
            return default
        if not minimum <= value <= maximum:
            self.error(_join(path, key), f"must be between {minimum:g} and {maximum:g} (got {value:g})")
            return default
        return float(value)

    def choice(self, data: Mapping[str, Any], key: str, path: str, default: str,
               choices: tuple[str, ...]) -> str:
        value = self.string(data, key, path, default)
        if value not in choices:
            self.error(_join(path, key), f"must be one of {', '.join(choices)} (got {_show(value)})")
            return default
        return value

    def size(self, data: Mapping[str, Any], key: str, path: str) -> tuple[int, int] | None:
        value = data.get(key)
        if value is None:
            return None
        if (not isinstance(value, list | tuple) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            self.error(_join(path, key), f"must be [width, height] in pixels (got {_show(value)})")
            return None
        width, height = value
        if not (1 <= width <= MAX_SIZE and 1 <= height <= MAX_SIZE):
            self.error(_join(path, key),
                       f"width and height must be between 1 and {MAX_SIZE} (got {width}x{height})")
            return None
        return (width, height)

    def hooks(self, data: Mapping[str, Any], key: str, path: str,
              phases: tuple[str, ...]) -> dict[str, list[Hook]]:
        result: dict[str, list[Hook]] = {p: [] for p in phases}
        hooks = self.obj(data, key, path)
        hooks_path = _join(path, key)
        for phase, entries in hooks.items():
            phase_path = _join(hooks_path, phase)
            if phase not in phases:
                self.error(phase_path, f"unknown hook phase (expected {', '.join(phases)})")
                continue
            if entries is None:
                continue
            if not isinstance(entries, list):
                self.error(phase_path, f"must be a list of hooks (got {_kind(entries)})")
                continue
            for index, entry in enumerate(entries):
                entry_path = f"{phase_path}[{index}]"
                if isinstance(entry, str):  # shorthand: a bare command
                    entry = {"cmd": entry}
                if not isinstance(entry, Mapping):
                    self.error(entry_path, f"must be an object with 'cmd' (got {_kind(entry)})")
                    continue
                cmd = self.string(entry, "cmd", entry_path, required=True)
                enabled = self.boolean(entry, "enabled", entry_path, True)
                if "cmd" in entry and isinstance(entry["cmd"], str) and not cmd.strip():
                    self.error(_join(entry_path, "cmd"), "must not be empty")
                    continue
                if cmd:
                    result[phase].append(Hook(cmd=cmd, enabled=enabled))
        return result


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, str | int | float | bool | type(None)) else _kind(value)
    return text if len(text) <= 60 else text[:57] + "..."


_RECIPE_KEYS = {"name", "version", "settings", "blender_bin", "hooks", "poweroff",
                "notifications", "jobs"}
_SETTINGS_KEYS = {"rss", "global_percentage", "global_size", "write_log", "ignore_border"}
_JOB_KEYS = {"enabled", "id", "name", "output", "external", "layer", "blendfile", "filename",
             "animated", "engine", "threads", "hooks", "size", "blend_file", "scene", "camera",
             "world", "frame_still", "frame_start", "frame_end", "format", "section", "cycles",
             "custom_overrides"}
_FRAME_LIMIT = 1_048_574  # Blender's MAXFRAME


def parse_recipe(source: str | bytes | Mapping[str, Any], *, base_dir: str | None = None) -> Recipe:
    """Parse and validate a recipe from JSON text or a dict; raise RecipeError listing all problems."""
    if isinstance(source, bytes | str):
        try:
            text = source.decode("utf-8") if isinstance(source, bytes) else source
        except UnicodeDecodeError as exc:
            raise RecipeError([ValidationIssue("", f"recipe is not UTF-8 text ({exc.reason})")]) from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RecipeError([ValidationIssue("", f"recipe is not valid JSON: {exc}")]) from None
    else:
        data = source
    if not isinstance(data, Mapping):
        raise RecipeError([ValidationIssue("", f"recipe must be a JSON object (got {_kind(data)})")])

    check = _Checker()
    version = data.get("version")
    if version is None:
        check.error("version", f"is required (this server reads version {RECIPE_VERSION})")
    elif isinstance(version, bool) or not isinstance(version, int | float | str):
        check.error("version", f"must be a number (got {_show(version)})")
    else:
        try:
            number = float(version)
        except ValueError:
            number = math.nan
        if number not in SUPPORTED_VERSIONS:
            check.error("version", f"unsupported recipe version {_show(version)}; "
                        f"this server reads version {RECIPE_VERSION}")

    recipe = Recipe(base_dir=base_dir)
    recipe.extra = {k: v for k, v in data.items() if k not in _RECIPE_KEYS}
    recipe.name = check.string(data, "name", "")
    recipe.blender_bin = check.string(data, "blender_bin", "")
    recipe.settings = _parse_settings(check, check.obj(data, "settings", ""))
    recipe.hooks = check.hooks(data, "hooks", "", BATCH_HOOK_PHASES)
    power = check.obj(data, "poweroff", "")
    recipe.poweroff = PowerOff(enabled=check.boolean(power, "enabled", "poweroff", False),
                               action=check.choice(power, "action", "poweroff", "DISABLED",
                                                   POWER_ACTIONS))
    recipe.notifications = _parse_notifications(check, check.obj(data, "notifications", ""))

    jobs = data.get("jobs")
    if jobs is None:
        check.error("jobs", "is required (a list of render jobs)")
    elif not isinstance(jobs, list):
        check.error("jobs", f"must be a list of jobs (got {_kind(jobs)})")
    elif len(jobs) > MAX_JOBS:
        check.error("jobs", f"at most {MAX_JOBS} jobs (got {len(jobs)})")
    else:
        for index, raw in enumerate(jobs):
            path = f"jobs[{index}]"
            if not isinstance(raw, Mapping):
                check.error(path, f"must be an object (got {_kind(raw)})")
                continue
            recipe.jobs.append(_parse_job(check, raw, index, path))

    if check.errors:
        raise RecipeError(check.errors)
    return recipe


def _parse_settings(check: _Checker, data: Mapping[str, Any]) -> Settings:
    settings = Settings(extra={k: v for k, v in data.items() if k not in _SETTINGS_KEYS})
    rss = check.obj(data, "rss", "settings")
    settings.rss = RssSettings(enabled=check.boolean(rss, "enabled", "settings.rss", False),
                               path=check.string(rss, "path", "settings.rss"))
    if settings.rss.enabled and not settings.rss.path:
        check.error("settings.rss.path", "is required when the RSS feed is enabled")
    pct = check.obj(data, "global_percentage", "settings")
    settings.global_percentage = Toggle(
        check.boolean(pct, "enabled", "settings.global_percentage", False),
        check.integer(pct, "value", "settings.global_percentage", 100, minimum=1, maximum=10_000))
    size = check.obj(data, "global_size", "settings")
    settings.global_size = Toggle(
        check.boolean(size, "enabled", "settings.global_size", False),
        check.size(size, "value", "settings.global_size") or (1920, 1080))
    settings.write_log = check.boolean(data, "write_log", "settings", False)
    settings.ignore_border = check.boolean(data, "ignore_border", "settings", False)
    return settings


def _parse_notifications(check: _Checker, data: Mapping[str, Any]) -> Notifications:
    sound = check.obj(data, "sound", "notifications")
    mail = check.obj(data, "mail", "notifications")
    result = Notifications(
        desktop=check.boolean(data, "desktop", "notifications", False),
        desktop_job_failures=check.boolean(data, "desktop_job_failures", "notifications", False),
        sound=SoundSettings(
            enabled=check.boolean(sound, "enabled", "notifications.sound", False),
            file=check.string(sound, "file", "notifications.sound"),
            volume=check.integer(sound, "volume", "notifications.sound", 10, minimum=0, maximum=100)),
        mail=MailSettings(
            enabled=check.boolean(mail, "enabled", "notifications.mail", False),
            user=check.string(mail, "user", "notifications.mail"),
            password=check.string(mail, "pass", "notifications.mail"),
            ssl=check.boolean(mail, "ssl", "notifications.mail", True),
            to=check.string(mail, "to", "notifications.mail"),
            server=check.string(mail, "server", "notifications.mail")),
    )
    if result.sound.enabled and not result.sound.file:
        check.error("notifications.sound.file", "is required when the sound is enabled")
    if result.mail.enabled:
        for key, value in (("to", result.mail.to), ("server", result.mail.server)):
            if not value:
                check.error(f"notifications.mail.{key}", "is required when mail is enabled")
        if result.mail.to and "@" not in result.mail.to:
            check.error("notifications.mail.to", f"must be a mail address (got {_show(result.mail.to)})")
        _check_mail_server(check, result.mail.server)
    return result


def _check_mail_server(check: _Checker, server: str) -> None:
    if not server or ":" not in server:
        return
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        check.error("notifications.mail.server",
                    f"must be 'host' or 'host:port' with a port 1-65535 (got {_show(server)})")


def _parse_job(check: _Checker, data: Mapping[str, Any], index: int, path: str) -> Job:
    job = Job(id=index, extra={k: v for k, v in data.items() if k not in _JOB_KEYS})
    given_id = data.get("id", index)
    if given_id != index or isinstance(given_id, bool):
        check.error(f"{path}.id", f"must be the job's index in the list, {index} (got {_show(given_id)})")
    job.name = check.string(data, "name", path)
    job.enabled = check.boolean(data, "enabled", path, True)
    job.output = check.string(data, "output", path)
    job.external = check.boolean(data, "external", path, False)
    job.layer = check.string(data, "layer", path)
    job.blendfile = check.string(data, "blendfile", path)
    job.filename = check.string(data, "filename", path)
    job.blend_file = check.string(data, "blend_file", path)
    job.animated = check.boolean(data, "animated", path, False)
    job.engine = check.string(data, "engine", path)
    job.threads = check.integer(data, "threads", path, 0, minimum=0, maximum=1024)
    job.hooks = check.hooks(data, "hooks", path, JOB_HOOK_PHASES)
    job.size = check.size(data, "size", path)
    job.scene = check.string(data, "scene", path)
    job.camera = check.string(data, "camera", path)
    job.world = check.string(data, "world", path)
    job.frame_still = check.integer(data, "frame_still", path, 1, minimum=-_FRAME_LIMIT, maximum=_FRAME_LIMIT)
    job.frame_start = check.integer(data, "frame_start", path, 1, minimum=-_FRAME_LIMIT, maximum=_FRAME_LIMIT)
    job.frame_end = check.integer(data, "frame_end", path, job.frame_start,
                                  minimum=-_FRAME_LIMIT, maximum=_FRAME_LIMIT)
    if job.frame_end < job.frame_start:
        check.error(f"{path}.frame_end",
                    f"must be >= frame_start (got {job.frame_end} < {job.frame_start})")
    fmt = check.string(data, "format", path)
    if fmt and fmt.upper() not in IMAGE_FORMATS:
        check.error(f"{path}.format", f"unknown image format {_show(fmt)} "
                    f"(expected one of {', '.join(IMAGE_FORMATS)})")
    job.format = fmt.upper()
    if job.engine and not _is_identifier(job.engine):
        check.error(f"{path}.engine", f"must be a render engine id like CYCLES (got {_show(job.engine)})")

    source_key = "filename" if job.external else "blend_file"
    if not job.source_file and not data.get(source_key):  # (a wrong type is reported already)
        why = "external is true" if job.external else "external is false"
        check.error(f"{path}.{source_key}", f"is required ({why}): the .blend file to render")

    section = check.obj(data, "section", path)
    spath = f"{path}.section"
    job.section = Section(
        enabled=check.boolean(section, "enabled", spath, False),
        x=check.number(section, "x", spath, 0.0, minimum=0, maximum=1),
        y=check.number(section, "y", spath, 0.0, minimum=0, maximum=1),
        width=check.number(section, "width", spath, 1.0, minimum=0, maximum=1),
        height=check.number(section, "height", spath, 1.0, minimum=0, maximum=1))
    if job.section.enabled:
        if job.section.width <= 0 or job.section.height <= 0:
            check.error(spath, "width and height must be > 0 when the section is enabled")
        if job.section.x + job.section.width > 1.0 + 1e-9:
            check.error(spath, f"x + width must be <= 1 (got {job.section.x + job.section.width:g})")
        if job.section.y + job.section.height > 1.0 + 1e-9:
            check.error(spath, f"y + height must be <= 1 (got {job.section.y + job.section.height:g})")

    cycles = check.obj(data, "cycles", path)
    cpath = f"{path}.cycles"
    device = check.string(cycles, "device", cpath, "DEFAULT").upper()
    if not _is_cycles_device(device):
        check.error(f"{cpath}.device", f"must be one of {', '.join(CYCLES_DEVICES)} "
                    f"(a GPU type may add '+CPU') (got {_show(device)})")
        device = "DEFAULT"
    job.cycles = CyclesSettings(
        samples=check.integer(cycles, "samples", cpath, 0, minimum=0, maximum=16_777_216),
        device=device)

    overrides = data.get("custom_overrides")
    if overrides is not None and not isinstance(overrides, list):
        check.error(f"{path}.custom_overrides", f"must be a list (got {_kind(overrides)})")
    for oindex, raw in enumerate(overrides or []):
        opath = f"{path}.custom_overrides[{oindex}]"
        override = _parse_override(check, raw, opath)
        if override is not None:
            job.custom_overrides.append(override)
    return job


def _parse_override(check: _Checker, raw: Any, path: str) -> CustomOverride | None:
    if not isinstance(raw, Mapping):
        check.error(path, f"must be an object with 'path' and 'value' (got {_kind(raw)})")
        return None
    data_path = check.string(raw, "path", path, required=True)
    enabled = check.boolean(raw, "enabled", path, True)
    if "value" not in raw:
        check.error(f"{path}.value", "is required")
        return None
    value = raw["value"]
    if not _is_plain_value(value):
        check.error(f"{path}.value", "must be a number, string, boolean or a list of numbers")
        return None
    if data_path:
        problem = data_path_problem(data_path)
        if problem:
            check.error(f"{path}.path", problem)
            return None
    return CustomOverride(path=data_path, value=value, enabled=enabled) if data_path else None


def _is_identifier(text: str) -> bool:
    return text.replace("_", "a").isalnum() and text.isascii()


def _is_cycles_device(device: str) -> bool:
    base, plus, extra = device.partition("+")
    if plus:
        return base in CYCLES_DEVICES[2:] and extra == "CPU"
    return base in CYCLES_DEVICES


def _is_plain_value(value: Any) -> bool:
    if isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return 0 < len(value) <= 16 and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    return False


def data_path_problem(data_path: str) -> str | None:
    """Why ``data_path`` is not a plain attribute path, or None when it is.

    Accepted: dotted identifiers with string or integer subscripts, e.g.
    ``render.resolution_x``, ``objects["Cube"].hide_render``, ``view_layers[0].use``.
    Anything else (calls, operators, expressions) is refused: recipe text is never executed.
    """
    return None if split_data_path(data_path) is not None else (
        f"not a plain attribute path (got {_show(data_path)}); "
        'use names and subscripts only, e.g. render.fps or objects["Cube"].hide_render')


DataPathStep = tuple[str, str | int]  # ("attr", name) | ("key", "Cube") | ("index", 0)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SUBSCRIPT = re.compile(r"""\[(?:"([^"\\]*)"|'([^'\\]*)'|(-?\d{1,9}))\]""")


def split_data_path(data_path: str) -> list[DataPathStep] | None:
    """Parse ``a.b["c"][0]`` into ``[("attr", "a"), ("attr", "b"), ("key", "c"), ("index", 0)]``;
    None when it is anything but names and literal subscripts (no calls, no dunders)."""
    if not 0 < len(data_path) <= 512:
        return None
    steps: list[DataPathStep] = []
    pos = 0
    while pos < len(data_path):
        if not steps or data_path[pos] == ".":
            name = _NAME.match(data_path, pos + (1 if steps else 0))
            if name is None or name.group().startswith("__"):
                return None
            steps.append(("attr", name.group()))
            pos = name.end()
            continue
        subscript = _SUBSCRIPT.match(data_path, pos)
        if subscript is None:
            return None
        double, single, number = subscript.groups()
        if number is not None:
            steps.append(("index", int(number)))
        else:
            steps.append(("key", double if double is not None else single))
        pos = subscript.end()
    return steps
