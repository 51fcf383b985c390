"""A job's movie as the farm job's last step, on a real Slurm cluster with real Blender and
FFmpeg: the encode is a second Slurm job depending on the array, its lines reach the runner
after the frames', and the movie lies beside the frames without them travelling back."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.executors import ExecEvent, Exited, FramesWritten, Output, Started
from renderplus.batch.executors.farm import SlurmEngine
from renderplus.batch.markers import MARKER_PREFIX, parse_marker
from tests.batch.conftest import make_recipe
from tests.farm.conftest import Farm
from tests.farm.test_farm_render import copy_blend, launch_for
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(300)
Factory = Callable[..., Path]


def recorded_sbatches(engine: SlurmEngine) -> list[list[str]]:
    """From now on, every ``sbatch`` command line the engine runs (the rest unchanged)."""
    seen: list[list[str]] = []
    run = engine._run

    def recording(argv: list[str], env: Any = None) -> str:
        if argv and argv[0] == "sbatch":
            seen.append(list(argv))
        return run(argv, env)

    engine._run = recording  # type: ignore[method-assign]
    return seen


def markers(events: list[ExecEvent]) -> list[dict[str, Any]]:
    found = []
    for event in events:
        if isinstance(event, Output) and event.line.startswith(MARKER_PREFIX):
            marker = parse_marker(event.line)
            if marker is not None:
                found.append(marker)
    return found


def probe(movie: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                          "stream=codec_name,nb_read_frames", "-of", "json", str(movie)],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    streams: list[dict[str, Any]] = json.loads(out)["streams"]
    assert len(streams) == 1, streams
    return streams[0]


@pytest.mark.parametrize("farm", ["slurm"], indirect=True)
def test_the_movie_is_made_on_the_farm_by_a_job_depending_on_the_array(
        farm: Farm, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
    assert farm.cluster is not None
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed")
    blend = copy_blend(blend_factory(frames=4), shared)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(shared / "shot" / "shot_"),
                           "format": "PNG", "animated": True, "frame_start": 1, "frame_end": 4,
                           "encode": {"format": "h264"}}])
    executor = farm.executor(shared, chunk_size=2, recipe=recipe)
    assert executor.makes_movies
    assert isinstance(executor.engine, SlurmEngine)
    sbatches = recorded_sbatches(executor.engine)
    events: list[ExecEvent] = []
    handle = executor.submit(launch_for(recipe, 0, tmp_path), events.append)
    exited = wait_for(lambda: [e for e in events if isinstance(e, Exited)], timeout=240)[0]
    assert exited.returncode == 0 and not exited.cancelled, exited

    movie = shared / "shot" / "shot.mp4"
    said = markers(events)
    made = [m for m in said if m["event"] == "movie"]
    assert len(made) == 1 and made[0]["path"] == str(movie) and made[0]["frames"] == 4, said
    assert not [m for m in said if m["event"] == "encode_failed"]
    assert probe(movie) == {"codec_name": "h264", "nb_read_frames": "4"}
    assert not list(movie.parent.glob(".*partial*"))
    # In order: every frame's event, then the encode's lines, and the end after them.
    last_frame = max(i for i, e in enumerate(events) if isinstance(e, FramesWritten))
    ready = next(i for i, e in enumerate(events) if isinstance(e, Output) and "encode_ready" in e.line)
    assert last_frame < ready and isinstance(events[-1], Exited)

    # A second Slurm job, queued after the array, kept in the manifest beside the array's id.
    assert handle.farm_id is not None
    manifest = executor._manifests.read(handle.farm_id)
    assert manifest is not None
    encode_id = manifest["encode"]["farm_id"]
    assert encode_id.isdigit() and encode_id != handle.farm_id
    array, encode = sbatches
    assert any(a.startswith("--array=0-1") for a in array)
    assert f"--dependency=afterok:{handle.farm_id}" in encode and "--kill-on-invalid-dep=yes" in encode
    state = farm.cluster.run("scontrol", "show", "job", "-o", encode_id)
    assert "JobState=COMPLETED" in state and "JobName=renderplus-job0-encode" in state
    log = Path(manifest["encode"]["log"])
    assert log.name == "encode.log" and '"event": "movie"' in log.read_text()


@pytest.mark.parametrize("farm", ["slurm"], indirect=True)
def test_a_failed_array_ends_the_job_and_its_encode_never_runs(
        farm: Farm, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
    cluster = farm.cluster
    assert cluster is not None
    blend = copy_blend(blend_factory(frames=2), shared)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(shared / "bad" / "bad_"),
                           "format": "PNG", "animated": True, "frame_start": 1, "frame_end": 2,
                           "camera": "NoSuchCamera", "encode": {"format": "h264"}}])
    executor = farm.executor(shared, chunk_size=2, recipe=recipe)
    events: list[ExecEvent] = []
    handle = executor.submit(launch_for(recipe, 0, tmp_path), events.append)
    exited = wait_for(lambda: [e for e in events if isinstance(e, Exited)], timeout=120)[0]
    assert exited.returncode != 0 and "chunk 0" in exited.detail, exited
    assert not [m for m in markers(events) if m["event"].startswith("encode")]
    assert handle.farm_id is not None
    manifest = executor._manifests.read(handle.farm_id)
    assert manifest is not None
    encode_id = manifest["encode"]["farm_id"]
    wait_for(lambda: "JobState=CANCELLED" in cluster.run("scontrol", "show", "job", "-o", encode_id),
             timeout=30)
    assert not (shared / "bad").exists() or not list((shared / "bad").glob("*.mp4"))
    assert not Path(manifest["encode"]["log"]).exists()    # it never started


@pytest.mark.parametrize("farm", ["slurm"], indirect=True)
def test_a_restarted_render_plus_reattaches_to_the_array_and_its_encode(
        farm: Farm, shared: Path, blend_factory: Factory, tmp_path: Path) -> None:
    blend = copy_blend(blend_factory(frames=3), shared)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(shared / "re" / "re_"),
                           "format": "PNG", "animated": True, "frame_start": 1, "frame_end": 3,
                           "encode": {"format": "ffv1"}}])
    before: list[ExecEvent] = []
    first = farm.executor(shared, chunk_size=1, recipe=recipe)
    handle = first.submit(launch_for(recipe, 0, tmp_path), before.append)
    wait_for(lambda: any(isinstance(e, Started) for e in before))
    first.detach()                                   # Render+ goes away; the farm goes on
    after: list[ExecEvent] = []
    second = farm.executor(shared, chunk_size=1, recipe=recipe)
    second.reattach(type(handle).from_json(handle.to_json()), after.append)
    exited = wait_for(lambda: [e for e in after if isinstance(e, Exited)], timeout=120)[0]
    assert exited.returncode == 0, exited
    movie = shared / "re" / "re.mkv"
    assert [m["path"] for m in markers(after) if m["event"] == "movie"] == [str(movie)]
    assert probe(movie) == {"codec_name": "ffv1", "nb_read_frames": "3"}
