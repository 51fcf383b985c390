"""A job as a Blender command line, and the override script that job runs inside Blender.

Blender applies its options left to right, so ``-o``, ``-F``, ``-E``, ``-t``, ``-x`` and the
script come before the frame options (``-f 1 -o X`` would render before ``-o`` applies), and
``--cycles-device`` goes after ``--``. The argv is a list, never a shell string.

Blender's own options cannot express everything a job asks for (camera, world, view layer,
border, samples, custom overrides), and some fail silently (``-S NoSuchScene`` renders the
active scene). So every job also runs a small generated Python script, with
``--python-exit-code`` in front of it: the script applies the overrides, fails the job with a
message naming what is missing, and prints one marker line per written frame
(``markers.py``), which is how progress works for any engine and Blender version. It also
watches its parent: if Render+ itself dies (a crash, SIGKILL), the job ends its process group
instead of rendering on as an orphan nobody owns.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from .markers import MARKER_PREFIX, OVERRIDE_EXIT_CODE
from .recipe import Job, Recipe, split_data_path

MOVIE_FORMATS = ("FFMPEG", "AVIRAW", "AVIJPEG", "MPEG")


def output_pattern(recipe: Recipe, job: Job) -> str:
    """The ``-o`` value: the job's output made absolute, with ``#`` frame padding added when
    the path has none (``//`` paths stay relative to the .blend, as Blender reads them)."""
    output = job.output
    if not output:
        return ""
    if not output.startswith("//"):
        output = recipe.resolve(output)
        if job.output.endswith(("/", "\\")):
            output += "/"
    if "#" in output.rsplit("/", 1)[-1]:
        return output
    tail = output.rsplit("/", 1)[-1]
    separator = "_" if tail and tail[-1].isalnum() else ""
    return output + separator + "####"


def build_argv(recipe: Recipe, job: Job, *, blender_bin: str, script_path: str) -> list[str]:
    """The full Blender command line for ``job``."""
    argv = [blender_bin, "-b", recipe.resolve(job.source_file)]
    if job.scene:
        argv += ["-S", job.scene]
    pattern = output_pattern(recipe, job)
    if pattern:
        argv += ["-o", pattern]
    if job.format:
        argv += ["-F", job.format]
    if job.engine:
        argv += ["-E", job.engine]
    if job.threads:
        argv += ["-t", str(job.threads)]
    argv += ["-x", "1", "--python-exit-code", str(OVERRIDE_EXIT_CODE), "--python", script_path]
    if job.animated:
        argv += ["-s", str(job.frame_start), "-e", str(job.frame_end), "-a"]
    else:
        argv += ["-f", str(job.frame_still)]
    if job.cycles.device not in ("", "DEFAULT"):
        argv += ["--", "--cycles-device", job.cycles.device]
    return argv


def format_argv(argv: list[str]) -> str:
    """The command line as a user would paste it into a shell."""
    return shlex.join(argv)


def override_config(recipe: Recipe, job: Job) -> dict[str, Any]:
    """What the override script must apply, as plain data (embedded in the script as JSON)."""
    settings = recipe.settings
    size = list(job.size) if job.size else None
    if settings.global_size.enabled and settings.global_size.value:
        size = list(settings.global_size.value)
    percentage = settings.global_percentage.value if settings.global_percentage.enabled else None
    border = None
    if job.section.enabled and not settings.ignore_border:
        s = job.section
        border = [s.x, s.y, min(1.0, s.x + s.width), min(1.0, s.y + s.height)]
    overrides = []
    for override in job.custom_overrides:
        if not override.enabled:
            continue
        steps = split_data_path(override.path)
        if steps is None:  # validated already; never execute anything that slipped through
            raise ValueError(f"not a plain attribute path: {override.path!r}")
        overrides.append({"path": override.path, "steps": steps, "value": override.value})
    return {
        "job": job.id,
        "scene": job.scene,
        "camera": job.camera,
        "world": job.world,
        "layer": job.layer,
        "size": size,
        "percentage": percentage,
        "border": border,
        "ignore_border": settings.ignore_border,
        "samples": job.cycles.samples,
        "device": job.cycles.device,
        "frames": job.frames,
        "overrides": overrides,
    }


def override_script(recipe: Recipe, job: Job) -> str:
    """The Python file the job runs in Blender before rendering (see the module docstring)."""
    config = json.dumps(override_config(recipe, job))
    return (_SCRIPT_TEMPLATE
            .replace("@PREFIX@", repr(MARKER_PREFIX))
            .replace("@EXIT@", str(OVERRIDE_EXIT_CODE))
            .replace("@CONFIG@", repr(config)))


# The script runs inside Blender 2.80-5.x with Blender's own Python: standard library and bpy
# only, and nothing from the recipe is ever executed -- values are data, paths are walked
# step by step with getattr / subscripts.
_SCRIPT_TEMPLATE = '''\
"""Render+ job overrides (generated; safe to delete)."""
import json
import os
import signal
import sys
import threading
import time

import bpy

PREFIX = @PREFIX@
CONFIG = json.loads(@CONFIG@)


def emit(event, **fields):
    fields["event"] = event
    sys.stdout.write(PREFIX + json.dumps(fields) + "\\n")
    sys.stdout.flush()


def fail(message):
    emit("error", message=message)
    raise SystemExit(@EXIT@)


def names(collection):
    listed = ", ".join(repr(item.name) for item in list(collection)[:20])
    return listed or "none"


def walk(root, steps, path):
    target = root
    for step in steps:
        try:
            if isinstance(step, int):
                target = target[step]
            elif step.startswith("["):
                target = target[step[1:]]
            else:
                target = getattr(target, step)
        except (AttributeError, KeyError, IndexError, TypeError):
            fail("Override %r: %r not found" % (path, step.lstrip("[")))
    return target


def assign(root, steps, value, path):
    parent = walk(root, steps[:-1], path)
    last = steps[-1]
    if isinstance(value, list):
        value = tuple(value)
    try:
        if isinstance(last, int):
            parent[last] = value
        elif last.startswith("["):
            parent[last[1:]] = value
        else:
            if not hasattr(parent, last):
                fail("Override %r: %r not found" % (path, last))
            setattr(parent, last, value)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        fail("Override %r failed: %s" % (path, exc))


def apply(scene):
    if CONFIG["scene"] and scene.name != CONFIG["scene"]:
        fail("Scene %r not found in this file (scenes: %s)"
             % (CONFIG["scene"], names(bpy.data.scenes)))
    render = scene.render
    if CONFIG["camera"]:
        camera = scene.objects.get(CONFIG["camera"])
        if camera is None or camera.type != "CAMERA":
            cameras = [o for o in scene.objects if o.type == "CAMERA"]
            fail("Camera %r not found in scene %r (cameras: %s)"
                 % (CONFIG["camera"], scene.name, names(cameras)))
        scene.camera = camera
    if CONFIG["world"]:
        world = bpy.data.worlds.get(CONFIG["world"])
        if world is None:
            fail("World %r not found in this file (worlds: %s)"
                 % (CONFIG["world"], names(bpy.data.worlds)))
        scene.world = world
    if CONFIG["layer"]:
        if scene.view_layers.get(CONFIG["layer"]) is None:
            fail("View layer %r not found in scene %r (view layers: %s)"
                 % (CONFIG["layer"], scene.name, names(scene.view_layers)))
        for layer in scene.view_layers:
            layer.use = layer.name == CONFIG["layer"]
    if CONFIG["size"]:
        render.resolution_x, render.resolution_y = CONFIG["size"]
    if CONFIG["percentage"]:
        render.resolution_percentage = CONFIG["percentage"]
    if CONFIG["border"]:
        render.use_border = True
        (render.border_min_x, render.border_min_y,
         render.border_max_x, render.border_max_y) = CONFIG["border"]
    elif CONFIG["ignore_border"]:
        render.use_border = False
    if render.engine == "CYCLES":
        if CONFIG["samples"]:
            scene.cycles.samples = CONFIG["samples"]
        if CONFIG["device"] == "CPU":
            scene.cycles.device = "CPU"
        elif CONFIG["device"] not in ("", "DEFAULT"):
            scene.cycles.device = "GPU"
    for override in CONFIG["overrides"]:
        steps = override["steps"]
        root = scene
        if steps[0] == "bpy" and len(steps) > 2 and steps[1] in ("data", "context"):
            steps = steps[1:]
        if steps[0] == "data":
            root, steps = bpy.data, steps[1:]
        elif steps[0] == "context" and len(steps) > 2 and steps[1] == "scene":
            steps = steps[2:]
        elif steps[0] == "scene" and len(steps) > 1:
            steps = steps[1:]
        assign(root, steps, override["value"], override["path"])


def samples(scene):
    engine = scene.render.engine
    if engine == "CYCLES":
        return scene.cycles.samples
    if engine.startswith("BLENDER_EEVEE"):
        return getattr(scene.eevee, "taa_render_samples", None)
    return None


def on_write(scene, *args):
    emit("frame", frame=scene.frame_current,
         path=bpy.path.abspath(scene.render.frame_path(frame=scene.frame_current)))


def watch_parent(parent):
    """End this job if Render+ dies (even by SIGKILL): nobody owns it or reads it any more."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            if hasattr(os, "killpg"):
                try:
                    os.killpg(os.getpgrp(), signal.SIGTERM)  # Blender and anything it started
                except OSError:
                    pass
            os._exit(1)


def main():
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    scene = bpy.context.scene
    apply(scene)
    bpy.app.handlers.render_write.append(on_write)
    emit("ready", engine=scene.render.engine, scene=scene.name, frames=CONFIG["frames"],
         samples=samples(scene), blender=bpy.app.version_string,
         camera=scene.camera.name if scene.camera else None,
         layers=[layer.name for layer in scene.view_layers if layer.use])


main()
'''
