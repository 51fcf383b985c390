"""Scene properties <-> recipe: what the add-on sends to the batch engine, and what it imports.

The conversion reads and writes the PropertyGroups of ``props`` but imports no ``bpy`` itself:
path resolution (Blender's ``//`` prefix) comes in as a function, so the rules here are plain
Python. ``build_recipe`` always goes through the engine's ``parse_recipe``: a recipe the add-on
makes is validated exactly like one that arrives over HTTP.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..batch.recipe import (
    CYCLES_DEVICES,
    IMAGE_FORMATS,
    MOVIE_FORMAT_NAMES,
    POWER_ACTIONS,
    RECIPE_VERSION,
    CustomOverride,
    EncodeSettings,
    Hook,
    Job,
    Recipe,
    Settings,
    parse_recipe,
    recipe_base_dir,
)
from ..batch.recipe.crosscheck import MOVIE_WRITERS
from ..batch.recipe.model import WEBHOOK_EVENTS, WEBHOOK_PRESETS
from ..batch.recipe.weburl import REDACTED_URL
from ..batch.schedule import time_of_day
from .engine_menu import ENGINE_FROM_FILE, ENGINE_OTHER, KNOWN_ENGINES, store_engine

if TYPE_CHECKING:
    from .props import RenderPlusBatchOptions, RenderPlusHook, RenderPlusJob, RenderPlusSettings

FORMAT_FROM_FILE = "FILE"
# props_batch's session choices (it imports bpy) as the recipe's session_reuse; a test keeps them equal.
SESSION_REUSE = {"AUTO": None, "PER_FILE": True, "PER_JOB": False}
UNTITLED = "untitled.blend"
DEFAULT_SETTINGS = Settings()  # the engine's defaults, which a recipe need not repeat

PathResolver = Callable[[str], str]
# The format a "From File" job writes: its scene's (``image_settings.file_format``), or "" when
# only Blender can tell (an external file). The props import bpy, this module does not.
FormatLookup = Callable[["RenderPlusJob"], str]


def no_file_format(job: RenderPlusJob) -> str:
    """The lookup for callers that cannot read the scenes: every "From File" format unknown."""
    return ""


def recipe_dict(settings: RenderPlusSettings, *, blend_path: str, copy_path: str,
                blender_bin: str, mail_password: str, abspath: PathResolver,
                file_format: FormatLookup = no_file_format, webhook_url: str = "") -> dict[str, Any]:
    """The recipe for a scene's jobs, as JSON-ready data (not validated yet).

    ``blend_path`` is the user's file ("" when unsaved), ``copy_path`` the saved copy that jobs
    without an external file render, ``abspath`` resolves Blender's ``//`` relative paths
    against the user's file (the copy lives elsewhere, so no ``//`` may reach the recipe);
    ``file_format`` tells whether a "From File" job writes a movie (then it gets no ``encode``);
    ``mail_password`` and ``webhook_url`` come from the preferences (secrets stay out of the .blend).
    """
    data: dict[str, Any] = {
        "name": blend_path or UNTITLED,
        "version": RECIPE_VERSION,
        "settings": {
            "rss": {"enabled": settings.rss_enabled, "path": _path(settings.rss_path, abspath)},
            "global_percentage": {"enabled": settings.use_global_percentage,
                                  "value": settings.global_percentage},
            "global_size": {"enabled": settings.use_global_size, "value": list(settings.global_size)},
            "write_log": settings.write_log,
            "ignore_border": settings.ignore_border,
        },
        "blender_bin": blender_bin,
        "hooks": {"PRE_BATCH": _hooks(settings.pre_batch_hooks),
                  "POST_BATCH": _hooks(settings.post_batch_hooks)},
        "poweroff": {"enabled": settings.poweroff_enabled, "action": settings.poweroff_action},
        "notifications": {
            "desktop": settings.notify_desktop,
            "desktop_job_failures": settings.notify_desktop_job_failures,
            "sound": {"enabled": settings.sound_enabled,
                      "file": _path(settings.sound_file, abspath),
                      "volume": settings.sound_volume},
            "mail": {"enabled": settings.mail_enabled, "user": settings.mail_user,
                     "pass": mail_password, "ssl": settings.mail_ssl, "to": settings.mail_to,
                     "server": settings.mail_server},
            "webhook": {"enabled": settings.webhook_enabled, "url": webhook_url,
                        "preset": settings.webhook_preset,
                        "events": [e for e in WEBHOOK_EVENTS if getattr(settings, f"webhook_{e}")]},
        },
        "jobs": [job_dict(job, index, blend_path=blend_path, copy_path=copy_path, abspath=abspath,
                          file_format=file_format(job) if job.format == FORMAT_FROM_FILE else "")
                 for index, job in enumerate(settings.jobs)],
    }
    data["settings"].update(batch_options_dict(settings.batch_options))
    if settings.use_window:
        data["settings"]["window"] = {"start": settings.window_start.strip(),
                                      "end": settings.window_end.strip()}
    if settings.use_start_at:
        data["start_at"] = settings.start_at.strip()
    return data


def batch_options_dict(options: RenderPlusBatchOptions) -> dict[str, Any]:
    """The recipe's ``skip_existing``, ``retries``, ``parallel`` and ``session_reuse``: only those
    that differ from the engine's defaults, so a batch left at them sends the recipe it always did."""
    data: dict[str, Any] = {}
    if options.skip_existing:
        data["skip_existing"] = True
    if options.retries != DEFAULT_SETTINGS.retries:
        data["retries"] = options.retries
    parallel: int | str = "auto" if options.parallel_auto else options.parallel
    if parallel != DEFAULT_SETTINGS.parallel:
        data["parallel"] = parallel
    reuse = SESSION_REUSE.get(options.session_reuse)
    if reuse is not None:
        data["session_reuse"] = reuse
    return data


