"""Progress within a frame that renders several view layers, each restarting its samples.

Synthetic lines follow the real 3.4.1 formats of ``fixtures/with-markers/`` (captured through
the real override script): Cycles names the layer (``Scene, Fg``), EEVEE and 5.x do not, so
there a sample count that drops within the frame (or ``Finished`` before it) means the next
layer. The last test renders a two-layer scene with the real Blender through the real runner.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.markers import format_marker, parse_marker
from renderplus.batch.parser import FRAME_FRACTION_CAP, JobProgress, parse_line
from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe

from .logs import FIXTURES, read_lines

CLOG = "00:04.230  render           | "


def ready(layers: Any, *, engine: str = "CYCLES", frames: Iterable[int] = (1,), samples: int = 8,
          scene: str = "Scene") -> str:
    return format_marker("ready", engine=engine, scene=scene, frames=list(frames), samples=samples,
                         blender="3.4.1", camera="Camera", layers=layers)


def cycles(frame: int, layer: str, status: str, scene: str = "Scene") -> str:
    """A Cycles 2.8x-4.x status line, as 3.4.1 prints it."""
    return (f"Fra:{frame} Mem:10.07M (Peak 10.83M) | Time:00:00.06 | Mem:0.80M, Peak:0.80M"
            f" | {scene}, {layer} | {status}")


def eevee(frame: int, done: int, todo: int = 8) -> str:
    return f"Fra:{frame} Mem:10.80M (Peak 11.91M) | Time:00:02.80 | Rendering {done} / {todo} samples"


def saved(frame: int) -> str:
    return f"Saved: '/out/f_{frame:04d}.png'"


def written(frame: int) -> str:
    return format_marker("frame", frame=frame, path=f"/out/f_{frame:04d}.png")


def expected(frames_done: int, layer: int, layer_share: float, layers: int, frames: int) -> float:
    """What progress must read: frames done plus the current frame's share over its layers."""
    frame_share = min((layer + layer_share) / layers, FRAME_FRACTION_CAP)
    return (frames_done + frame_share) * 100 / frames


def feed_checked(progress: JobProgress, lines: Iterable[str]) -> list[float]:
    """Feed ``lines``; progress never goes back and reads 100 only once every frame is done."""
    trace = []
    for line in lines:
        before = progress.progress
        progress.feed(line)
        value = progress.progress
        assert before <= value <= 100.0, line
        assert (value == 100.0) == (progress.frames_done == progress.frames_total), line
        trace.append(value)
    return trace


# -- Cycles: the status lines name the layer ----------------------------------------------------

def test_cycles_three_layers_share_each_frame() -> None:
    layers = ["ViewLayer", "Fg", "Bg"]
    progress = JobProgress(frames=[1, 2], engine="CYCLES")
    progress.feed(ready(layers, frames=[1, 2]))
    assert progress.layers == layers

    def at(line: str, frames_done: int, layer: int, share: float) -> None:
        progress.feed(line)
        assert progress.progress == pytest.approx(expected(frames_done, layer, share, 3, 2)), line

    at(cycles(1, "ViewLayer", "Synchronizing object | Cube"), 0, 0, 0.0)
    at(cycles(1, "ViewLayer", "Sample 0/8"), 0, 0, 0.0)
    at(cycles(1, "ViewLayer", "Sample 4/8"), 0, 0, 0.5)
    at(cycles(1, "ViewLayer", "Sample 8/8"), 0, 0, 1.0)
    at(cycles(1, "ViewLayer", "Finished"), 0, 0, 1.0)
    at(cycles(1, "Fg", "Synchronizing object | Cube"), 0, 1, 0.0)
    at(cycles(1, "Fg", "Sample 0/8"), 0, 1, 0.0)
    at(cycles(1, "Fg", "Sample 2/8"), 0, 1, 0.25)
    at(cycles(1, "Fg", "Finished"), 0, 1, 1.0)
    at(cycles(1, "Bg", "Sample 6/8"), 0, 2, 0.75)
    at(cycles(1, "Bg", "Sample 8/8"), 0, 2, 1.0)  # capped: the frame is not written yet
    assert progress.progress < 50.0
    at(saved(1), 1, 0, 0.0)
    at(written(1), 1, 0, 0.0)
    at(cycles(2, "ViewLayer", "Sample 0/8"), 1, 0, 0.0)  # a new frame starts at its first layer
    at(cycles(2, "ViewLayer", "Sample 8/8"), 1, 0, 1.0)
    at(cycles(2, "Fg", "Sample 4/8"), 1, 1, 0.5)
    at(cycles(2, "Bg", "Sample 8/8"), 1, 2, 1.0)
    assert progress.progress < 100.0
    feed_checked(progress, [saved(2), written(2)])
    assert progress.progress == 100.0


