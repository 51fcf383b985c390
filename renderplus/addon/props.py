# mypy: disable-error-code="valid-type"
"""Blender properties: what the user edits (saved in the .blend) and what a batch shows.

- ``Scene.renderplus`` (``RenderPlusSettings``): the job list and the batch settings, one per
  scene, saved with the file. Every field of a recipe job and of the recipe's settings has a
  property here (how the engine runs the batch: ``batch_options``, from ``props_batch``);
  ``recipe_io`` converts both ways. The mail password is *not* here: it lives in
  the add-on preferences so it never travels inside a .blend.
- ``WindowManager.renderplus_run`` (``RenderPlusRun``): the state of the current or last batch,
  written only by ``run_io`` when the bridge's pump sees the batch move. The window manager is
  neither saved nor undone, so a batch's progress never dirties the file and undo never rewinds it.

The helpers at the end (the scene's settings, the active job, a new job filled from a scene,
unique uids) are what both the operators and the panels use, so neither imports the other.

(Blender reads property definitions from class annotations, which mypy cannot type: the
``valid-type`` check is off for this file.)
"""

from __future__ import annotations

import re
from typing import Any

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    IntVectorProperty,
    PointerProperty,
    StringProperty,
)

from ..batch.recipe import CYCLES_DEVICES, IMAGE_FORMATS, POWER_ACTIONS
from ..batch.recipe.model import WEBHOOK_PRESETS
from .engine_items import job_engine_items
from .engine_menu import ENGINE_FROM_FILE, ENGINE_NUMBERS, store_number, stored_values
from .props_batch import RenderPlusBatchOptions

# Newer Blender (5.0) warns about "//" in a FILE_PATH property unless it is declared to support it;
# older versions do not know the option.
_PROPERTY_RNA: Any = bpy.types.Property.bl_rna
PATH_OPTIONS: Any = ({"PATH_SUPPORTS_BLEND_RELATIVE"}
                     if "is_path_supports_blend_relative" in _PROPERTY_RNA.properties else set())

FORMAT_FROM_FILE = "FILE"
FORMAT_ITEMS = [(FORMAT_FROM_FILE, "From File", "Write the format saved in the scene")] + [
    (fmt, fmt.replace("_", " ").title(), f"Write {fmt} files") for fmt in IMAGE_FORMATS
]

# DEFAULT, CPU, the GPU types, and each GPU type together with the CPU.
DEVICE_ITEMS = [(d, d.title() if d in ("DEFAULT", "CPU") else d, f"Render on {d}") for d in CYCLES_DEVICES]
DEVICE_ITEMS += [(f"{d}+CPU", f"{d} + CPU", f"Render on {d} and the CPU") for d in CYCLES_DEVICES[2:]]

# The recipe's encode.format names are the identifiers (recipe_io writes them as they are).
MOVIE_FORMAT_ITEMS = [
    ("h264", "H.264 MP4", "H.264 in an MP4: plays everywhere, small files"),
    ("prores", "ProRes 422 HQ", "Apple ProRes 422 HQ in a MOV: for editing and grading"),
    ("ffv1", "FFV1 (lossless)", "FFV1 in an MKV: every pixel kept, large files"),
    ("webm", "WebM (VP9)", "VP9 in a WebM: for the web"),
]

POWER_ITEMS = [(a, a.title(), f"{a.title()} when the batch ends") for a in POWER_ACTIONS]
WEBHOOK_NAMES = {"json": ("JSON", "A POST of the notice as JSON, for scripts and chat bridges"),
                 "discord": ("Discord", "A Discord channel's webhook (with the newest frame)"),
                 "slack": ("Slack", "A Slack incoming webhook (text only)"),
                 "ntfy": ("ntfy", "An ntfy topic (with the newest frame)")}
WEBHOOK_ITEMS = [(p, *WEBHOOK_NAMES[p]) for p in WEBHOOK_PRESETS]

