"""Runs inside a Blender opened on a job's .blend: makes the job's movie from its frames.

Render+ starts ``blender -b FILE [-S scene] [-o out -F fmt] --python-exit-code 17 --python
encode_movie.py -- --renderplus-encode CONFIG.json`` once every frame of the job is verified (on
this machine, or on a farm node as the farm job's last step; batch/encode/command.py writes the
config). The job's scene and overrides are applied first, so the frame rate, the sound and the
colour management are the ones the frames were rendered with. Then:

1. every frame must exist and have the same size (``image_sizes``: headers only);
2. scene-linear frames (OpenEXR, single or multilayer, and Radiance HDR) go through the scene's
   view transform, look, exposure and gamma into 16-bit PNGs (``Image.save_render``: the
   sequencer renders a multilayer EXR black); display-referred frames (PNG, JPEG, TIFF...) go to
   the encoder as they are; formats FFmpeg may not read (DPX, Cineon, JPEG 2000...) are
   converted as written ("Standard");
3. the scene's sound (sequencer strips, speakers) is mixed down over the frames' range;
4. FFmpeg encodes under a hidden partial name, renamed to the movie's name when whole; an FFmpeg
   that reports no progress for ``stall_seconds`` is ended.

It prints marker lines (``RENDERPLUS> {...}``): ``encode_ready``, ``encode_progress`` and
``movie``; a failure prints ``encode_failed`` with the reason and exits with code 17. Ended by a
signal (a cancel, a pause), it ends FFmpeg and removes the partial movie. Standard library and
bpy only (Blender 2.80 to 5.x).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction
from typing import Any, NoReturn

import bpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the scripts beside this one
import image_sizes
import job_overrides
import movie_name

EXIT_CODE = 17           # markers.OVERRIDE_EXIT_CODE
CONFIG_FLAG = "--renderplus-encode"
SCENE_LINEAR = (".exr", ".hdr")
DIRECT = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".tga", ".webp")
PROGRESS_EVERY = 0.5     # seconds between progress markers
HELPER_SCENE = "Render+ encode"
MIXDOWN_WAIT = 300.0     # seconds a mixdown may take to be written

_partial: list[str] = []          # the partial movie to remove if this script is stopped
_encoder: list[subprocess.Popen[str]] = []


emit = job_overrides.emit   # the same marker lines as a render's


def fail(message: str) -> NoReturn:
    emit("encode_failed", message=message)
    print(f"Error: {message}", flush=True)
    clean_up()
    sys.stdout.flush()
    os._exit(EXIT_CODE)


def clean_up() -> None:
    """End FFmpeg and remove the partial movie (a failure, a cancel, a pause)."""
    for process in _encoder:
        if process.poll() is None:
            with contextlib.suppress(OSError):
                process.kill()
            with contextlib.suppress(Exception):
                process.wait(5)
    for path in _partial:
        with contextlib.suppress(OSError):
            os.remove(path)


def on_signal(number: int, _frame: Any) -> None:
    clean_up()
    os._exit(128 + number)


def load_config() -> dict[str, Any]:
    args = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    try:
        path = args[args.index(CONFIG_FLAG) + 1]
        with open(path, encoding="utf-8") as handle:
            config: dict[str, Any] = json.load(handle)
    except (ValueError, IndexError):
        fail(f"No encode settings: expected '-- {CONFIG_FLAG} FILE.json' on the command line")
    except OSError as exc:
        fail(f"Cannot read the encode settings: {exc}")
    return config


def prepare_scene(config: dict[str, Any]) -> Any:
    """The job's scene with the job's settings applied (what its frames were rendered with)."""
    scene = bpy.context.scene
    if scene is None:
        fail("The file has no scene")
    job = config["job"]
    job_overrides.fail = fail   # a missing camera or scene fails the encode, not a render
    job_overrides.apply_names(scene, job)
    job_overrides.apply_render_settings(scene, job)
    for override in job["overrides"]:
        job_overrides.apply_override(scene, override)
    return scene


def frame_paths(scene: Any, config: dict[str, Any]) -> list[str]:
    """The frames' files: as Render+ recorded them, or where the job's render wrote them."""
    if config.get("paths"):
        return [str(path) for path in config["paths"]]
    return [bpy.path.abspath(scene.render.frame_path(frame=int(frame))) for frame in config["frames"]]


def check_frames(paths: list[str], frames: list[int]) -> tuple[int, int] | None:
    """Every frame exists, is a still image, and all have one size (the size, when known)."""
    size: tuple[int, int] | None = None
    first = None
    for frame, path in zip(frames, paths):
        if not os.path.isfile(path):
            fail(f"Frame {frame} is missing: {path}")
        try:
            found = image_sizes.frame_size(path)
        except (OSError, ValueError, IndexError) as exc:
            fail(f"Frame {frame} cannot be read ({path}): {exc}")
        if found is None:
            continue
        if size is None:
            size, first = found, frame
        elif found != size:
            fail(f"The frames differ in size: frame {first} is {size[0]}x{size[1]}, frame {frame} "
                 f"is {found[0]}x{found[1]} ({path}); a movie needs one size")
    return size


def frame_rate(scene: Any, config: dict[str, Any]) -> Fraction:
    if config.get("fps"):
        return Fraction(config["fps"]).limit_denominator(1001)
    return Fraction(scene.render.fps / scene.render.fps_base).limit_denominator(1001)


def colour_helper(scene: Any, linear: bool) -> Any:
    """A scene whose settings ``save_render`` uses: 16-bit PNG, and the job scene's colour
    management for scene-linear frames (else "Standard": the file as written)."""
    helper: Any = bpy.data.scenes.new(HELPER_SCENE)
    settings = helper.render.image_settings
    settings.file_format = "PNG"
    settings.color_mode = "RGB"
    settings.color_depth = "16"
    settings.compression = 15
    helper.display_settings.display_device = scene.display_settings.display_device
    view = helper.view_settings
    if linear:
        source = scene.view_settings
        view.view_transform = source.view_transform
        view.look = source.look
        view.exposure = source.exposure
        view.gamma = source.gamma
        view.use_curve_mapping = source.use_curve_mapping
    else:
        view.view_transform = "Standard"
        with contextlib.suppress(TypeError):
            view.look = "None"
    return helper


def convert(scene: Any, paths: list[str], sequence: str, linear: bool) -> None:
    """Each frame as a display-referred 16-bit PNG, in order, named for FFmpeg."""
    helper = colour_helper(scene, linear)
    last = 0.0
    try:
        for index, path in enumerate(paths):
            image = bpy.data.images.load(path, check_existing=False)
            try:
                image.save_render(os.path.join(sequence, f"{index:06d}.png"), scene=helper)
            finally:
                bpy.data.images.remove(image)
            if time.monotonic() - last >= PROGRESS_EVERY or index == len(paths) - 1:
                last = time.monotonic()
                emit("encode_progress", stage="colour", done=index + 1, total=len(paths))
    finally:
        bpy.data.scenes.remove(helper)


def link_frames(paths: list[str], sequence: str, extension: str) -> None:
    """Display-referred frames go as they are: linked in order under names FFmpeg reads."""
    for index, path in enumerate(paths):
        target = os.path.join(sequence, f"{index:06d}{extension}")
        try:
            os.symlink(os.path.abspath(path), target)
        except OSError:
            import shutil
            shutil.copyfile(path, target)


def sound_strips(scene: Any) -> bool:
    editor = scene.sequence_editor
    if editor is not None:
        strips = getattr(editor, "strips_all", None) or getattr(editor, "sequences_all", [])
        if any(strip.type == "SOUND" and not strip.mute for strip in strips):
            return True
    return any(obj.type == "SPEAKER" for obj in scene.objects)


def mix_sound(scene: Any, frames: list[int], fps: Fraction, config: dict[str, Any],
              workdir: str) -> tuple[str | None, str]:
    """The scene's sound over the frames' range as a WAV, or (None, why there is none)."""
    if not config.get("audio"):
        return None, "sound off"
    if not sound_strips(scene):
        return None, "the scene has no sound"
    if frames != list(range(frames[0], frames[0] + len(frames))):
        return None, "sound left out: the frames are not one run of consecutive frames"
    scene_fps = Fraction(scene.render.fps / scene.render.fps_base).limit_denominator(1001)
    if fps != scene_fps:
        return None, f"sound left out: {float(fps):g} fps is not the scene's {float(scene_fps):g}"
    target = os.path.join(workdir, "sound.wav")
    scene.frame_start, scene.frame_end = frames[0], frames[-1]
    result = bpy.ops.sound.mixdown(filepath=target, check_existing=False, relative_path=False,
                                   container="WAV", codec="PCM", format="S16")
    if "FINISHED" not in result or not wav_written(target):
        return None, "sound left out: Blender's mixdown failed"
    return target, "the scene's sound"


def wav_written(path: str, timeout: float = MIXDOWN_WAIT) -> bool:
    """Whether the mixdown's WAV is whole: Blender 5 writes it from a job of its own, after the
    operator returned; a WAV is whole once its RIFF size is the file's size less 8."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with open(path, "rb") as stream:
                head = stream.read(8)
            if head[:4] == b"RIFF" and int.from_bytes(head[4:8], "little") + 8 == os.path.getsize(path):
                return True
        time.sleep(0.05)
    return False