def test_cycles_layer_skipped_in_the_log_still_counts_as_done() -> None:
    """Starting layer 3 means layers 1 and 2 are done, even when their lines were missed."""
    progress = JobProgress(frames=[1], engine="")
    progress.feed(ready(["A", "B", "C"]))
    progress.feed(cycles(1, "A", "Sample 2/8"))
    progress.feed(cycles(1, "C", "Synchronizing object | Cube"))
    assert progress.progress == pytest.approx(200 / 3)


def test_cycles_views_of_one_layer_are_not_layers() -> None:
    """Multiview: Cycles adds the view (``Scene, Fg, left``) and restarts samples per view."""
    progress = JobProgress(frames=[1], engine="CYCLES")
    progress.feed(ready(["ViewLayer", "Fg"]))
    trace = feed_checked(progress, [
        cycles(1, "ViewLayer, left", "Sample 8/8"),
        cycles(1, "ViewLayer, right", "Sample 1/8"),  # a drop, but the same layer
        cycles(1, "ViewLayer, right", "Sample 8/8"),
    ])
    assert trace == [pytest.approx(50.0)] * 3
    progress.feed(cycles(1, "Fg, left", "Sample 4/8"))
    assert progress.progress == pytest.approx(75.0)


def test_cycles_names_with_commas() -> None:
    progress = JobProgress(frames=[1], engine="CYCLES")
    progress.feed(ready(["Beauty", "Fg, hair"], scene="Shot, 010"))
    progress.feed(cycles(1, "Beauty", "Sample 8/8", scene="Shot, 010"))
    assert progress.progress == pytest.approx(50.0)
    progress.feed(cycles(1, "Fg, hair", "Sample 2/8", scene="Shot, 010"))
    assert progress.progress == pytest.approx(62.5)


def test_cycles_tiles_2x_follow_layer_names() -> None:
    """2.7x-2.9x Cycles counts tiles, and names the layer too."""
    progress = JobProgress(frames=[1], engine="CYCLES")
    progress.feed(ready(["RenderLayer", "Fg"]))
    tiles = "Fra:1 Mem:7.95M (0.00M, Peak 8.06M) | Time:00:00.10 | Mem:0.44M, Peak:0.44M | Scene, {} | {}"
    progress.feed(tiles.format("RenderLayer", "Path Tracing Tile 64/64"))
    assert progress.progress == pytest.approx(50.0)
    progress.feed(tiles.format("Fg", "Path Tracing Tile 16/64"))
    assert progress.progress == pytest.approx(62.5)


def test_cycles_unknown_layer_names_fall_back_to_sample_resets() -> None:
    """The names in the lines match no listed layer (a renamed scene): the drop still counts."""
    progress = JobProgress(frames=[1], engine="CYCLES")
    progress.feed(ready(["ViewLayer", "Fg"], scene="Other"))
    progress.feed(cycles(1, "ViewLayer", "Sample 8/8"))
    progress.feed(cycles(1, "Fg", "Sample 2/8"))
    assert progress.progress == pytest.approx(62.5)


# -- EEVEE and 5.x: no names, a sample count that drops starts the next layer --------------------

def test_eevee_sample_reset_starts_the_next_layer() -> None:
    progress = JobProgress(frames=[1, 2], engine="BLENDER_EEVEE")
    progress.feed(ready(["A", "B", "C"], engine="BLENDER_EEVEE", frames=[1, 2]))

    def at(line: str, frames_done: int, layer: int, share: float) -> None:
        progress.feed(line)
        assert progress.progress == pytest.approx(expected(frames_done, layer, share, 3, 2)), line

    at("Fra:1 Mem:10.79M (Peak 11.91M) | Time:00:00.24 | Syncing Cube", 0, 0, 0.0)
    at(eevee(1, 1), 0, 0, 1 / 8)
    at(eevee(1, 8), 0, 0, 1.0)
    at("Fra:1 Mem:10.89M (Peak 11.91M) | Time:00:02.24 | Syncing Cube", 0, 0, 1.0)
    at(eevee(1, 1), 0, 1, 1 / 8)  # 8 -> 1: the second layer
    at(eevee(1, 4), 0, 1, 0.5)
    at(eevee(1, 4), 0, 1, 0.5)    # the same count again is not a new layer
    at(eevee(1, 2), 0, 2, 0.25)   # 4 -> 2: the third
    at(eevee(1, 8), 0, 2, 1.0)
    at(saved(1), 1, 0, 0.0)
    at(eevee(2, 1), 1, 0, 1 / 8)  # a new frame: its first layer, not the fourth
    at(eevee(2, 8), 1, 0, 1.0)
    at(eevee(2, 1), 1, 1, 1 / 8)