MODE_ITEMS = [
    ("STILL", "Still", "Render one frame"),
    ("ANIMATION", "Animation", "Render a range of frames"),
]

QUICK_BATCH_ITEMS = [
    ("CAMERAS", "One Job per Camera", "A job for each camera in the scene"),
    ("SCENES", "One Job per Scene", "A job for each scene of the file, through its camera"),
    ("VIEW_LAYERS", "One Job per View Layer", "A job for each view layer of the scene"),
    ("MARKERS", "One Job per Marker", "A still job at each timeline marker (its bound camera if any)"),
]

OUTPUT_FOLDER = "//renders"  # where a new job writes, beside the .blend

HOOK_PHASES = ("PRE_BATCH", "POST_BATCH", "PRE_JOB", "POST_JOB")
HOOK_PHASE_ITEMS = [(p, p.replace("_", " ").title(), f"A shell command run {p.lower().replace('_', ' ')}")
                    for p in HOOK_PHASES]


class RenderPlusHook(bpy.types.PropertyGroup):
    """A shell command run before or after a batch or a job."""

    enabled: BoolProperty(name="Enabled", default=True)
    cmd: StringProperty(name="Command", description="Shell command")


class RenderPlusOverride(bpy.types.PropertyGroup):
    """Set a scene data path (``render.fps``) to a value for one job."""

    enabled: BoolProperty(name="Enabled", default=True)
    path: StringProperty(name="Data Path", description='Scene data path, e.g. render.fps or '
                         'objects["Cube"].hide_render')
    value: StringProperty(name="Value", description="A number, true/false, a list like [1, 2] "
                          "or text")


class RenderPlusJob(bpy.types.PropertyGroup):
    """One render job: every field of a recipe job (``name`` is the PropertyGroup's own)."""

    uid: IntProperty(name="Job Identity", description="Links the job to its state in a batch",
                     default=0)
    enabled: BoolProperty(name="Enabled", default=True,
                          description="Render this job in the batch (in the job list, the job's icon "
                                      "is its status in the last batch: click it to turn the job off or on)")
    external: BoolProperty(name="External File",
                           description="Render another .blend instead of this one")
    filepath: StringProperty(name="Blend File", description="The .blend to render", subtype="FILE_PATH",
                             options=PATH_OPTIONS)
    scene: StringProperty(name="Scene", description="Scene to render (empty: the file's active scene)")
    camera: StringProperty(name="Camera", description="Camera object (empty: the scene's camera)")
    world: StringProperty(name="World", description="World (empty: the scene's world)")
    layer: StringProperty(name="View Layer", description="Render only this view layer (empty: all)")
    mode: EnumProperty(name="Mode", items=MODE_ITEMS, default="STILL")
    frame_still: IntProperty(name="Frame", default=1, min=-1_048_574, max=1_048_574)
    frame_start: IntProperty(name="Start", default=1, min=-1_048_574, max=1_048_574)
    frame_end: IntProperty(name="End", default=250, min=-1_048_574, max=1_048_574)
    # The rendering Blender's engines (engine_items), by the numbers the former fixed list gave
    # them: files saved before keep their choice.
    engine: EnumProperty(name="Engine", items=job_engine_items, default=ENGINE_NUMBERS[ENGINE_FROM_FILE],
                         description="The render engine: those of the Blender that renders the batch")
    engine_other: StringProperty(name="Engine Id", description="A render engine's id, e.g. LUXCORE")
    threads: IntProperty(name="Threads", description="CPU threads (0: all)", default=0, min=0, max=1024)
    use_size: BoolProperty(name="Override Size", description="Render at another resolution")
    size: IntVectorProperty(name="Size", size=2, default=(1920, 1080), min=1, max=65_536)
    output: StringProperty(name="Output", description="Output path; Blender adds the frame number",
                           subtype="FILE_PATH", options=PATH_OPTIONS)
    format: EnumProperty(name="Format", items=FORMAT_ITEMS, default=FORMAT_FROM_FILE)
    use_section: BoolProperty(name="Render Section", description="Render only a part of the frame")
    section_x: FloatProperty(name="X", min=0.0, max=1.0, default=0.0, subtype="FACTOR")
    section_y: FloatProperty(name="Y", min=0.0, max=1.0, default=0.0, subtype="FACTOR")
    section_width: FloatProperty(name="Width", min=0.0, max=1.0, default=1.0, subtype="FACTOR")
    section_height: FloatProperty(name="Height", min=0.0, max=1.0, default=1.0, subtype="FACTOR")
    cycles_samples: IntProperty(name="Samples", description="Cycles samples (0: the file's)",
                                default=0, min=0, max=16_777_216)
    cycles_device: EnumProperty(name="Device", items=DEVICE_ITEMS, default="DEFAULT")
    overrides: CollectionProperty(type=RenderPlusOverride)
    active_override_index: IntProperty()
    use_encode: BoolProperty(name="Movie", description="Make a movie from the frames once every "
                             "frame is rendered and verified")
    encode_format: EnumProperty(name="Movie Format", items=MOVIE_FORMAT_ITEMS, default="h264")
    encode_fps: FloatProperty(name="Frame Rate", description="Frames per second of the movie "
                              "(0: the scene's)", default=0.0, min=0.0, max=1000.0, precision=3)
    encode_output: StringProperty(name="Movie File", description="Where the movie goes: a file, "
                                  "or a folder ending in / (empty: beside the frames, named after "
                                  "them)", subtype="FILE_PATH", options=PATH_OPTIONS)
    encode_audio: BoolProperty(name="Sound", description="The scene's sound (sequencer strips and "
                               "speakers), when it has any", default=True)
    pre_job_hooks: CollectionProperty(type=RenderPlusHook)
    post_job_hooks: CollectionProperty(type=RenderPlusHook)
    after: StringProperty(name="After Jobs", description="Jobs that must finish before this one "
                          "starts, by their number in the list from 0, e.g. 0, 2 (empty: none); "
                          "it fails if one of them fails")


