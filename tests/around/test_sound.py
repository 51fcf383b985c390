"""The notification sound through real players, with ALSA's output captured to a file."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from renderplus.around import BatchWatchers
from renderplus.around.sound import PA_VOLUME_NORM, play_sound, player_command, scaled_wav

from .conftest import AlsaCapture
from .views import batch_view, job_view, recipe_with

TONE_PEAK = 0.8  # the fixtures' amplitude

pytestmark = pytest.mark.timeout(120)


def needs(tool: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(shutil.which(tool) is None, reason=f"{tool} is not installed")


@needs("play")
def test_sox_play_plays_the_ogg_at_the_recipe_volume(tone_files: dict[str, Path],
                                                     alsa_capture: AlsaCapture) -> None:
    assert play_sound(str(tone_files["ogg"]), 10, players=("play",)) is None
    assert alsa_capture.peak() == pytest.approx(TONE_PEAK * 0.10, abs=0.02)


@needs("aplay")
def test_aplay_gets_a_scaled_copy_of_a_wav(tone_files: dict[str, Path],
                                           alsa_capture: AlsaCapture) -> None:
    assert play_sound(str(tone_files["wav"]), 25, players=("aplay",)) is None
    assert alsa_capture.peak() == pytest.approx(TONE_PEAK * 0.25, abs=0.01)


@needs("paplay")
@needs("play")
def test_falls_back_when_pulseaudio_is_not_running(tone_files: dict[str, Path],
                                                   alsa_capture: AlsaCapture) -> None:
    """paplay cannot reach a sound server (PULSE_SERVER points nowhere): sox plays instead."""
    assert play_sound(str(tone_files["ogg"]), 50, players=("paplay", "play")) is None
    assert alsa_capture.peak() == pytest.approx(TONE_PEAK * 0.5, abs=0.05)


@needs("paplay")
@needs("aplay")
def test_every_player_failing_is_one_message(tone_files: dict[str, Path],
                                             alsa_capture: AlsaCapture) -> None:
    problem = play_sound(str(tone_files["ogg"]), 50, players=("paplay", "aplay"))
    assert problem is not None and problem.startswith("No notification sound:")
    assert "paplay failed" in problem and "aplay plays only .wav files" in problem
    assert not alsa_capture.output.exists()


def test_missing_file_or_player_is_a_message(tone_files: dict[str, Path], tmp_path: Path) -> None:
    problem = play_sound(str(tmp_path / "nope.ogg"), 10)
    assert problem is not None and "nope.ogg" in problem and "does not exist" in problem
    problem = play_sound(str(tone_files["wav"]), 10, which=lambda name: None, platform="linux")
    assert problem is not None and "no sound player found" in problem


def test_volume_zero_plays_nothing(tone_files: dict[str, Path], alsa_capture: AlsaCapture) -> None:
    assert play_sound(str(tone_files["wav"]), 0, players=("aplay",)) is None
    assert not alsa_capture.output.exists()


def test_player_volumes_mean_the_same_loudness() -> None:
    paplay = player_command("paplay", "x.ogg", 10).argv
    pa_volume = int(paplay[1].split("=")[1])
    assert (pa_volume / PA_VOLUME_NORM) ** 3 == pytest.approx(0.10, rel=0.01)  # PulseAudio: cubic
    assert player_command("play", "x.ogg", 10).argv[2:4] == ["-v", "0.100"]
    assert player_command("afplay", "x.ogg", 100).argv[1:3] == ["-v", "1.000"]


def test_scaled_wav_keeps_the_format(tone_files: dict[str, Path], tmp_path: Path) -> None:
    copy = scaled_wav(str(tone_files["wav"]), 50, directory=str(tmp_path))
    with wave.open(copy) as scaled, wave.open(str(tone_files["wav"])) as source:
        assert scaled.getparams() == source.getparams()


@needs("play")
def test_watchers_play_the_recipes_sound(tone_files: dict[str, Path], alsa_capture: AlsaCapture,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("renderplus.around.sound.LINUX_PLAYERS", ("play",))
    recipe = recipe_with(jobs=1, base_dir=str(tone_files["ogg"].parent), notifications={
        "sound": {"enabled": True, "file": "tone.ogg", "volume": 10}})
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append, platform="linux")
    watchers.batch_ended(batch_view([job_view(0, "FINISHED", rendertime=1.0)],
                                        status="FINISHED"))
    watchers.close()
    assert reports == []
    assert alsa_capture.peak() == pytest.approx(TONE_PEAK * 0.10, abs=0.02)