def encoder_problem(ffmpeg: dict[str, Any], with_sound: bool) -> str | None:
    binary = ffmpeg["binary"]
    try:
        listed = subprocess.run([binary, "-hide_banner", "-encoders"], capture_output=True,
                                text=True, timeout=30, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"Cannot run the encoder {binary}: {exc}"
    names = {line.split()[1] for line in listed.stdout.splitlines()
             if len(line.split()) > 1 and len(line.split()[0]) == 6}
    for encoder in (ffmpeg["encoder"], *([ffmpeg["audio_encoder"]] if with_sound else [])):
        if encoder not in names:
            return f"This FFmpeg ({binary}) has no {encoder} encoder"
    return None


def run_ffmpeg(config: dict[str, Any], argv: list[str], total: int, workdir: str) -> None:
    """FFmpeg with its progress read as it comes; ended when it stalls; its errors quoted."""
    stall = float(config.get("stall_seconds") or 120)
    errors_path = os.path.join(workdir, "ffmpeg.log")
    with open(errors_path, "w", encoding="utf-8") as errors:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True,
                                   stdin=subprocess.DEVNULL)
    _encoder.append(process)
    heard = [time.monotonic()]
    stalled = threading.Event()

    def watch() -> None:
        while process.poll() is None:
            if time.monotonic() - heard[0] > stall:
                stalled.set()
                with contextlib.suppress(OSError):
                    process.kill()
                return
            time.sleep(min(1.0, stall / 4))

    threading.Thread(target=watch, daemon=True).start()
    last = 0.0
    assert process.stdout is not None
    for line in process.stdout:
        key, _, value = line.strip().partition("=")
        if key == "frame" and value.isdigit():
            heard[0] = time.monotonic()
            if time.monotonic() - last >= PROGRESS_EVERY:
                last = time.monotonic()
                emit("encode_progress", stage="encode", done=min(int(value), total), total=total)
        elif key == "progress":
            heard[0] = time.monotonic()
    code = process.wait()
    if stalled.is_set():
        fail(f"FFmpeg made no progress for {stall:g} s and was ended")
    if code != 0:
        with open(errors_path, encoding="utf-8", errors="replace") as stream:
            said = " | ".join(line.strip() for line in stream.read().splitlines()[-4:] if line.strip())
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else -code
            fail(f"FFmpeg crashed ({name}){': ' + said if said else ''}")
        fail(f"FFmpeg failed with code {code}{': ' + said if said else ''}")
    emit("encode_progress", stage="encode", done=total, total=total)