class RenderPlusSettings(bpy.types.PropertyGroup):
    """A scene's job list and batch settings (everything of a recipe but the mail password)."""

    jobs: CollectionProperty(type=RenderPlusJob)
    active_job_index: IntProperty(name="Active Job", default=0)
    next_uid: IntProperty(default=1)
    use_global_percentage: BoolProperty(name="Resolution %", description="Scale every job's resolution")
    global_percentage: IntProperty(name="Percentage", default=100, min=1, max=10_000, subtype="PERCENTAGE")
    use_global_size: BoolProperty(name="Global Size", description="Render every job at one resolution")
    global_size: IntVectorProperty(name="Size", size=2, default=(1920, 1080), min=1, max=65_536)
    write_log: BoolProperty(name="Write Log", description="Write a log of the batch")
    batch_options: PointerProperty(type=RenderPlusBatchOptions)  # skip, retries, parallel, sessions
    ignore_border: BoolProperty(name="Ignore Border", description="Render full frames even when a "
                                "scene has a render border")
    rss_enabled: BoolProperty(name="RSS Feed", description="Write the batch's progress as an RSS feed")
    rss_path: StringProperty(name="Feed File", subtype="FILE_PATH", options=PATH_OPTIONS)
    pre_batch_hooks: CollectionProperty(type=RenderPlusHook)
    post_batch_hooks: CollectionProperty(type=RenderPlusHook)
    poweroff_enabled: BoolProperty(name="Power Action", description="Act on the computer when the "
                                   "batch ends")
    poweroff_action: EnumProperty(name="Action", items=POWER_ITEMS, default="DISABLED")
    notify_desktop: BoolProperty(name="Desktop", description="Desktop notification when the batch ends")
    notify_desktop_job_failures: BoolProperty(name="Failed Jobs", description="Also notify each job "
                                              "that fails")
    sound_enabled: BoolProperty(name="Sound", description="Play a sound when the batch ends")
    sound_file: StringProperty(name="Sound File", subtype="FILE_PATH", options=PATH_OPTIONS)
    sound_volume: IntProperty(name="Volume", default=10, min=0, max=100)
    mail_enabled: BoolProperty(name="Mail", description="Send a mail when the batch ends")
    mail_user: StringProperty(name="User", description="SMTP user name")
    mail_ssl: BoolProperty(name="SSL", description="Connect with SSL (port 465 by default)",
                           default=True)
    mail_to: StringProperty(name="To", description="Address that gets the mail")
    mail_server: StringProperty(name="Server", description="SMTP server: host or host:port")
    webhook_enabled: BoolProperty(name="Webhook", description="Post notices to a chat or webhook "
                                  "(its URL is kept in the add-on preferences)")
    webhook_preset: EnumProperty(name="Service", items=WEBHOOK_ITEMS, default="json")
    webhook_batch_end: BoolProperty(name="Batch Ends", default=True,
                                    description="A notice when the batch ends")
    webhook_job_failed: BoolProperty(name="Job Fails", default=True,
                                     description="A notice for each failed job, with its reason")
    webhook_paused: BoolProperty(name="Paused", default=True, description="A notice when the batch pauses")
    webhook_queue_end: BoolProperty(name="Queue Ends", default=True,
                                    description="A notice when the queue has run every batch")
    use_window: BoolProperty(name="Render Window", description="Render only between two times of "
                             "day; at the end the batch pauses after its frame and continues by "
                             "itself at the next start")
    window_start: StringProperty(name="From", default="22:00",
                                 description="When the window opens, HH:MM local time")
    window_end: StringProperty(name="Until", default="06:00", description="When the window "
                               "closes, HH:MM local time (before From: the next morning)")
    use_start_at: BoolProperty(name="Start Later", description="Render pressed now waits until a "
                               "time of day")
    start_at: StringProperty(name="Start At", default="22:00", description="HH:MM local time: "
                             "today while it is still ahead, else tomorrow")


