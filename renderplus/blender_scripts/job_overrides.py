"""Runs inside each job's Blender, before it renders (``--python``; see batch/command.py).

It reads the job's settings as data from the JSON file named after ``--renderplus-job``
(nothing from a recipe is ever executed: data paths are walked step by step), applies them,
fails the job with a message naming what is missing (Blender's own ``-S`` would silently render
the active scene), prints Render+'s marker lines (batch/markers.py), ends the job if Render+
dies, and stops after the frame it wrote once its stop file exists (a pause; docs/blender.md,
Pausing after the frame). It runs on Blender 2.80 to 5.x: standard library and bpy only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from typing import Any, NoReturn

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the scripts beside this one
import file_outputs
import override_paths
import previews

PREFIX = "RENDERPLUS> "  # markers.MARKER_PREFIX (a test keeps them equal)
EXIT_CODE = 17  # markers.OVERRIDE_EXIT_CODE
PAUSED_EXIT_CODE = 75  # markers.PAUSED_EXIT_CODE
STOP_FILE_VAR = "RENDERPLUS_STOP_FILE"  # pause.STOP_FILE_VAR
CONFIG_FLAG = "--renderplus-job"
PARENT_CHECK_SECONDS = 1.0


def emit(event: str, **fields: Any) -> None:
    """One marker line, flushed at once (Render+ reads stdout as it comes)."""
    fields["event"] = event
    sys.stdout.write(PREFIX + json.dumps(fields) + "\n")
    sys.stdout.flush()


def fail(message: str) -> NoReturn:
    emit("error", message=message)
    raise SystemExit(EXIT_CODE)


def names(collection: Any) -> str:
    listed = ", ".join(repr(item.name) for item in list(collection)[:20])
    return listed or "none"


def load_config() -> dict[str, Any]:
    """The job's settings: the JSON file named after ``--renderplus-job`` (after ``--``)."""
    args = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    try:
        path = args[args.index(CONFIG_FLAG) + 1]
    except (ValueError, IndexError):
        fail(f"No job settings: expected '-- {CONFIG_FLAG} FILE.json' on the command line")
    try:
        with open(path, encoding="utf-8") as handle:
            config: dict[str, Any] = json.load(handle)
    except (OSError, ValueError) as exc:
        fail(f"Cannot read the job settings {path}: {exc}")
    return config


def step_into(target: Any, kind: str, value: Any) -> Any:
    if kind == "attr":
        return getattr(target, value)
    return target[value]  # "key" or "index"


def assign(root: Any, steps: list[list[Any]], value: Any, path: str,
           label: str = "the scene") -> None:
    """Set ``root.<steps>`` to ``value``, failing the job with a sentence naming the part of the
    path that does not exist or the kind of value the setting takes (override_paths.py: the
    add-on's check before Render says the same of the open file)."""
    try:
        target = override_paths.locate(root, label, steps)
    except override_paths.OverrideProblem as exc:
        fail(f"Override {path!r}: {exc}")
    kind, last = steps[-1]
    if isinstance(value, list):
        value = tuple(value)
    shown = f"Override {path!r} = {override_paths.shown(value)}"
    why = override_paths.value_problem(target, last, value) if kind == "attr" else None
    if why:
        fail(f"{shown}: {why}")
    try:
        if kind == "attr":
            setattr(target, last, value)
        else:
            target[last] = value
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        fail(f"{shown} could not be set; Blender said: {exc}")


def override_root(scene: Any, steps: list[list[Any]]) -> tuple[Any, list[list[Any]]]:
    """Paths start at the scene; ``data.`` (or ``bpy.data.``) starts at bpy.data, and a
    leading ``scene.`` / ``bpy.context.scene.`` is allowed (override_paths.start)."""
    root, _label, rest = override_paths.start(scene, bpy.data, steps)
    return root, rest


def apply_override(scene: Any, override: dict[str, Any]) -> None:
    """One custom override, from its root (the scene or bpy.data), or the job fails saying why."""
    root, label, steps = override_paths.start(scene, bpy.data, override["steps"])
    assign(root, steps, override["value"], override["path"], label)