def job_dict(job: RenderPlusJob, index: int, *, blend_path: str, copy_path: str,
             abspath: PathResolver, file_format: str = "") -> dict[str, Any]:
    """One job's recipe entry: ``filename`` when external, else ``blend_file`` (docs/api.md,
    Which file a job renders); ``encode`` only when its Movie is on and can be made
    (``file_format``: what a "From File" job writes, "" when unknown)."""
    external_file = _path(job.filepath, abspath) if job.external else ""
    source = external_file if job.external else (blend_path or UNTITLED)
    entry = {
        "enabled": job.enabled,
        "id": index,
        "name": job.name,
        "output": _path(job.output, abspath),
        "external": job.external,
        "layer": job.layer,
        "blendfile": os.path.basename(source),
        "filename": external_file if job.external else blend_path,
        "blend_file": copy_path,
        "animated": job.mode == "ANIMATION",
        "engine": engine_id(job.engine, job.engine_other),
        "threads": job.threads,
        "hooks": {"PRE_JOB": _hooks(job.pre_job_hooks), "POST_JOB": _hooks(job.post_job_hooks)},
        "size": list(job.size) if job.use_size else None,
        "scene": job.scene,
        "camera": job.camera,
        "world": job.world,
        "frame_still": job.frame_still,
        "frame_start": job.frame_start,
        "frame_end": job.frame_end,
        "format": "" if job.format == FORMAT_FROM_FILE else job.format,
        "section": {"enabled": job.use_section, "x": job.section_x, "y": job.section_y,
                    "width": job.section_width, "height": job.section_height},
        "cycles": {"samples": job.cycles_samples, "device": job.cycles_device},
        "custom_overrides": [{"enabled": o.enabled, "path": o.path.strip(), "value": value_from_text(o.value)}
                             for o in job.overrides if o.path.strip()],
    }
    if job.use_encode and not encode_blocker(job, file_format):
        entry["encode"] = encode_dict(job, abspath)
    entry["after"] = after_ids(job.after)
    return entry


def after_ids(text: str) -> list[int | str]:
    """A job's "After Jobs" field as the recipe's ``after``: job numbers (a job's place in the
    list, from 0) separated by commas or spaces. Anything else is kept as typed, for the
    validator to name with its path (``jobs[1].after[0]: must be a job id ...``)."""
    return [int(token) if token.isascii() and token.isdigit() else token
            for token in text.replace(",", " ").split()]