def _progress_get(self: Any) -> float:
    """One decimal: Blender 3.x shows more digits for small values ("0.781%") otherwise."""
    return round(float(self.progress_value), 1)


def _progress_set(self: Any, value: float) -> None:
    """Progress is shown as a slider in Blender 3.x; dragging it must not change anything."""


class RenderPlusJobState(bpy.types.PropertyGroup):
    """One job of the running (or last) batch, as the pump last saw it."""

    uid: IntProperty(default=0)
    job_id: IntProperty(default=0)
    status: StringProperty(name="Status")
    progress_value: FloatProperty(default=0.0)
    progress: FloatProperty(name="Progress", min=0.0, max=100.0, subtype="PERCENTAGE", precision=1,
                            get=_progress_get, set=_progress_set)
    started: StringProperty(name="Started")
    finished: StringProperty(name="Finished")
    rendertime: FloatProperty(name="Render Time", default=-1.0)
    eta: FloatProperty(name="Time Left", default=-1.0)
    eta_runs: IntProperty(name="Similar Runs", description="Earlier similar runs the time left "
                          "rests on (-1: the job's own frames)", default=-1)
    frames_done: IntProperty(name="Frames Done")
    frames_total: IntProperty(name="Frames")
    engine_type: StringProperty(name="Engine")
    blender: StringProperty(name="Blender", description="The Blender that renders the job: its "
                            "version and path, once chosen")
    detail: StringProperty(name="Detail", description="The render's latest progress line")
    messages: StringProperty(name="Messages")
    output_count: IntProperty(name="Frames Written")
    first_output: StringProperty(name="First Frame", subtype="FILE_PATH")
    last_output: StringProperty(name="Last Frame", subtype="FILE_PATH")
    output_folder: StringProperty(name="Output Folder", subtype="DIR_PATH")
    movie_status: StringProperty(name="Movie", description="WAITING, ENCODING, DONE, FAILED or "
                                 "CANCELLED; empty: the job makes no movie")
    movie_path: StringProperty(name="Movie File", subtype="FILE_PATH")
    movie_label: StringProperty(name="Movie Format", description="The movie's format, e.g. H.264 MP4")
    movie_progress: FloatProperty(name="Movie Progress", default=0.0)
    movie_seconds: FloatProperty(name="Movie Length", default=-1.0)
    movie_message: StringProperty(name="Movie Message", description="Why the movie failed")