def main() -> None:
    config = load_config()
    threading.Thread(target=job_overrides.watch_parent, args=(os.getppid(),), daemon=True).start()
    for number in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", signal.SIGTERM)):
        signal.signal(number, on_signal)
    scene = prepare_scene(config)
    frames = [int(frame) for frame in config["frames"]]
    paths = frame_paths(scene, config)
    if len(paths) < 2:
        fail("A movie needs at least two frames")
    extension = os.path.splitext(paths[0])[1].lower()
    if any(os.path.splitext(path)[1].lower() != extension for path in paths):
        fail("The frames are not all of one format")
    size = check_frames(paths, frames)
    movie = config.get("movie") or movie_name.movie_path(
        config.get("output") or "", config["extension"], paths[0], config["name"])
    folder = os.path.dirname(movie) or "."
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        fail(f"Cannot make the movie's folder {folder}: {exc.strerror or exc}")
    if not os.access(folder, os.W_OK):
        fail(f"Cannot write the movie into {folder}: permission denied")
    fps = frame_rate(scene, config)
    linear = extension in SCENE_LINEAR
    colour = (f"{scene.view_settings.view_transform} view" if linear
              else "as written" if extension in DIRECT else "converted as written")
    workdir = config["workdir"]
    sequence = os.path.join(workdir, "sequence")
    os.makedirs(sequence, exist_ok=True)
    sound, sound_note = mix_sound(scene, frames, fps, config, workdir)
    problem = encoder_problem(config["ffmpeg"], sound is not None)
    if problem:
        fail(problem)
    emit("encode_ready", movie=movie, frames=len(paths), fps=float(fps), colour=colour,
         sound=sound_note, size=list(size) if size else None, blender=bpy.app.version_string)
    if extension in DIRECT:
        link_frames(paths, sequence, extension)
        pattern = os.path.join(sequence, f"%06d{extension}")
    else:
        convert(scene, paths, sequence, linear)
        pattern = os.path.join(sequence, "%06d.png")
    partial = movie_name.partial_path(movie)
    _partial.append(partial)
    ffmpeg = config["ffmpeg"]
    argv = [ffmpeg["binary"], "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
            "-progress", "pipe:1", "-nostats", "-framerate", str(fps), "-start_number", "0",
            "-i", pattern]
    if sound:
        argv += ["-i", sound, "-map", "0:v:0", "-map", "1:a:0"]
    argv += [*ffmpeg["video"], "-r", str(fps)]
    if sound:
        argv += [*ffmpeg["audio"], "-shortest"]
    argv += ["-metadata", f"comment=Rendered with Blender {bpy.app.version_string}, encoded by Render+",
             partial]
    run_ffmpeg(config, argv, len(paths), workdir)
    try:
        os.replace(partial, movie)
    except OSError as exc:
        fail(f"Cannot put the movie in place ({movie}): {exc.strerror or exc}")
    _partial.clear()
    emit("movie", path=movie, frames=len(paths), fps=float(fps), seconds=len(paths) / float(fps),
         format=config["format"], sound=sound is not None)


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as exc:  # anything unforeseen still fails the encode with its reason
        fail(f"{type(exc).__name__}: {exc}")