def after_text(ids: Iterable[int | str]) -> str:
    """The recipe's ``after`` as the "After Jobs" field shows it: ``0, 2``."""
    return ", ".join(str(job_id) for job_id in ids)


def renumbered_after(text: str, new_number: Callable[[int], int | None]) -> str:
    """An "After Jobs" field once the list changed (a job moved, removed or copied): each number
    as ``new_number`` maps it, None for a job that is gone; what is not a number stays."""
    kept: list[int | str] = []
    for token in after_ids(text):
        if isinstance(token, int):
            moved = new_number(token)
            if moved is None:
                continue
            token = moved
        kept.append(token)
    return after_text(kept)


def encode_dict(job: RenderPlusJob, abspath: PathResolver) -> dict[str, Any]:
    """The job's ``encode`` key: fps 0 means the scene's (null), an empty output "beside the
    frames"; a typed folder keeps its trailing separator (the movie gets its default name in it)."""
    output = job.encode_output.strip()
    resolved = abspath(output) if output else ""
    if resolved and output.endswith(("/", "\\")) and not resolved.endswith(("/", os.sep)):
        resolved += os.sep
    fps = round(job.encode_fps, 3)  # a float property holds 23.976 as 23.97599983...
    return {"format": job.encode_format, "fps": fps if fps > 0 else None,
            "output": resolved, "audio": job.encode_audio}


def encode_blocker(job: RenderPlusJob, file_format: str = "") -> str:
    """Why the job cannot have a movie made from its frames ("" when it can): the recipe
    validator's two rules, said for the panel, where the Movie box is greyed with this line.

    ``file_format`` is what a "From File" job writes (its scene's format, "" when unknown).
    """
    if job.mode != "ANIMATION":
        return "A movie needs an animation: this job renders a still"
    written = job.format if job.format != FORMAT_FROM_FILE else file_format
    if written.upper() in MOVIE_WRITERS:
        where = "the scene's output" if job.format == FORMAT_FROM_FILE else "its format"
        return (f"The job writes a movie already ({where} is {written}): choose an image "
                "format such as PNG or OpenEXR")
    return ""


def build_recipe(settings: RenderPlusSettings, *, blend_path: str, copy_path: str,
                 blender_bin: str, mail_password: str, abspath: PathResolver,
                 file_format: FormatLookup = no_file_format, webhook_url: str = "") -> Recipe:
    """The validated recipe for a scene's jobs; raises ``RecipeError`` listing every problem."""
    data = recipe_dict(settings, blend_path=blend_path, copy_path=copy_path, blender_bin=blender_bin,
                       mail_password=mail_password, abspath=abspath, file_format=file_format,
                       webhook_url=webhook_url)
    return parse_recipe(data, base_dir=os.path.dirname(blend_path) or None)


def engine_id(choice: str, other: str) -> str:
    """The recipe's engine id for the props' (choice, typed id) pair; "" keeps the file's."""
    if choice == ENGINE_FROM_FILE:
        return ""
    if choice == ENGINE_OTHER:
        return other.strip()
    return choice


def engine_choice(engine: str) -> tuple[str, str]:
    """The props' (choice, typed id) pair for a recipe engine id."""
    if not engine:
        return ENGINE_FROM_FILE, ""
    if engine in KNOWN_ENGINES:
        return engine, ""
    return ENGINE_OTHER, engine


def value_from_text(text: str) -> Any:
    """An override's typed value: ``24`` -> 24, ``true`` -> True, ``[1, 2]`` -> [1, 2], else text.

    JSON that is not a plain override value (``null``, objects) stays text; so does a quoted
    string (``"24"`` -> the text 24), which is how to give a number-looking text.
    """
    stripped = text.strip()
    try:
        value = json.loads(stripped)
    except ValueError:
        return text
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else text
    if isinstance(value, list) and value and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return value
    return text


def text_from_value(value: Any) -> str:
    """The inverse of ``value_from_text``: the text that reads back as ``value``."""
    if isinstance(value, str):
        return value if value_from_text(value) == value else json.dumps(value)
    return json.dumps(value)


# --------------------------------------------------------------------------------------------
# Import: recipe -> properties


