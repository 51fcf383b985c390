"""A job's movie with the real Blender and FFmpeg, and its faults: an encoder without the format,
an encoder that crashes or hangs, a movie folder that cannot be made, frames of different sizes,
a cancel and a pause during the encode, a resume that encodes only when needed. Each time the
frames are untouched and the rest of the batch goes on. (Fake FFmpegs, wrapping the real one,
only for the faults a real FFmpeg does not produce on demand.)"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.encode import encode_argv, encode_config
from renderplus.batch.options import RunOptions
from renderplus.batch.resume import resumable
from renderplus.batch.runner import Batch
from renderplus.batch.service import BatchService, NothingToResumeError
from renderplus.batch.store import BatchStore
from tests.batch.conftest import make_recipe
from tests.blendfiles import make_blend
from tests.movie_checks import blend_with_sound, probe
from tests.waiting import wait_for

pytestmark = [pytest.mark.blender, pytest.mark.slow]
REAL = "/usr/bin/ffmpeg"
ASKED = 'case " $* " in *" -encoders "*|*" -version "*) exec ' + REAL + ' "$@";; esac\n'


def fake_ffmpeg(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def animation(tmp_path: Path, name: str, **encode: Any) -> dict[str, Any]:
    blend = make_blend(tmp_path, engine="BLENDER_WORKBENCH", size=(64, 48), frames=3)
    return {"blend_file": str(blend), "animated": True, "frame_start": 1, "frame_end": 3,
            "output": str(tmp_path / name / "shot_####"), "format": "PNG", "encode": encode}


def run(recipe_jobs: list[dict[str, Any]], ffmpeg: str | None = None,
        **env: str) -> list[dict[str, Any]]:
    if ffmpeg:
        env["RENDERPLUS_FFMPEG"] = ffmpeg
    batch = Batch(make_recipe(recipe_jobs), RunOptions(env=env))
    batch.run()
    jobs: list[dict[str, Any]] = batch.snapshot()["jobs"]
    return jobs


def frames_of(tmp_path: Path, name: str) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (tmp_path / name).glob("shot_*.png")}


def no_movie_left(tmp_path: Path, name: str) -> bool:
    return not [p for p in (tmp_path / name).iterdir() if p.suffix in (".mp4", ".mov")]


def test_an_encoder_without_the_format_fails_its_job_and_the_batch_goes_on(tmp_path: Path) -> None:
    no_prores = fake_ffmpeg(tmp_path, "ffmpeg-no-prores",
                            f'case " $* " in *" -encoders "*) {REAL} "$@" | grep -v prores; exit;; esac\n'
                            f'exec {REAL} "$@"\n')
    jobs = run([animation(tmp_path, "a", format="prores"), animation(tmp_path, "b")], no_prores)
    assert jobs[0]["status"] == "FAILED"
    assert "has no prores_ks encoder, which ProRes 422 HQ MOV needs" in jobs[0]["messages"][-1]
    assert "the frames are kept" in jobs[0]["messages"][-1]
    assert jobs[0]["movie"]["status"] == "FAILED" and len(frames_of(tmp_path, "a")) == 3
    assert jobs[1]["status"] == "FINISHED" and jobs[1]["movie"]["status"] == "DONE"
    assert probe(jobs[1]["movie"]["path"]).frames == 3


def test_an_encoder_that_crashes_is_named_and_leaves_no_partial_movie(tmp_path: Path) -> None:
    crashing = fake_ffmpeg(tmp_path, "ffmpeg-crash", ASKED + 'for last; do :; done\n'
                           'echo half > "$last"\nkill -SEGV $$\n')
    jobs = run([animation(tmp_path, "a"), animation(tmp_path, "b", format="ffv1")], crashing)
    assert jobs[0]["status"] == "FAILED" and "FFmpeg crashed (SIGSEGV)" in jobs[0]["messages"][-1]
    assert no_movie_left(tmp_path, "a") and not list((tmp_path / "a").glob(".*partial*"))
    assert len(frames_of(tmp_path, "a")) == 3
    assert jobs[1]["status"] == "FAILED"   # the same encoder: each job says so, none hangs


def test_an_encoder_that_hangs_is_ended_after_the_stall_limit(tmp_path: Path) -> None:
    hanging = fake_ffmpeg(tmp_path, "ffmpeg-hang", ASKED + "echo frame=1\nexec sleep 600\n")
    jobs = run([animation(tmp_path, "a")], hanging, RENDERPLUS_ENCODE_STALL_SECONDS="2")
    assert jobs[0]["status"] == "FAILED"
    assert "FFmpeg made no progress for 2 s and was ended" in jobs[0]["messages"][-1]
    assert no_movie_left(tmp_path, "a") and len(frames_of(tmp_path, "a")) == 3


def test_a_movie_folder_that_cannot_be_made_is_named(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    jobs = run([animation(tmp_path, "a", output=str(tmp_path / "file.txt" / "movies") + "/"),
                animation(tmp_path, "b")])
    assert jobs[0]["status"] == "FAILED"
    assert f"Cannot make the movie's folder {tmp_path / 'file.txt' / 'movies'}" in jobs[0]["messages"][-1]
    assert jobs[1]["status"] == "FINISHED"


def test_frames_of_different_sizes_make_no_movie(tmp_path: Path) -> None:
    job = animation(tmp_path, "a")
    recipe = make_recipe([job])
    frames = []
    for frame, size in ((1, "64x48"), (2, "64x48"), (3, "32x24")):
        path = tmp_path / f"f{frame}.png"
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"color=c=red:size={size}",
                        "-frames:v", "1", str(path)], check=True, timeout=60)
        frames.append(str(path))
    config = tmp_path / "encode.json"
    movie = tmp_path / "m.mp4"
    config.write_text(json.dumps(encode_config(recipe, recipe.jobs[0], movie=str(movie), ffmpeg=REAL,
                                               workdir=str(tmp_path), paths=frames)))
    result = subprocess.run(encode_argv(recipe, recipe.jobs[0], blender="blender",
                                        config_path=str(config)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 17
    assert (f"The frames differ in size: frame 1 is 64x48, frame 3 is 32x24 ({frames[2]})"
            in result.stdout)
    assert not movie.exists()


def blocking_ffmpeg(tmp_path: Path) -> tuple[str, Path]:
    """An FFmpeg that writes its partial movie and waits while ``hold`` exists, else the real one."""
    hold = tmp_path / "hold"
    hold.write_text("")
    path = fake_ffmpeg(tmp_path, "ffmpeg-hold", ASKED + f'if [ -e "{hold}" ]; then\n'
                       '  for last; do :; done\n  echo part > "$last"\n  echo frame=1\n'
                       '  exec sleep 600\nfi\n' + f'exec {REAL} "$@"\n')
    return path, hold


def movie_status(batch: Batch, job: int) -> str:
    return str(batch.snapshot()["jobs"][job]["movie"]["status"])


def test_a_cancel_during_the_encode_ends_it_and_leaves_no_partial_movie(tmp_path: Path) -> None:
    ffmpeg, _ = blocking_ffmpeg(tmp_path)
    batch = Batch(make_recipe([animation(tmp_path, "a"), {**animation(tmp_path, "b"), "encode": None}]),
                  RunOptions(env={"RENDERPLUS_FFMPEG": ffmpeg}))
    batch.start()
    wait_for(lambda: list((tmp_path / "a").glob(".shot.partial.mp4")), timeout=120)
    assert movie_status(batch, 0) == "ENCODING"
    assert batch.cancel_job(0)
    assert batch.wait(120)
    jobs = batch.snapshot()["jobs"]
    assert jobs[0]["status"] == "CANCELLED" and jobs[0]["movie"]["status"] == "CANCELLED"
    assert "no partial movie left" in jobs[0]["messages"][-1]
    assert not list((tmp_path / "a").glob("*.mp4")) and not list((tmp_path / "a").glob(".*"))
    assert len(frames_of(tmp_path, "a")) == 3
    assert jobs[1]["status"] == "FINISHED"


def test_a_pause_during_the_encode_makes_only_the_movie_when_it_continues(tmp_path: Path) -> None:
    ffmpeg, hold = blocking_ffmpeg(tmp_path)
    batch = Batch(make_recipe([animation(tmp_path, "a")]), RunOptions(env={"RENDERPLUS_FFMPEG": ffmpeg}))
    batch.start()
    wait_for(lambda: list((tmp_path / "a").glob(".shot.partial.mp4")), timeout=120)
    rendered = frames_of(tmp_path, "a")
    assert batch.pause("now")
    wait_for(lambda: batch.status.value == "PAUSED", timeout=60)
    job = batch.snapshot()["jobs"][0]
    assert job["status"] == "QUEUED" and job["movie"]["status"] == "WAITING"
    assert "only the movie is made" in job["messages"][-1]
    assert not list((tmp_path / "a").glob(".*partial*"))
    hold.unlink()
    assert batch.resume_paused()
    assert batch.wait(120)
    job = batch.snapshot()["jobs"][0]
    assert job["status"] == "FINISHED" and job["movie"]["status"] == "DONE", job["messages"]
    assert frames_of(tmp_path, "a") == rendered      # no frame rendered twice
    assert probe(job["movie"]["path"]).frames == 3


def test_a_resume_makes_a_missing_movie_only_and_leaves_an_up_to_date_one(tmp_path: Path) -> None:
    work = tmp_path / "work"
    store = BatchStore.open(work)
    service = BatchService(work_dir=work, store=store)
    service.load_recipe(make_recipe([animation(tmp_path, "a"), animation(tmp_path, "b")]))
    assert service.start().wait(180)
    first = service.view()
    assert first is not None and [j.status for j in first.jobs] == ["FINISHED", "FINISHED"]
    movies = [Path(str(j.movie["path"])) for j in first.jobs if j.movie]
    rendered = frames_of(tmp_path, "a"), frames_of(tmp_path, "b")
    kept = movies[1].stat().st_mtime_ns
    movies[0].unlink()
    store.close()

    store = BatchStore.open(work)
    stored = store.latest()
    assert stored is not None and resumable(stored, store)      # offered: a movie is missing
    shown = Batch.restore(stored, store, RunOptions()).view()   # as it stands, before a resume
    assert [j.movie["status"] for j in shown.jobs if j.movie] == ["WAITING", "DONE"]
    service = BatchService(work_dir=work, store=store)
    batch = service.resume()
    assert batch.wait(180)
    view = batch.view()
    assert [j.status for j in view.jobs] == ["FINISHED", "FINISHED"]
    assert any("Its movie is missing" in m for m in view.jobs[0].messages)
    assert movies[0].exists() and probe(movies[0]).frames == 3
    assert movies[1].stat().st_mtime_ns == kept             # up to date: not made again
    assert (frames_of(tmp_path, "a"), frames_of(tmp_path, "b")) == rendered   # no frame again
    with pytest.raises(NothingToResumeError):
        service.resume()
    store.close()
    assert os.path.exists(movies[1])


def test_the_scenes_sound_is_in_the_movie_and_left_out_when_asked(tmp_path: Path) -> None:
    with_sound = blend_with_sound(tmp_path)

    def job(name: str, **encode: Any) -> dict[str, Any]:
        return {"blend_file": str(with_sound), "animated": True, "frame_start": 1, "frame_end": 12,
                "output": str(tmp_path / name / "shot_####"), "format": "PNG", "encode": encode}

    jobs = run([job("with", format="webm"), job("without", audio=False), job("other_rate", fps=12)])
    assert [j["status"] for j in jobs] == ["FINISHED"] * 3, [j["messages"] for j in jobs]
    movie = probe(jobs[0]["movie"]["path"])
    assert (movie.codec, movie.audio, movie.frames) == ("vp9", "opus", 12)
    assert movie.duration == pytest.approx(0.5, abs=0.06)            # 12 frames at 24 fps
    assert jobs[0]["movie"]["sound"] is True
    assert probe(jobs[1]["movie"]["path"]).audio is None and jobs[1]["movie"]["message"] == "sound off"
    other = probe(jobs[2]["movie"]["path"])
    assert other.audio is None and other.duration == pytest.approx(1.0, abs=0.1)  # 12 at 12 fps
    assert "is not the scene's 24" in jobs[2]["movie"]["message"]
