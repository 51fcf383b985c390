"""A Blender that prints faster than Render+ reads (issue 19, item 5): the queue between the
output readers and the batch thread stays bounded without ever making Blender wait, no frame
marker, ``Saved:`` or error line is lost, and the ``--write-log`` file is capped, saying where.

The flood comes from a stand-in script: real Blender cannot print millions of lines on demand.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch import logfile
from renderplus.batch.eventqueue import PRESSURE_ENTRIES, RUN_KEPT, EventQueue
from renderplus.batch.executors import Exited, Output
from renderplus.batch.runner import Batch, RunOptions
from renderplus.batch.store import BatchStore
from tests.batch.conftest import frame_marker, make_recipe
from tests.frames import PNG
from tests.waiting import wait_for

Fake = Callable[[str], str]


def status(frame: int, sample: int) -> str:
    return (f"Fra:{frame} Mem:9.91M (Peak 10.83M) | Time:00:00.09 | Mem:0.76M, Peak:0.76M | "
            f"Scene, ViewLayer | Sample {sample}/100000")


def drain(events: EventQueue) -> list[str]:
    lines: list[str] = []
    while True:
        try:
            event = events.get(timeout=0)
        except queue.Empty:
            return lines
        assert isinstance(event, Output)
        lines.append(event.line)


# ---------------------------------------------------------------- the queue itself


def test_a_reader_that_keeps_up_gets_every_line_unfolded() -> None:
    events = EventQueue(pressure_entries=100)
    got: list[str] = []
    for sample in range(1000):
        events.put(Output(0, status(1, sample)))
        got += drain(events)
    assert got == [status(1, sample) for sample in range(1000)]
    assert events.take_dropped(0) == 0


def test_under_pressure_a_newer_status_line_supersedes_the_queued_one_of_its_frame() -> None:
    events = EventQueue(pressure_entries=10)
    kept = [f"Saved: '/out/{i}.png'" for i in range(5)]
    for index in range(5):
        for sample in range(10_000):
            events.put(Output(0, status(index + 1, sample)))
        events.put(Output(0, kept[index]))
        events.put(Output(0, frame_marker(index + 1, f"/out/{index}.png")))
        events.put(Output(0, "Error: something went wrong"))
    assert events.high_water < 40
    lines = drain(events)
    # every line that is not a superseded status line is there, in its order
    must = [line for line in lines if not line.startswith("Fra:")]
    assert must == [x for i in range(5) for x in (kept[i], frame_marker(i + 1, f"/out/{i}.png"),
                                                   "Error: something went wrong")]
    # the last status line of each frame came through, before that frame's Saved: line
    for index in range(5):
        position = lines.index(kept[index])
        assert lines[position - 1] == status(index + 1, 9999)
    assert events.take_dropped(0) == 5 * 10_000 - (len(lines) - 15)
    assert events.take_dropped(0) == 0


def test_under_pressure_noise_keeps_its_last_lines_and_other_jobs_keep_their_order() -> None:
    events = EventQueue(pressure_entries=4)
    for index in range(100_000):
        events.put(Output(0, f"\ufffd garbage {index} \ufffd"))
        if index % 25_000 == 0:
            events.put(Output(1, f"Saved: '/out/{index}.png'"))
    events.put(Exited(0, 0, 0.0))
    assert events.high_water < 20
    seen: list[object] = []
    while True:
        try:
            seen.append(events.get(timeout=0))
        except queue.Empty:
            break
    job0 = [e.line for e in seen if isinstance(e, Output) and e.job_id == 0]
    job1 = [e.line for e in seen if isinstance(e, Output) and e.job_id == 1]
    assert job0[-RUN_KEPT:] == [f"\ufffd garbage {i} \ufffd" for i in range(100_000 - RUN_KEPT, 100_000)]
    assert job1 == [f"Saved: '/out/{i}.png'" for i in range(0, 100_000, 25_000)]
    assert isinstance(seen[-1], Exited)


def test_get_waits_for_an_event_and_times_out_without_one() -> None:
    events = EventQueue()
    with pytest.raises(queue.Empty):
        events.get(timeout=0.01)
    threading.Timer(0.05, events.put, args=(Output(3, "hello"),)).start()
    assert events.get(timeout=10) == Output(3, "hello")


# ---------------------------------------------------------------- a batch flooded by Blender


FRAMES = 4
STATUS_LINES = 1_500_000


@pytest.mark.slow
def test_a_million_status_lines_keep_the_queue_bounded_every_frame_recorded_and_the_log_capped(
        tmp_path: Path, fake_blender: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    # Below what is logged for sure: the first PRESSURE_ENTRIES status lines (~100 bytes each)
    # are queued before any folding starts, however fast the batch thread reads.
    limit = 128 * 1024
    assert limit < PRESSURE_ENTRIES * 100
    monkeypatch.setattr(logfile, "LOG_LIMIT_BYTES", limit, raising=False)
    per_frame = STATUS_LINES // FRAMES
    fake = fake_blender(f"""
        pattern = sys.argv[sys.argv.index("-o") + 1]
        os.makedirs(os.path.dirname(pattern), exist_ok=True)
        write = sys.stdout.write
        for frame in range(1, {FRAMES} + 1):
            for sample in range({per_frame}):
                write("Fra:%d Mem:9.91M (Peak 10.83M) | Time:00:00.09 | Mem:0.76M, Peak:0.76M | "
                      "Scene, ViewLayer | Sample %d/{per_frame}\\n" % (frame, sample))
            path = pattern.replace("####", "%04d" % frame) + ".png"
            with open(path, "wb") as out:
                out.write({PNG!r})
            write("Saved: '%s'\\n" % path)
            write("RENDERPLUS> " + json.dumps({{"event": "frame", "frame": frame, "path": path}}) + "\\n")
            write(" Time: 00:01.00 (Saving: 00:00.01)\\n")
        sys.stdout.flush()
    """)
    blend = tmp_path / "scene.blend"
    blend.write_bytes(b"BLENDER stand-in")
    recipe = make_recipe([{"blend_file": str(blend), "animated": True, "frame_start": 1,
                           "frame_end": FRAMES, "output": str(tmp_path / "out" / "f_####")}],
                         blender_bin=fake)
    store = BatchStore.open(tmp_path / "work")
    batch = Batch(recipe, RunOptions(write_log=True, log_dir=str(tmp_path / "log")), store=store)
    highest = [0]
    batch.start()
    wait_for(lambda: batch.lifecycle.loop is not None, timeout=30)
    loop = batch.lifecycle.loop
    assert loop is not None

    def watch() -> None:
        while not batch.state.done.is_set():
            highest[0] = max(highest[0], loop._events.qsize())
            batch.state.done.wait(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert batch.wait(600)
    watcher.join(10)
    view = batch.view()
    assert view.jobs[0].status == "FINISHED", view.jobs[0].messages
    assert view.jobs[0].frames_done == FRAMES
    recorded = store.frames(batch.store_id or 0, 0)
    assert sorted(recorded) == list(range(1, FRAMES + 1))
    assert highest[0] < 10_000, f"{highest[0]} events queued at once"
    log = batch.log.path
    assert log is not None
    text = log.read_text()
    assert log.stat().st_size < limit + 64 * 1024
    assert "=== log cut" in text and f"the log reached its limit of {limit:,} bytes" in text
    assert "were left out after the cut" in text.splitlines()[-1]
    assert "batch FINISHED" in text  # section titles still come after the cut
    store.close()
