"""Which FFmpeg encodes, and whether it can make a format: asked once per binary.

``RENDERPLUS_FFMPEG`` names the binary, else ``ffmpeg`` on PATH (README, Movies: how it is
installed). What a binary can do (``ffmpeg -encoders``) and its version are cached by path and
modification time, so a check per job costs nothing after the first.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from .formats import MovieFormat

FFMPEG_VAR = "RENDERPLUS_FFMPEG"
ASK_TIMEOUT = 20.0
_ENCODER_LINE = re.compile(r"^\s*[VAS][A-Z.]{5}\s+(\S+)", re.MULTILINE)
_VERSION = re.compile(r"ffmpeg version (\S+)")


@dataclass(frozen=True)
class Ffmpeg:
    """A working FFmpeg: its path, version and encoders."""

    path: str
    version: str
    encoders: frozenset[str]

    def lacks(self, movie: MovieFormat, *, audio: bool = False) -> str | None:
        """Why this FFmpeg cannot make ``movie`` (with sound), or None."""
        for encoder in (movie.encoder, *([movie.audio_encoder] if audio else [])):
            if encoder not in self.encoders:
                return (f"this FFmpeg ({self.path}, {self.version}) has no {encoder} encoder, which "
                        f"{movie.label} needs")
        return None


class FfmpegMissing(Exception):
    """No FFmpeg to encode with: the message says what to install or set."""


def find_ffmpeg(env: Mapping[str, str] | None = None) -> str | None:
    """The FFmpeg binary to use: ``RENDERPLUS_FFMPEG``, else ``ffmpeg`` on PATH; None if none."""
    env = os.environ if env is None else env
    named = env.get(FFMPEG_VAR, "")
    if named:
        return shutil.which(named) or (named if os.path.isfile(named) else None)
    return shutil.which("ffmpeg", path=env.get("PATH"))


def ffmpeg(env: Mapping[str, str] | None = None) -> Ffmpeg:
    """The FFmpeg to encode with, asked what it can do; ``FfmpegMissing`` says why there is none."""
    env = os.environ if env is None else env
    path = find_ffmpeg(env)
    if path is None:
        named = env.get(FFMPEG_VAR, "")
        where = f"{FFMPEG_VAR}={named} is no program" if named else "no ffmpeg on PATH"
        raise FfmpegMissing(f"Cannot make a movie: {where} (install FFmpeg: apt install ffmpeg, "
                            f"or set {FFMPEG_VAR} to its path)")
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError as exc:
        raise FfmpegMissing(f"Cannot make a movie: {path}: {exc.strerror}") from exc
    return _ask(os.path.abspath(path), stamp)


@functools.cache
def _ask(path: str, stamp: int) -> Ffmpeg:
    try:
        listed = subprocess.run([path, "-hide_banner", "-encoders"], capture_output=True, text=True,
                                timeout=ASK_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
        said = subprocess.run([path, "-version"], capture_output=True, text=True,
                              timeout=ASK_TIMEOUT, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise FfmpegMissing(f"Cannot make a movie: {path} does not run ({exc})") from exc
    if listed.returncode != 0:
        raise FfmpegMissing(f"Cannot make a movie: {path} -encoders exited with code "
                            f"{listed.returncode}: {(listed.stderr or '').strip()[-300:]}")
    version = _VERSION.search(said.stdout or "")
    return Ffmpeg(path, version.group(1) if version else "version unknown",
                  frozenset(_ENCODER_LINE.findall(listed.stdout or "")))