class RenderPlusRun(bpy.types.PropertyGroup):
    """The current or last batch (written by the pump only)."""

    status: StringProperty(name="Status", description="WAITING, RUNNING, PAUSED, FINISHED or CANCELLED")
    scene: StringProperty(name="Scene", description="The scene whose jobs the batch renders")
    batch_name: StringProperty(name="Batch")
    copy_path: StringProperty(name="Saved Copy", description="The copy of the .blend the batch renders")
    revision: IntProperty(description="The batch revision the pump copied last", default=-1)
    progress_value: FloatProperty(default=0.0)
    progress: FloatProperty(name="Progress", min=0.0, max=100.0, subtype="PERCENTAGE", precision=1,
                            get=_progress_get, set=_progress_set)
    current_job: IntProperty(name="Current Job", default=-1)
    running_jobs: StringProperty(name="Running Jobs", description="Ids of the jobs rendering now")
    order: StringProperty(name="Run Order", description="Ids of every job in run order")
    pausing: StringProperty(name="Pausing", description="now, frame or job while a pause is under way")
    started: StringProperty(name="Started")
    finished: StringProperty(name="Finished")
    rendertime: FloatProperty(name="Render Time", default=-1.0)
    eta: FloatProperty(name="Time Left", default=-1.0)
    failed: IntProperty(name="Failed Jobs")
    starts_at: StringProperty(name="Starts At", description="When a WAITING batch starts")
    continues_at: StringProperty(name="Continues At", description="When a batch its window "
                                 "paused continues")
    average_time: FloatProperty(name="Average", default=-1.0)
    fastest_index: IntProperty(default=-1)
    fastest_time: FloatProperty(name="Fastest", default=-1.0)
    slowest_index: IntProperty(default=-1)
    slowest_time: FloatProperty(name="Slowest", default=-1.0)
    poweroff: StringProperty(name="Power Action", description="A pending power action")
    messages: StringProperty(name="Messages")
    jobs: CollectionProperty(type=RenderPlusJobState)


CLASSES = (
    RenderPlusHook,
    RenderPlusOverride,
    RenderPlusJob,
    RenderPlusBatchOptions,
    RenderPlusSettings,
    RenderPlusJobState,
    RenderPlusRun,
)

_register_classes, _unregister_classes = bpy.utils.register_classes_factory(CLASSES)


def register() -> None:
    _register_classes()
    bpy.types.Scene.renderplus = PointerProperty(type=RenderPlusSettings)  # type: ignore[attr-defined]
    bpy.types.WindowManager.renderplus_run = PointerProperty(  # type: ignore[attr-defined]
        type=RenderPlusRun)


def unregister() -> None:
    del bpy.types.WindowManager.renderplus_run  # type: ignore[attr-defined]
    del bpy.types.Scene.renderplus  # type: ignore[attr-defined]
    _unregister_classes()


# The pointers above are added at run time, which type checkers cannot see: read them here.


def scene_settings(scene: bpy.types.Scene) -> RenderPlusSettings:
    """A scene's Render+ job list and batch settings."""
    settings: RenderPlusSettings = scene.renderplus  # type: ignore[attr-defined]
    return settings


def run_state(wm: bpy.types.WindowManager) -> RenderPlusRun:
    """The current or last batch's state, as the pump last copied it."""
    run: RenderPlusRun = wm.renderplus_run  # type: ignore[attr-defined]
    return run


