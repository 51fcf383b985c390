"""The frame reader's engine side without Blender: the previews' queue never makes its caller
wait, a failed preview is one log line, the helper is restarted after a hang and ended at the
end. A stand-in reader speaks the protocol for the faults a real Blender cannot produce on
demand (a hang, a death); the real one is tested in tests/server/test_dashboard_previews.py."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.frame_previews import GIVE_UP_AFTER, FramePreviews
from renderplus.batch.frame_reader import READER_FLAG, FrameReader, FrameReaderError
from tests.procs import is_alive
from tests.waiting import wait_for

LOOK = {"view_transform": "Filmic"}


class StandInReader:
    """Records requests; answers as told, or blocks until released."""

    def __init__(self, blender: str, answers: list[Any], gate: threading.Event) -> None:
        self.blender, self.answers, self.gate = blender, answers, gate
        self.asked: list[str] = []
        self.closed = False

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        self.gate.wait(30)
        self.asked.append(fields["frame"])
        answer = self.answers.pop(0) if self.answers else {"ok": True}
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    def close(self) -> None:
        self.closed = True


def previews_with(answers: list[Any], *, open_gate: bool = True, max_waiting: int = 8,
                  ) -> tuple[FramePreviews, list[str], list[StandInReader], threading.Event]:
    notes: list[str] = []
    readers: list[StandInReader] = []
    gate = threading.Event()
    if open_gate:
        gate.set()

    def factory(blender: str, env: Mapping[str, str] | None) -> Any:
        readers.append(StandInReader(blender, answers, gate))
        return readers[-1]

    return FramePreviews(notes.append, max_waiting=max_waiting, reader=factory), notes, readers, gate


def test_asking_never_waits_for_a_busy_reader_and_a_full_queue_drops_the_newest() -> None:
    previews, notes, readers, gate = previews_with([], open_gate=False, max_waiting=2)
    started = time.monotonic()
    for frame in range(6):
        previews.ask(f"/out/f_{frame}.exr", "blender", LOOK)
    assert time.monotonic() - started < 1.0
    wait_for(lambda: len(notes) >= 3)  # one in the reader, two waiting, the others dropped
    assert all("previews are waiting already" in note for note in notes)
    gate.set()
    previews.close()
    assert previews.join(10)
    assert len(readers[0].asked) == 6 - len(notes) and readers[0].closed


def test_a_failed_preview_is_one_line_and_the_next_is_made() -> None:
    previews, notes, readers, _ = previews_with([{"ok": False, "error": "OSError: unreadable"}])
    previews.ask("/out/a.exr", "blender", LOOK)
    previews.ask("/out/b.exr", "blender", LOOK)
    previews.close()
    assert previews.join(10)
    assert readers[0].asked == ["/out/a.exr", "/out/b.exr"]
    assert notes == ["No preview of /out/a.exr: OSError: unreadable"]


def test_a_reader_that_keeps_failing_is_given_up_for_the_batch() -> None:
    failures = [FrameReaderError("it ended")] * GIVE_UP_AFTER
    previews, notes, readers, _ = previews_with(list(failures))
    for frame in range(GIVE_UP_AFTER + 2):
        previews.ask(f"/out/f_{frame}.exr", "blender", LOOK)
    previews.close()
    assert previews.join(10)
    assert len(readers[0].asked) == GIVE_UP_AFTER and len(notes) == GIVE_UP_AFTER
    assert notes[-1].endswith("no more previews in this batch")


def test_one_reader_per_blender_binary() -> None:
    previews, _, readers, _ = previews_with([])
    for blender in ("/a/blender", "/b/blender", "/a/blender"):
        previews.ask("/out/f.exr", blender, LOOK)
    previews.close()
    assert previews.join(10)
    assert [(r.blender, len(r.asked), r.closed) for r in readers] == [
        ("/a/blender", 2, True), ("/b/blender", 1, True)]


def test_a_cancelled_batch_drops_the_waiting_previews() -> None:
    previews, _, readers, gate = previews_with([], open_gate=False)
    for frame in range(5):
        previews.ask(f"/out/f_{frame}.exr", "blender", LOOK)
    wait_for(lambda: readers)
    previews.close(drop_waiting=True)
    gate.set()
    assert previews.join(10)
    assert len(readers[0].asked) == 1 and readers[0].closed  # only the one being made
    previews.ask("/out/late.exr", "blender", LOOK)  # after the end: ignored
    assert len(readers[0].asked) == 1


# ---------------------------------------------------------------- the helper process

READER = """
argv = sys.argv
assert argv[argv.index("--") + 1] == "{flag}"
with open(os.environ["STARTS"], "a") as f:
    f.write(f"{{os.getpid()}}\\n")
