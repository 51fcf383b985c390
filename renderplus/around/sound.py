"""Play the recipe's notification sound with whatever player the system has.

The recipe's volume (0–100) is the loudness of the sound as a fraction of the file's own:
10 plays it at a tenth of its amplitude, whatever the player. Each player takes volume its own
way (PulseAudio's ``paplay`` on a cubic scale, sox's ``play`` and ``afplay`` as a linear factor);
players without a volume option (``aplay``, Windows' ``winsound``) get a scaled copy of a 16-bit
WAV. Players are tried in order until one plays: on a desktop without PulseAudio, ``paplay``
fails at once and ALSA's turn comes.
"""

from __future__ import annotations

import array
import contextlib
import os
import shutil
import sys
import tempfile
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass

from ..batch.process import run_command

SOUND_TIMEOUT = 30.0
PA_VOLUME_NORM = 65536  # PulseAudio's 100 %
LINUX_PLAYERS = ("paplay", "pw-play", "play", "ffplay", "aplay")

Which = Callable[[str], "str | None"]


@dataclass(frozen=True)
class PlayCommand:
    """A player's argv; ``needs_wav``: the player reads only WAV and has no volume option."""

    player: str
    argv: list[str]
    needs_wav: bool = False


def player_command(player: str, path: str, volume: int) -> PlayCommand:
    """The argv that makes ``player`` play ``path`` at ``volume`` (0–100, amplitude)."""
    amplitude = max(0, min(100, volume)) / 100.0
    if player == "paplay":  # PulseAudio/PipeWire volumes are cubic: amplitude = (v / NORM) ** 3
        return PlayCommand(player, ["paplay", f"--volume={round(PA_VOLUME_NORM * amplitude ** (1 / 3))}",
                                    path])
    if player == "pw-play":
        return PlayCommand(player, ["pw-play", f"--volume={amplitude:.3f}", path])
    if player == "play":
        return PlayCommand(player, ["play", "-q", "-v", f"{amplitude:.3f}", path])
    if player == "ffplay":
        return PlayCommand(player, ["ffplay", "-nodisp", "-autoexit", "-loglevel", "error",
                                    "-volume", str(round(amplitude * 100)), path])
    if player == "afplay":
        return PlayCommand(player, ["afplay", "-v", f"{amplitude:.3f}", path])
    if player == "aplay":
        return PlayCommand(player, ["aplay", "-q", path], needs_wav=True)
    raise ValueError(f"unknown sound player {player!r}")


def scaled_wav(path: str, volume: int, directory: str | None = None) -> str:
    """A temporary copy of the 16-bit PCM WAV ``path`` at ``volume`` percent; caller deletes it.

    Raises ValueError for other WAV encodings (they are played as they are instead).
    """
    with wave.open(path, "rb") as source:
        if source.getsampwidth() != 2 or source.getcomptype() != "NONE":
            raise ValueError("not a 16-bit PCM WAV")
        params = source.getparams()
        frames = source.readframes(source.getnframes())
    samples = array.array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":
        samples.byteswap()
    factor = max(0, min(100, volume)) / 100.0
    scaled = array.array("h", (int(s * factor) for s in samples))
    if sys.byteorder == "big":
        scaled.byteswap()
    handle, target = tempfile.mkstemp(prefix="renderplus-sound-", suffix=".wav", dir=directory)
    os.close(handle)
    with wave.open(target, "wb") as out:
        out.setparams(params)
        out.writeframes(scaled.tobytes())
    return target


def play_sound(path: str, volume: int, *, platform: str | None = None, which: Which = shutil.which,
               players: tuple[str, ...] | None = None, timeout: float = SOUND_TIMEOUT) -> str | None:
    """Play ``path`` at ``volume``; None when it played (or volume is 0), else why not."""
    if volume <= 0:
        return None
    if not path or not os.path.isfile(path):
        return f"No notification sound: the sound file {path or '(none)'} does not exist"
    platform = platform or sys.platform
    if platform == "win32" and players is None:
        return _play_winsound(path, volume, timeout)
    if players is None:
        players = ("afplay",) if platform == "darwin" else LINUX_PLAYERS
    available = [p for p in players if which(p)]
    if not available:
        return f"No notification sound: no sound player found (looked for {', '.join(players)})"
    is_wav = path.lower().endswith((".wav", ".wave"))
    failures = []
    for player in available:
        command = player_command(player, path, volume)
        if command.needs_wav and not is_wav:
            failures.append(f"{player} plays only .wav files")
            continue
        problem = _run_player(command, path, volume, timeout)
        if problem is None:
            return None
        failures.append(problem)
    return "No notification sound: " + "; ".join(failures)


def _run_player(command: PlayCommand, path: str, volume: int, timeout: float) -> str | None:
    temp = None
    argv = command.argv
    if command.needs_wav and volume < 100:
        try:
            temp = scaled_wav(path, volume)
            argv = [*argv[:-1], temp]
        except (ValueError, OSError, EOFError, wave.Error):
            pass  # an encoding we cannot scale: play it as it is rather than not at all
    try:
        result = run_command(argv, timeout=timeout)
    finally:
        if temp:
            _remove(temp)
    if result.ok:
        return None
    if result.timed_out:  # it was playing: a long file, cut off so the batch can end
        return f"Notification sound cut off after {timeout:g} s ({command.player})"
    return result.detail


def _play_winsound(path: str, volume: int, timeout: float) -> str | None:
    """Windows: ``winsound`` plays WAV only, without a volume setting (a scaled copy then)."""
    if not path.lower().endswith((".wav", ".wave")):
        return f"No notification sound: Windows plays only .wav files here (got {os.path.basename(path)})"
    if sys.platform != "win32":
        return "No notification sound: winsound exists only on Windows"
    import winsound
    temp = None
    try:
        temp = scaled_wav(path, volume) if volume < 100 else None
    except (ValueError, OSError, EOFError, wave.Error):
        temp = None
    errors: list[str] = []

    def play() -> None:
        try:
            winsound.PlaySound(temp or path, winsound.SND_FILENAME | winsound.SND_NODEFAULT)
        except RuntimeError as exc:
            errors.append(str(exc))

    player = threading.Thread(target=play, name="renderplus-sound", daemon=True)
    player.start()
    player.join(timeout)
    if temp and not player.is_alive():
        _remove(temp)
    if errors:
        return f"No notification sound: winsound failed ({errors[0]})"
    return None


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)