def apply_recipe(recipe: Recipe, settings: RenderPlusSettings, *, replace: bool = True,
                 now: float | None = None) -> list[str]:
    """Fill a scene's settings and jobs from ``recipe``; return notes for the user.

    Jobs that render the batch's own file become jobs of *this* file. The mail password is
    not imported (it belongs in the preferences). ``now``: the time an epoch ``start_at`` is
    compared with (the panel takes times of day only).
    """
    notes = apply_schedule(recipe, settings, time.time() if now is None else now)
    s = recipe.settings
    settings.rss_enabled, settings.rss_path = s.rss.enabled, s.rss.path
    settings.use_global_percentage = s.global_percentage.enabled
    settings.global_percentage = int(s.global_percentage.value or 100)
    settings.use_global_size = s.global_size.enabled
    settings.global_size = tuple(s.global_size.value or (1920, 1080))
    settings.write_log, settings.ignore_border = s.write_log, s.ignore_border
    apply_batch_options(s, settings.batch_options)
    _set_hooks(settings.pre_batch_hooks, recipe.hooks.get("PRE_BATCH", []))
    _set_hooks(settings.post_batch_hooks, recipe.hooks.get("POST_BATCH", []))
    settings.poweroff_enabled = recipe.poweroff.enabled
    action = recipe.poweroff.action
    settings.poweroff_action = action if action in POWER_ACTIONS else "DISABLED"
    n = recipe.notifications
    settings.notify_desktop, settings.notify_desktop_job_failures = n.desktop, n.desktop_job_failures
    settings.sound_enabled, settings.sound_file, settings.sound_volume = (
        n.sound.enabled, n.sound.file, n.sound.volume)
    settings.mail_enabled, settings.mail_user, settings.mail_ssl = n.mail.enabled, n.mail.user, n.mail.ssl
    settings.mail_to, settings.mail_server = n.mail.to, n.mail.server
    if n.mail.password and n.mail.password != "***":
        notes.append("The recipe's mail password was not imported: set it in the add-on preferences")
    settings.webhook_enabled = n.webhook.enabled
    settings.webhook_preset = n.webhook.preset if n.webhook.preset in WEBHOOK_PRESETS else "json"
    for event in WEBHOOK_EVENTS:
        setattr(settings, f"webhook_{event}", event in n.webhook.events)
    if n.webhook.url and n.webhook.url != REDACTED_URL:
        notes.append("The recipe's webhook URL was not imported: set it in the add-on preferences")

    if replace:
        settings.jobs.clear()
    for job in recipe.jobs:
        props = settings.jobs.add()
        props.uid = settings.next_uid
        settings.next_uid += 1
        apply_job(job, props)
    settings.active_job_index = max(0, len(settings.jobs) - 1) if not replace else 0
    return notes


def apply_batch_options(s: Settings, options: RenderPlusBatchOptions) -> None:
    """A recipe's skip, retries, parallel and session settings into the panel's fields."""
    options.skip_existing, options.retries = s.skip_existing, s.retries
    options.parallel_auto = s.parallel == "auto"
    if isinstance(s.parallel, int):
        options.parallel = s.parallel
    options.session_reuse = next(key for key, value in SESSION_REUSE.items() if value == s.session_reuse)


def apply_schedule(recipe: Recipe, settings: RenderPlusSettings, now: float) -> list[str]:
    """The recipe's window and start time into the panel's fields; notes for a start time
    given as a moment (epoch seconds), which the panel keeps as its time of day."""
    window = recipe.settings.window
    settings.use_window = window is not None
    if window is not None:
        settings.window_start, settings.window_end = (time_of_day(window.start),
                                                       time_of_day(window.end))
    start_at = recipe.start_at
    settings.use_start_at = start_at is not None
    if isinstance(start_at, str):
        settings.start_at = start_at
        return []
    if start_at is None:
        return []
    moment = time.strftime("%Y-%m-%d %H:%M", time.localtime(start_at))
    if start_at <= now:
        settings.use_start_at = False
        return [f"The recipe's start time {moment} has passed: imported without one"]
    settings.start_at = time.strftime("%H:%M", time.localtime(start_at))
    return [f"The recipe starts at {moment}: imported as the next {settings.start_at}"]