print("Blender 9.9 (stand-in)", flush=True)
print("RENDERPLUS> " + json.dumps({{"event": "reader_ready"}}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    if request["frame"].endswith("hang.exr"):
        time.sleep(60)
    if request["frame"].endswith("die.exr"):
        print("Segmentation fault", flush=True)
        os._exit(139)
    print("noise", flush=True)
    print("RENDERPLUS> " + json.dumps({{"event": "answer", "id": request["id"], "ok": True,
                                        "preview": request["frame"] + ".jpg"}}), flush=True)
"""


@pytest.fixture
def stand_in(fake_blender: Callable[[str], str], tmp_path: Path) -> Callable[..., FrameReader]:
    starts = tmp_path / "starts"
    blender = fake_blender(READER.format(flag=READER_FLAG))

    def make(**kwargs: Any) -> FrameReader:
        return FrameReader(blender, {"STARTS": str(starts), "PATH": "/usr/bin:/bin"}, **kwargs)
    return make


def started_pids(reader: FrameReader) -> list[int]:
    assert reader.env is not None
    path = Path(reader.env["STARTS"])
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def test_the_reader_starts_on_first_need_and_answers_each_request(
        stand_in: Callable[..., FrameReader]) -> None:
    reader = stand_in()
    assert not reader.running and started_pids(reader) == []
    for name in ("a.exr", "b.exr"):
        answer = reader.request("preview", frame=name, look=None)
        assert answer["ok"] and answer["preview"] == name + ".jpg"
    assert len(started_pids(reader)) == 1  # one helper for both
    reader.close()
    wait_for(lambda: not is_alive(started_pids(reader)[0]))


def test_a_reader_that_hangs_is_ended_and_the_next_request_starts_a_new_one(
        stand_in: Callable[..., FrameReader]) -> None:
    reader = stand_in(request_timeout=1.0)
    with pytest.raises(FrameReaderError, match="took over 1 s to answer"):
        reader.request("preview", frame="hang.exr", look=None)
    first = started_pids(reader)[0]
    wait_for(lambda: not is_alive(first))
    assert reader.request("preview", frame="a.exr", look=None)["ok"]
    assert len(started_pids(reader)) == 2
    reader.close()


def test_a_reader_that_dies_says_its_last_words(stand_in: Callable[..., FrameReader]) -> None:
    reader = stand_in()
    with pytest.raises(FrameReaderError, match=r"it ended \(it said: Segmentation fault\)"):
        reader.request("preview", frame="die.exr", look=None)
    assert reader.request("preview", frame="a.exr", look=None)["ok"]
    reader.close()


def test_a_missing_blender_is_a_reader_error(tmp_path: Path) -> None:
    with pytest.raises(FrameReaderError, match="cannot start"):
        FrameReader(str(tmp_path / "no-blender")).request("preview", frame="a.exr", look=None)


OWNER = """
import sys
sys.path.insert(0, {root!r})
from renderplus.batch.frame_reader import FrameReader
reader = FrameReader({blender!r}, {{"STARTS": {starts!r}, "PATH": "/usr/bin:/bin"}})
assert reader.request("preview", frame="a.exr", look=None)["ok"]
print("asked", flush=True)
sys.stdin.read()
"""


def test_the_reader_dies_with_render_plus_even_after_a_sigkill(
        stand_in: Callable[..., FrameReader], tmp_path: Path) -> None:
    reader = stand_in()
    assert reader.env is not None
    script = OWNER.format(root=str(Path(__file__).resolve().parents[2]), blender=reader.blender,
                          starts=reader.env["STARTS"])
    owner = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None and owner.stdout.readline() == "asked\n"
        helper = started_pids(reader)[0]
        assert is_alive(helper)
        owner.kill()
        owner.wait(10)
        wait_for(lambda: not is_alive(helper), timeout=20)
    finally:
        owner.kill()
        owner.wait(10)