def apply_names(scene: Any, config: dict[str, Any]) -> None:
    """Scene, camera, world and view layer: each must exist, or the job fails naming it."""
    if config["scene"] and scene.name != config["scene"]:
        fail(f"Scene {config['scene']!r} not found in this file (scenes: {names(bpy.data.scenes)})")
    if config["camera"]:
        camera = scene.objects.get(config["camera"])
        if camera is None or camera.type != "CAMERA":
            cameras = [o for o in scene.objects if o.type == "CAMERA"]
            fail(f"Camera {config['camera']!r} not found in scene {scene.name!r} "
                 f"(cameras: {names(cameras)})")
        scene.camera = camera
    if config["world"]:
        world = bpy.data.worlds.get(config["world"])
        if world is None:
            fail(f"World {config['world']!r} not found in this file (worlds: {names(bpy.data.worlds)})")
        scene.world = world
    if config["layer"]:
        if scene.view_layers.get(config["layer"]) is None:
            fail(f"View layer {config['layer']!r} not found in scene {scene.name!r} "
                 f"(view layers: {names(scene.view_layers)})")
        for layer in scene.view_layers:
            layer.use = layer.name == config["layer"]


def apply_render_settings(scene: Any, config: dict[str, Any]) -> None:
    """Size, percentage, border and Cycles samples/device."""
    render = scene.render
    if config["size"]:
        render.resolution_x, render.resolution_y = config["size"]
    if config["percentage"]:
        render.resolution_percentage = config["percentage"]
    if config["border"]:
        render.use_border = True
        (render.border_min_x, render.border_min_y,
         render.border_max_x, render.border_max_y) = config["border"]
    elif config["ignore_border"]:
        render.use_border = False
    if render.engine == "CYCLES":
        if config["samples"]:
            scene.cycles.samples = config["samples"]
        if config["device"] == "CPU":
            scene.cycles.device = "CPU"
        elif config["device"] not in ("", "DEFAULT"):
            scene.cycles.device = "GPU"  # the type comes from --cycles-device
            if config.get("gpu_index") is not None:
                use_only_gpu(config["device"], config["gpu_index"])


def use_only_gpu(device_type: str, index: int) -> None:
    """A parallel slot renders on exactly one GPU: enable that one device of Cycles' list
    (numbered as ``--list-gpus`` prints them), disable the others, or fail naming both."""
    preferences: Any = bpy.context.preferences  # never None in a running Blender
    prefs = preferences.addons["cycles"].preferences
    if hasattr(prefs, "refresh_devices"):
        prefs.refresh_devices()
    else:
        prefs.get_devices()
    with contextlib.suppress(TypeError):  # a backend this Blender was built without: no devices
        prefs.compute_device_type = device_type
    gpus = [d for d in prefs.devices if d.type == device_type]
    if index >= len(gpus):
        seen = ", ".join(f"{d.name} ({d.type})" for d in prefs.devices if d.type != "CPU") or "none"
        fail(f"GPU {index} ({device_type}) not found: the GPUs Blender sees are: {seen}")
    for device in prefs.devices:
        device.use = device is gpus[index]


def samples_of(scene: Any) -> int | None:
    engine = scene.render.engine
    if engine == "CYCLES":
        return int(scene.cycles.samples)
    if engine.startswith("BLENDER_EEVEE"):
        return getattr(scene.eevee, "taa_render_samples", None)
    return None


def cost_facts(scene: Any) -> dict[str, Any]:
    """What a frame's render time depends on, as the scene stands: the engine, the size
    (``[x, y, percentage]``; the border's share of the frame when one is used), samples, the
    camera, Cycles' device and the threads. Read before the job's overrides (the file's own)
    and after (what renders), for Render+'s history of render times."""
    render = scene.render
    border = None
    if render.use_border:
        border = round(max(0.0, render.border_max_x - render.border_min_x)
                       * max(0.0, render.border_max_y - render.border_min_y), 4)
    device = None
    if render.engine == "CYCLES":
        device = str(scene.cycles.device)
    return {"engine": render.engine,
            "resolution": [render.resolution_x, render.resolution_y, render.resolution_percentage],
            "border": border, "samples": samples_of(scene),
            "camera": scene.camera.name if scene.camera else None,
            "device": device, "threads": int(render.threads)}