def test_eevee_more_resets_than_layers_stay_below_the_frame_end() -> None:
    """Stereo renders each view of each layer: more resets than layers must not finish the frame."""
    progress = JobProgress(frames=[1], engine="BLENDER_EEVEE")
    progress.feed(ready(["A", "B"], engine="BLENDER_EEVEE"))
    trace = feed_checked(progress, [eevee(1, n) for _ in range(4) for n in (1, 8)])
    assert trace[-1] == pytest.approx(FRAME_FRACTION_CAP * 100)
    assert trace[1] == pytest.approx(50.0) and trace[3] == pytest.approx(FRAME_FRACTION_CAP * 100)


def test_5x_cycles_finished_then_reset_is_one_layer() -> None:
    """5.x Cycles lines carry no layer name; ``Finished`` ends a layer and the drop after it
    starts the next: one step, not two."""
    progress = JobProgress(frames=[1], engine="")
    progress.feed(ready(["A", "B", "C"]))
    trace = feed_checked(progress, [
        CLOG + "Fra: 1 | Mem: 1450M | Sample 0/8",
        CLOG + "Fra: 1 | Mem: 1699M | Sample 8/8",
        CLOG + "Fra: 1 | Mem: 1699M | Finished",
        CLOG + "Fra: 1 | Mem: 1450M | Updating Scene BVH | Building",
        CLOG + "Fra: 1 | Mem: 1450M | Sample 0/8",
        CLOG + "Fra: 1 | Remaining: 00:01.00 | Mem: 1699M | Sample 4/8",
    ])
    assert trace == pytest.approx([0.0, 100 / 3, 100 / 3, 100 / 3, 100 / 3, 150 / 3])


def test_5x_adaptive_layer_ending_early_still_advances() -> None:
    """Adaptive sampling ends a layer short of N/N; ``Finished`` says it is done."""
    progress = JobProgress(frames=[1], engine="")
    progress.feed(ready(["A", "B"]))
    feed_checked(progress, [CLOG + "Fra: 1 | Mem: 1M | Sample 3/8", CLOG + "Fra: 1 | Mem: 1M | Finished"])
    assert progress.progress == pytest.approx(50.0)
    progress.feed(CLOG + "Fra: 1 | Mem: 1M | Sample 6/8")  # no drop, but the layer before finished
    assert progress.progress == pytest.approx(87.5)


# -- without layers (or one): as before ---------------------------------------------------------

EEVEE_TWO_LAYER_LINES = [eevee(1, 1), eevee(1, 8), eevee(1, 1), eevee(1, 4), eevee(1, 8), saved(1)]


@pytest.mark.parametrize("marker", [None, ready(["ViewLayer"], engine="BLENDER_EEVEE"),
                                    ready([], engine="BLENDER_EEVEE"),
                                    ready("ViewLayer", engine="BLENDER_EEVEE"),
                                    ready(["A", 2], engine="BLENDER_EEVEE")],
                         ids=["no-marker", "one-layer", "empty-list", "not-a-list", "not-names"])
def test_without_several_layers_the_frame_is_one_run(marker: str | None) -> None:
    progress = JobProgress(frames=[1], engine="BLENDER_EEVEE")
    if marker is not None:
        progress.feed(marker)
    assert len(progress.layers) <= 1
    trace = feed_checked(progress, EEVEE_TWO_LAYER_LINES)
    # the highest count so far holds while the unseen second layer renders
    assert trace == pytest.approx([100 / 8, 99.0, 99.0, 99.0, 99.0, 100.0])


def test_finished_without_layers_still_caps_the_frame() -> None:
    progress = JobProgress(frames=[1], engine="CYCLES")
    progress.feed(cycles(1, "ViewLayer", "Sample 2/8"))
    progress.feed(cycles(1, "ViewLayer", "Finished"))
    assert progress.progress == pytest.approx(99.0)


def test_a_non_compatible_engine_ignores_layers() -> None:
    progress = JobProgress(frames=[1], engine="")
    progress.feed(ready(["A", "B"], engine="LUXCORE"))
    feed_checked(progress, [eevee(1, 8), eevee(1, 1), eevee(1, 8)])
    assert progress.progress == 0.0


def test_scene_layer_field_of_a_multiview_line() -> None:
    event = parse_line(cycles(1, "ViewLayer, left", "Sample 3/16"))
    assert event is not None and event.scene_layer == "Scene, ViewLayer, left"
    assert event.samples_done == 3 and event.samples_todo == 16
    assert parse_line(eevee(1, 3)).scene_layer is None  # type: ignore[union-attr]


# -- monotonic whatever the order -----------------------------------------------------------------