# --------------------------------------------------------------------------------------------
# Jobs


def settings_of(context: bpy.types.Context) -> RenderPlusSettings | None:
    """The context scene's ``RenderPlusSettings`` (None without a scene)."""
    scene = context.scene
    return scene_settings(scene) if scene is not None else None


def active_job(context: bpy.types.Context) -> RenderPlusJob | None:
    """The job selected in the list, or None (no scene, empty list)."""
    settings = settings_of(context)
    if settings is None or not 0 <= settings.active_job_index < len(settings.jobs):
        return None
    job: RenderPlusJob = settings.jobs[settings.active_job_index]
    return job


def written_format(job: RenderPlusJob) -> str:
    """The format a "From File" job writes: its scene's output format (``FFMPEG`` for a movie);
    "" for an external file, which only Blender can open, or a scene that is gone."""
    if job.external:
        return ""
    own: Any = job.id_data  # the scene that holds the job list: a job without a scene renders it
    scene = bpy.data.scenes.get(job.scene) if job.scene else own
    if scene is None or not hasattr(scene, "render"):
        return ""
    return str(scene.render.image_settings.file_format)


def file_safe(text: str) -> str:
    """A name usable in a file name: letters, digits, ``._-``; other runs become ``_``."""
    return re.sub(r"[^\w.-]+", "_", text).strip("_.") or "job"


def claim_uid(settings: RenderPlusSettings) -> int:
    """A uid no job of ``settings`` has had yet."""
    uid: int = settings.next_uid
    settings.next_uid += 1
    return uid


def new_job(settings: RenderPlusSettings, name: str) -> RenderPlusJob:
    """Append a job with a fresh uid and make it the active one."""
    job: RenderPlusJob = settings.jobs.add()
    job.uid = claim_uid(settings)
    job.name = name
    settings.active_job_index = len(settings.jobs) - 1
    return job


def ensure_uids(settings: RenderPlusSettings) -> None:
    """Give every job a unique uid (jobs made by scripts or copied scenes may lack one): the
    panel finds a job's batch state by uid, so edits during a batch never mix rows up."""
    seen: set[int] = set()
    for job in settings.jobs:
        if job.uid <= 0 or job.uid in seen:
            job.uid = claim_uid(settings)
        seen.add(job.uid)
        settings.next_uid = max(settings.next_uid, job.uid + 1)


def fill_from_scene(job: RenderPlusJob, scene: bpy.types.Scene, *, camera: str, layer: str = "",
                    frame: int | None = None, animation: bool = False) -> None:
    """Point a job at ``scene`` with the scene's own frames, world and camera."""
    job.scene = scene.name
    job.camera = camera
    job.world = scene.world.name if scene.world is not None else ""
    job.layer = layer
    job.mode = "ANIMATION" if animation else "STILL"
    job.frame_still = scene.frame_current if frame is None else frame
    job.frame_start, job.frame_end = scene.frame_start, scene.frame_end
    job.output = f"{OUTPUT_FOLDER}/{file_safe(job.name)}_"


def copy_group(source: Any, target: Any) -> None:
    """Copy every property of a PropertyGroup (collections included) onto another of its type."""
    for prop in source.bl_rna.properties:
        key = prop.identifier
        if key == "rna_type" or (prop.is_readonly and prop.type != "COLLECTION"):
            continue
        if prop.type == "COLLECTION":
            items = getattr(target, key)
            items.clear()
            for item in getattr(source, key):
                copy_group(item, items.add())
        elif prop.type == "POINTER":
            copy_group(getattr(source, key), getattr(target, key))
        elif getattr(prop, "is_array", False):
            setattr(target, key, tuple(getattr(source, key)))
        else:
            try:
                setattr(target, key, getattr(source, key))
            except TypeError:  # a job's engine its menu does not offer now: copied as stored
                values = stored_values(source)
                if values is not None and values.get(key) is not None:
                    store_number(target, key, values[key])