def ready_fields(scene: Any, config: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The ready marker's fields: what renders now, and ``file``, the scene's own cost facts
    (before this job's overrides)."""
    return {**cost_facts(scene), "scene": scene.name, "frames": config["frames"],
            "blender": bpy.app.version_string,
            "layers": [layer.name for layer in scene.view_layers if layer.use], "file": own}


_frame_began: list[float | None] = [None]  # when the frame now rendering began (perf_counter)


def on_render_pre(*_: Any) -> None:
    """``render_pre``: a frame begins (each frame of an animation, each still)."""
    _frame_began[0] = time.perf_counter()


_still_path: list[str | None] = [None]  # the file a still of ``render_runs`` is written to
_stop_file: list[str | None] = [os.environ.get(STOP_FILE_VAR) or None]  # a session sets its job's


def on_write(scene: Any, *_: Any) -> None:
    """``render_write`` handler: a frame's file was written. Only cheap, safe things here:
    Blender is still rendering (making a preview in here, with new scenes and images, crashed
    Blender under parallel slots). A frame a browser cannot show carries its scene's colour
    management (``preview``), for the engine's frame reader to make its preview from."""
    path = bpy.path.abspath(_still_path[0] or scene.render.frame_path(frame=scene.frame_current))
    fields: dict[str, Any] = {"frame": scene.frame_current, "path": path}
    began = _frame_began[0]
    if began is not None:  # the frame's own render time, from its render_pre to its file
        fields["seconds"] = round(time.perf_counter() - began, 4)
        _frame_began[0] = None
    extra = file_outputs.file_output_paths(scene, scene.frame_current)
    if extra:
        fields["files"] = extra
    if previews.needs_preview(path):
        fields["preview"] = previews.scene_look(scene)
    emit("frame", **fields)
    stop_if_asked()


def stop_if_asked() -> None:
    """A pause "after the frame": once the stop file exists, end Blender here, right after the
    frame's file and its marker were written (a signal would make Blender drop the frame it
    renders, and would reach wrappers too). ``os._exit``: no handler or render loop may run on."""
    path = _stop_file[0]
    if not path or not os.path.exists(path):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    with contextlib.suppress(Exception):  # Blender's own buffered lines (C stdio) go out too
        import ctypes
        ctypes.CDLL(None).fflush(None)
    os._exit(PAUSED_EXIT_CODE)


def watch_parent(parent: int) -> None:
    """End this job if Render+ dies (even by SIGKILL): nobody owns it or reads it any more."""
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            if hasattr(os, "killpg"):
                with contextlib.suppress(OSError):
                    os.killpg(os.getpgrp(), signal.SIGTERM)  # Blender and anything it started
            os._exit(1)


def main() -> None:
    config = load_config()
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    scene = bpy.context.scene
    if scene is None:
        fail("The file has no scene to render")
    apply_names(scene, config)
    own = cost_facts(scene)
    apply_render_settings(scene, config)
    for override in config["overrides"]:
        apply_override(scene, override)
    bpy.app.handlers.render_pre.append(on_render_pre)
    bpy.app.handlers.render_write.append(on_write)
    emit("ready", **ready_fields(scene, config, own))
    if config.get("render_runs"):
        render_runs(scene, config["render_runs"])


def render_runs(scene: Any, runs: list[list[int]]) -> None:
    """Render frames Blender's command line cannot express (negative frames, several runs),
    frame by frame as stills written under the output pattern (a scene's frame range cannot
    start below 0, its current frame can)."""
    render = scene.render
    pattern = render.filepath
    try:
        for first, last, step in runs:
            for frame in range(first, last + 1, step):
                scene.frame_set(frame)
                # A still is written to the path as it stands ('#' is not replaced): give it
                # the frame's own name, which ``-a`` would have used.
                path = render.frame_path(frame=frame)
                if render.use_file_extension and path.endswith(render.file_extension):
                    path = path[:-len(render.file_extension)]
                render.filepath = path
                _still_path[0] = path + (render.file_extension if render.use_file_extension else "")
                result = bpy.ops.render.render(write_still=True, scene=scene.name)
                render.filepath, _still_path[0] = pattern, None
                if "FINISHED" not in result:
                    fail(f"Rendering frame {frame} failed")
    finally:
        render.filepath = pattern


if __name__ == "__main__":  # Blender runs --python files as __main__; session.py imports it
    main()
