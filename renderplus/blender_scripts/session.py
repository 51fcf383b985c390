"""Runs inside a session Blender: one process renders job after job of the same .blend.

The session executor (batch/executors/session.py) starts ``blender -b FILE [-t N]
--python-exit-code 1 --python session.py -- --renderplus-session [--reset reload|restore]
[--persistent-data] [--cycles-device D]`` and writes one JSON line per job on stdin: the job's
settings file (the very file job_overrides.py reads) and what the job's own command line would
have set (``-S``, ``-o``, ``-F``, ``-E``, ``-x``, and ``-f N`` or ``-s A -e B -j S -a``).

Per job it prints a ``job_start`` marker, resets the file (reload from disk, so a PRE_JOB hook
that rewrote the .blend is seen; or ``restore``: set back exactly what the previous job changed,
measured in bench/bench_session.py), applies the job with job_overrides.py's own functions,
renders with Blender's render operator (the ``RE_RenderAnim`` that ``-f``/``-a`` call) and ends
with a ``job_end`` marker carrying the job's exit code: 0, 17 (an override error, its ``error``
marker printed before) or 1 (Blender could not render). A failed job ends only itself; the
session reads the next line, and quits when stdin closes. A job line's ``stop_file`` is the
job's stop file: once it exists, the session ends after the frame it wrote, exiting with
``PAUSED_EXIT_CODE`` (job_overrides.stop_if_asked; a pause). Standard library and bpy only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

import bpy

PREFIX = "RENDERPLUS> "  # markers.MARKER_PREFIX (a test keeps them equal)
SESSION_FLAG = "--renderplus-session"
# Blender's -F names (as the command line reads them) -> the Python enum's names.
CLI_FORMATS = {"TGA": "TARGA", "RAWTGA": "TARGA_RAW", "IRIZ": "IRIS", "AVIRAW": "AVI_RAW",
               "AVIJPEG": "AVI_JPEG", "JP2": "JPEG2000", "MULTILAYER": "OPEN_EXR_MULTILAYER"}


def load_job_overrides() -> ModuleType:
    """job_overrides.py beside this file, imported (its ``main()`` runs only as ``__main__``)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "job_overrides.py")
    spec = importlib.util.spec_from_file_location("renderplus_job_overrides", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


core = load_job_overrides()


def session_options() -> dict[str, Any]:
    args = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    reset = args[args.index("--reset") + 1] if "--reset" in args else "reload"
    return {"reset": reset, "persistent_data": "--persistent-data" in args}


class Journal:
    """What a job changed, to set back in ``restore`` mode: one undo step per value kept."""

    def __init__(self) -> None:
        self.undo: list[Callable[[], None]] = []

    def keep(self, target: Any, name: Any, item: bool = False) -> None:
        old = target[name] if item else getattr(target, name)
        if hasattr(old, "copy") and not isinstance(old, bpy.types.ID):
            old = old.copy()  # mathutils values
        elif hasattr(old, "__len__") and not isinstance(old, (str, bpy.types.bpy_struct)):
            old = tuple(old)  # bpy_prop_array

        def undo() -> None:
            if item:
                target[name] = old
            else:
                setattr(target, name, old)
        self.undo.append(undo)

    def keep_job(self, scene: Any, keep_persistent: bool) -> None:
        """The values the command line options and job_overrides.apply_* may change (a test,
        tests/batch/test_session_journal.py, reads both and fails on one missing here)."""
        frame = scene.frame_current
        self.undo.append(lambda: scene.frame_set(frame))  # set back last
        render = scene.render
        for name in ("camera", "world", "frame_end", "frame_start", "frame_step"):
            self.keep(scene, name)
        for name in ("filepath", "engine", "use_file_extension", "resolution_x", "resolution_y",
                     "resolution_percentage", "use_border", "border_min_x", "border_min_y",
                     "border_max_x", "border_max_y"):
            self.keep(render, name)
        if not keep_persistent:
            self.keep(render, "use_persistent_data")
        for name in ("color_depth", "color_mode", "file_format"):  # format set back first
            self.keep(render.image_settings, name)
        for layer in scene.view_layers:
            self.keep(layer, "use")
        if hasattr(scene, "cycles"):
            self.keep(scene.cycles, "samples")
            self.keep(scene.cycles, "device")

    def keep_override(self, scene: Any, override: dict[str, Any]) -> None:
        root, steps = core.override_root(scene, override["steps"])
        target = root
        try:
            for kind, step in steps[:-1]:
                target = core.step_into(target, kind, step)
            kind, last = steps[-1]
            self.keep(target, last, item=kind != "attr")
        except (AttributeError, KeyError, IndexError, TypeError):
            pass  # the override itself fails and says so

    def restore(self) -> bool:
        """Set everything back, newest first; False when something could not be."""
        ok = True
        for undo in reversed(self.undo):
            try:
                undo()
            except Exception:
                ok = False
        self.undo.clear()
        return ok


class Session:
    def __init__(self, reset: str, persistent_data: bool) -> None:
        if reset not in ("reload", "restore"):
            raise SystemExit(f"Error: unknown --reset {reset!r} (reload or restore)")
        self.reset, self.persistent_data = reset, persistent_data
        self.pristine = True  # the file as Blender loaded it at start-up
        self.journal = Journal()
        self.gpu_prefs: list[Callable[[], None]] = []

    def run(self, job: dict[str, Any]) -> None:
        core._stop_file[0] = job.get("stop_file") or None
        core.emit("job_start", job=job["job"])
        try:
            code = self.render_job(job)
        except SystemExit as exc:  # core.fail(): the error marker is out already
            code = exc.code if isinstance(exc.code, int) else 1
        except RuntimeError as exc:  # an operator's error: no camera, a file it cannot read
            message = str(exc).strip()
            print(message if message.startswith("Error") else f"Error: {message}")
            code = 1
        except Exception as exc:
            traceback.print_exc(file=sys.stdout)
            print(f"Error: {exc}")
            code = 1
        finally:
            self.after_job()
        sys.stdout.flush()
        core.emit("job_end", job=job["job"], code=code)

    def render_job(self, job: dict[str, Any]) -> int:
        if not self.pristine:
            bpy.ops.wm.open_mainfile(filepath=job["blend"])  # RuntimeError "Error: Cannot read..."
        self.pristine = False
        scene = self.cli_scene(job["scene"])
        if scene is None:
            core.fail("The file has no scene to render")
        if self.reset == "restore":
            self.journal.keep_job(scene, self.persistent_data)
        if not self.cli_options(scene, job):
            return 1
        config = read_config(job["config"])
        if config.get("gpu_index") is not None:
            self.gpu_prefs = gpu_prefs_undo()
        core.apply_names(scene, config)
        own = core.cost_facts(scene)
        core.apply_render_settings(scene, config)
        for override in config["overrides"]:
            if self.reset == "restore":
                self.journal.keep_override(scene, override)
            core.apply_override(scene, override)
        if self.persistent_data:
            scene.render.use_persistent_data = True
        bpy.app.handlers.render_pre.append(core.on_render_pre)
        bpy.app.handlers.render_write.append(core.on_write)
        core.emit("ready", **core.ready_fields(scene, config, own))
        if config.get("render_runs"):
            core.render_runs(scene, config["render_runs"])
        elif job["frames"]:
            render_cli_frames(scene, job["frames"])
        return 0

    def cli_scene(self, name: str) -> Any:
        """``-S``: the named scene, or (as Blender's option does) the active one, saying so."""
        if name:
            scene = bpy.data.scenes.get(name)
            if scene is not None:
                return scene
            print(f"Can't find scene: '{name}' in file: '{bpy.data.filepath}'")
        return bpy.context.scene

    def cli_options(self, scene: Any, job: dict[str, Any]) -> bool:
        """``-o``, ``-F``, ``-E``, ``-x`` as Blender's own options set them; False for an
        unknown engine (Blender's option exits 1 there)."""
        render = scene.render
        if job["output"]:
            render.filepath = job["output"]
        if job["format"]:
            try:
                render.image_settings.file_format = CLI_FORMATS.get(job["format"], job["format"])
            except TypeError:
                print("\nError: Format from '-F / --render-format' not known or not compiled "
                      "in this release.")
        if job["engine"]:
            try:
                render.engine = job["engine"]
            except TypeError:
                print(f"\nError: engine not found '{job['engine']}'")
                return False
        if job["extension"] is not None:
            render.use_file_extension = bool(job["extension"])
        return True

    def after_job(self) -> None:
        with_handler = bpy.app.handlers.render_write
        while core.on_write in with_handler:
            with_handler.remove(core.on_write)
        while core.on_render_pre in bpy.app.handlers.render_pre:
            bpy.app.handlers.render_pre.remove(core.on_render_pre)
        core._frame_began[0] = None
        core._still_path[0] = None
        core._stop_file[0] = None
        for undo in self.gpu_prefs:
            try:
                undo()
            except Exception:
                traceback.print_exc(file=sys.stdout)
        self.gpu_prefs = []
        if self.reset == "restore":
            self.pristine = self.journal.restore()


def read_config(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            config: dict[str, Any] = json.load(handle)
    except (OSError, ValueError) as exc:
        core.fail(f"Cannot read the job settings {path}: {exc}")
    return config


def render_cli_frames(scene: Any, frames: dict[str, Any]) -> None:
    """``-f N`` or ``-s A -e B [-j S] -a``: both call RE_RenderAnim over a range, as the render
    operator's animation does over the scene's range (Blender's -s/-e/-j set that range too)."""
    first = frames.get("still", frames.get("start"))
    last = frames.get("still", frames.get("end"))
    if first is not None:
        scene.frame_start = first
    if last is not None:
        scene.frame_end = last
    if frames.get("step"):
        scene.frame_step = frames["step"]
    bpy.ops.render.render(animation=True, scene=scene.name)


def gpu_prefs_undo() -> list[Callable[[], None]]:
    """A job on one GPU changes Cycles' preferences, which no reload resets: keep them."""
    preferences: Any = bpy.context.preferences  # never None in a running Blender
    prefs = preferences.addons["cycles"].preferences
    device_type = prefs.compute_device_type
    uses = {(device.id, device.type): device.use for device in prefs.devices}

    def undo_type() -> None:
        prefs.compute_device_type = device_type

    def undo_uses() -> None:  # refreshing the list may have made new device entries
        for device in prefs.devices:
            device.use = uses.get((device.id, device.type), device.use)
    return [undo_type, undo_uses]


def main() -> None:
    options = session_options()
    threading.Thread(target=core.watch_parent, args=(os.getppid(),), daemon=True).start()
    session = Session(options["reset"], options["persistent_data"])
    while True:
        line = sys.stdin.readline()
        if not line:
            return  # Render+ closed the pipe: the session ends
        if not line.strip():
            continue
        try:
            job = json.loads(line)
        except ValueError:
            print(f"Error: not a job line: {line.strip()[:200]!r}")
            continue
        session.run(job)


if __name__ == "__main__":
    main()