def _random_job(rng: random.Random) -> tuple[list[int], list[str]]:
    """A plausible job's lines with random layer counts, sample counts, noise and reorderings."""
    frames = list(range(1, rng.randint(1, 3) + 1))
    layers = [f"L{i}" for i in range(rng.randint(2, 3))]
    engine = rng.choice(["CYCLES", "BLENDER_EEVEE", "CYCLES-5"])
    lines = [ready(layers, engine="BLENDER_EEVEE" if engine == "BLENDER_EEVEE" else "CYCLES",
                   frames=frames)]
    for frame in frames:
        for layer in layers:
            todo = rng.choice([1, 4, 16])
            steps = sorted(rng.sample(range(todo + 1), k=min(3, todo + 1)))
            for done in steps:
                if engine == "CYCLES":
                    lines.append(cycles(frame, layer, f"Sample {done}/{todo}"))
                elif engine == "CYCLES-5":
                    lines.append(CLOG + f"Fra: {frame} | Mem: 1M | Sample {done}/{todo}")
                else:
                    lines.append(eevee(frame, max(done, 1), todo))
            if engine != "BLENDER_EEVEE":
                lines.append(cycles(frame, layer, "Finished") if engine == "CYCLES"
                             else CLOG + f"Fra: {frame} | Mem: 1M | Finished")
        lines += [saved(frame), written(frame)]
    for _ in range(rng.randint(0, 4)):  # a few lines out of order
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return frames, lines


@pytest.mark.parametrize("seed", range(40))
def test_progress_is_monotonic_across_layers(seed: int) -> None:
    frames, lines = _random_job(random.Random(seed))
    progress = JobProgress(frames=frames, engine="")
    feed_checked(progress, lines)
    assert progress.progress == 100.0


# -- the real captures (Blender 3.4.1 through the real override script) -------------------------

@pytest.mark.parametrize(("name", "frames"), [("cycles-3.4-two-layers-anim.txt", 2),
                                              ("eevee-3.4-two-layers.txt", 1)])
def test_real_two_layer_capture(name: str, frames: int) -> None:
    lines = read_lines(FIXTURES / "with-markers" / name)
    progress = JobProgress(frames=[1], engine="")
    trace = feed_checked(progress, lines)
    assert progress.layers == ["ViewLayer", "Fg"]
    assert progress.frames_done == frames and trace[-1] == 100.0
    # the second layer of the first frame moves progress past its first half
    half = 50.0 / frames
    first_saved = next(i for i, line in enumerate(lines) if line.startswith("Saved: "))
    during_first_frame = trace[:first_saved]
    assert any(half < value < 2 * half for value in during_first_frame)
    first_layer_done = next(i for i, line in enumerate(lines)
                            if (event := parse_line(line)) is not None and event.samples_done == 8)
    assert trace[first_layer_done] == pytest.approx(half)


# -- the real Blender, through the real runner ------------------------------------------------------

@pytest.mark.blender
def test_two_layer_scene_through_the_runner(tmp_path: Path, blend_factory: Callable[..., Path]) -> None:
    blend = blend_factory(extra_layers=("Fg",), samples=16, size=(64, 48))
    recipe = make_recipe([{"blend_file": str(blend), "output": str(tmp_path / "out" / "vl")}])
    batch = Batch(recipe, RunOptions(write_log=True, log_dir=str(tmp_path / "log")))
    assert batch.run() == "FINISHED"
    job = batch.view().job(0)
    assert job.status == "FINISHED", job.messages
    assert job.progress == 100

    (log_file,) = (tmp_path / "log").iterdir()
    markers = [payload for line in log_file.read_text(encoding="utf-8").splitlines()
               if (payload := parse_marker(line)) is not None]
    readies = [payload for payload in markers if payload["event"] == "ready"]
    assert len(readies) == 1 and readies[0]["layers"] == ["ViewLayer", "Fg"], json.dumps(markers)

    # Replay what this Blender printed, line by line, as the runner fed it: every state a poll
    # could have seen, in order.
    progress = JobProgress(frames=recipe.jobs[0].frames, engine="CYCLES")
    seen: list[tuple[float, dict[str, str]]] = []
    for line in log_file.read_text(encoding="utf-8").splitlines():
        if progress.feed(line):
            seen.append((progress.progress, dict(progress.data)))
    values = [value for value, _ in seen]
    assert values == sorted(values) and values[-1] == 100
    # the first layer's last sample is half the frame, and the second layer moves on from there
    complete = [value for value, data in seen
                if data and data.get("samples_done") == data.get("samples_todo") == "16"]
    assert complete and complete[0] == pytest.approx(50.0)
    assert any(50.0 < value < 100.0 for value in values)