def apply_job(job: Job, props: RenderPlusJob) -> None:
    """Fill one job's properties from a recipe job."""
    props.name = job.name
    props.enabled = job.enabled
    props.external = job.external
    props.filepath = job.filename if job.external else ""
    props.scene, props.camera, props.world, props.layer = job.scene, job.camera, job.world, job.layer
    props.mode = "ANIMATION" if job.animated else "STILL"
    props.frame_still, props.frame_start, props.frame_end = job.frame_still, job.frame_start, job.frame_end
    choice, props.engine_other = engine_choice(job.engine)
    store_engine(props, choice)  # kept even when the rendering Blender lacks it
    props.threads = job.threads
    props.use_size = job.size is not None
    if job.size is not None:
        props.size = job.size
    props.output = job.output
    props.format = job.format if job.format in IMAGE_FORMATS else FORMAT_FROM_FILE
    props.use_section = job.section.enabled
    props.section_x, props.section_y = job.section.x, job.section.y
    props.section_width, props.section_height = job.section.width, job.section.height
    props.cycles_samples = job.cycles.samples
    props.cycles_device = job.cycles.device if _known_device(job.cycles.device) else "DEFAULT"
    _set_overrides(props, job.custom_overrides)
    _set_hooks(props.pre_job_hooks, job.hooks.get("PRE_JOB", []))
    _set_hooks(props.post_job_hooks, job.hooks.get("POST_JOB", []))
    apply_encode(job.encode, props)
    props.after = after_text(job.after)


def apply_encode(encode: EncodeSettings | None, props: RenderPlusJob) -> None:
    """A recipe job's ``encode`` into the Movie box (off when absent; its values kept then)."""
    props.use_encode = encode is not None
    if encode is None:
        return
    props.encode_format = encode.format if encode.format in MOVIE_FORMAT_NAMES else "h264"
    props.encode_fps = encode.fps or 0.0
    props.encode_output = encode.output
    props.encode_audio = encode.audio


# --------------------------------------------------------------------------------------------
# Helpers


def _path(path: str, abspath: PathResolver) -> str:
    path = path.strip()
    return abspath(path) if path else ""


def _hooks(items: Iterable[RenderPlusHook]) -> list[dict[str, Any]]:
    return [{"enabled": h.enabled, "cmd": h.cmd} for h in items if h.cmd.strip()]


def _set_hooks(collection: Any, hooks: Iterable[Hook]) -> None:
    collection.clear()
    for hook in hooks:
        item = collection.add()
        item.enabled, item.cmd = hook.enabled, hook.cmd


def _set_overrides(props: RenderPlusJob, overrides: Iterable[CustomOverride]) -> None:
    props.overrides.clear()
    for override in overrides:
        item = props.overrides.add()
        item.enabled, item.path, item.value = override.enabled, override.path, text_from_value(override.value)


def _known_device(device: str) -> bool:
    base, plus, extra = device.partition("+")
    return base in CYCLES_DEVICES and (not plus or (extra == "CPU" and base in CYCLES_DEVICES[2:]))


def describe_recipe_error(errors: Iterable[Any], limit: int = 5) -> str:
    """The first few validation problems on one line each, for an operator report."""
    lines = [str(e) for e in errors]
    more = len(lines) - limit
    text = "\n".join(lines[:limit])
    return text + (f"\n... and {more} more" if more > 0 else "")


def load_recipe_file(path: str) -> Recipe:
    """Read and validate a recipe file, its relative paths against its folder as the CLI reads
    them (``recipe_base_dir``); ``RecipeError`` on bad content, ``OSError`` on I/O."""
    with open(path, "rb") as handle:
        data = handle.read()
    return parse_recipe(data, base_dir=recipe_base_dir(path))


def dump_recipe(recipe: Recipe, *, include_password: bool = False) -> str:
    """The recipe as JSON text; the mail password and the webhook URL are left out unless asked
    for (the URL as ``"***"``, as a stored recipe keeps it: it says one was set)."""
    data = recipe.to_dict()  # fresh dicts: safe to edit
    if not include_password:
        data["notifications"]["mail"]["pass"] = ""
        webhook = data["notifications"]["webhook"]
        webhook["url"] = REDACTED_URL if webhook["url"] else ""
    return json.dumps(data, indent=2) + "\n"
