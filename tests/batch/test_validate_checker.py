"""The frame checker's engine side without Blender: every asked frame gets one verdict, in
order, through the sink; the reader is asked only where the request needs it; a reader that
fails never loses a frame (the structural verdict stands, one note); the settings key."""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.frame_checker import (
    CheckRequest,
    FrameChecked,
    FrameChecks,
    JobChecks,
    set_aside_invalid,
)
from renderplus.batch.frame_reader import FrameReaderError
from renderplus.batch.recipe import RecipeError, parse_recipe


class StandInReader:
    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.asked: list[dict[str, Any]] = []
        self.closed = False
        self.started = False

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        self.asked.append({"op": op, **fields})
        answer = self.answers.pop(0) if self.answers else {"ok": True, "problem": None}
        if isinstance(answer, Exception):
            raise answer
        return dict(answer)

    def start(self) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True


def checker(answers: list[Any], structural: Mapping[str, str] | None = None,
            gate: threading.Event | None = None,
            ) -> tuple[FrameChecks, queue.Queue[FrameChecked], list[StandInReader]]:
    verdicts: queue.Queue[FrameChecked] = queue.Queue()
    readers: list[StandInReader] = []
    problems = dict(structural or {})

    def factory(blender: str, env: Mapping[str, str] | None) -> Any:
        readers.append(StandInReader(answers))
        return readers[-1]

    def check(path: str) -> str | None:
        if gate is not None:
            gate.wait(30)
        return problems.get(path)

    return (FrameChecks(verdicts.put, reader=factory, check=check),
            verdicts, readers)


def test_every_frame_gets_one_verdict_in_order_and_the_asker_never_waits() -> None:
    gate = threading.Event()
    checks, verdicts, _ = checker([], {"/f/2.png": "truncated"}, gate)
    for frame in (1, 2, 3):
        checks.ask(CheckRequest(0, frame, (f"/f/{frame}.png",), "blender"))  # returns at once
    assert verdicts.empty()
    gate.set()
    got = [verdicts.get(timeout=30) for _ in range(3)]
    assert [(v.frame, v.problem) for v in got] == [(1, None), (2, "/f/2.png: truncated"), (3, None)]
    checks.close()
    assert checks.join(30)


def test_the_reader_is_asked_only_where_the_request_needs_it() -> None:
    checks, verdicts, readers = checker([{"ok": True, "problem": "layer ViewLayer.Combined cannot "
                                                                   "be read"}])
    checks.ask(CheckRequest(0, 1, ("/f/1.png",), "blender", decode=True))     # PNG: pure check
    checks.ask(CheckRequest(0, 2, ("/f/2.exr",), "blender", decode=False))    # not asked
    checks.ask(CheckRequest(0, 3, ("/f/3.exr",), "blender", decode=True))     # read back
    checks.ask(CheckRequest(0, 4, ("/f/4.png",), "blender", black=True))      # black/NaN
    got = [verdicts.get(timeout=30) for _ in range(4)]
    assert [v.problem for v in got] == [None, None,
                                        "/f/3.exr: layer ViewLayer.Combined cannot be read", None]
    assert [(a["frame"], a["black"], a["nan"]) for a in readers[0].asked] == [
        ("/f/3.exr", False, False), ("/f/4.png", True, True)]
    checks.close()
    assert checks.join(30) and readers[0].closed


def test_warm_starts_the_reader_ahead_of_the_first_frame_and_posts_nothing() -> None:
    checks, verdicts, readers = checker([])
    checks.warm("blender")
    checks.ask(CheckRequest(0, 1, ("/f/1.exr",), "blender", decode=True))
    assert verdicts.get(timeout=30).frame == 1
    assert len(readers) == 1 and readers[0].started and len(readers[0].asked) == 1
    checks.close()
    assert checks.join(30) and verdicts.empty()


def test_a_failing_reader_loses_no_frame_and_says_so_once() -> None:
    checks, verdicts, _ = checker([FrameReaderError("the frame reader (blender): it ended")] * 5)
    for frame in (1, 2, 3):
        checks.ask(CheckRequest(0, frame, (f"/f/{frame}.exr",), "blender", decode=True))
    got = [verdicts.get(timeout=30) for _ in range(3)]
    assert [v.problem for v in got] == [None, None, None]
    notes = [v.note for v in got if v.note]
    assert len(notes) == 1 and "it ended" in notes[0] and "structure only" in notes[0]
    checks.close()


def test_a_reader_without_the_check_op_falls_back_too() -> None:
    checks, verdicts, _ = checker([{"ok": False, "error": "ValueError: unknown request 'check'"}])
    checks.ask(CheckRequest(0, 1, ("/f/1.exr",), "blender", decode=True))
    verdict = verdicts.get(timeout=30)
    assert verdict.problem is None and verdict.note and "unknown request" in verdict.note
    checks.close()


def test_a_cancel_drops_the_waiting_checks() -> None:
    gate = threading.Event()
    checks, verdicts, _ = checker([], gate=gate)
    for frame in (1, 2, 3):
        checks.ask(CheckRequest(0, frame, (f"/f/{frame}.png",), "blender"))
    checks.close(drop_waiting=True)
    gate.set()
    assert checks.join(30)
    assert verdicts.qsize() <= 1     # at most the one under way when the cancel came
    checks.ask(CheckRequest(0, 4, ("/f/4.png",), "blender"))   # a later ask starts a worker again
    while (verdict := verdicts.get(timeout=30)).frame != 4:
        pass
    assert verdict.problem is None
    checks.close()


def test_a_bad_frames_files_are_set_aside_under_free_names(tmp_path: Path) -> None:
    frame = tmp_path / "f_0002.exr"
    (tmp_path / "f_0002.exr.invalid").write_bytes(b"first")
    frame.write_bytes(b"second")
    kept = set_aside_invalid([str(frame), str(tmp_path / "gone.png")])
    assert kept == [str(frame) + ".invalid-2"]
    assert not frame.exists() and (tmp_path / "f_0002.exr.invalid").read_bytes() == b"first"


def test_a_frame_bad_twice_is_named() -> None:
    checks = JobChecks(failed={3: 1, 7: 2}, problems={3: "a", 7: "b"})
    assert checks.twice() == (7, "b")
    assert JobChecks(failed={3: 1}, problems={3: "a"}).twice() is None


def recipe_with(settings: dict[str, Any]) -> Any:
    return parse_recipe({"version": 2.2, "name": "x", "settings": settings,
                         "jobs": [{"id": 0, "blend_file": "/x.blend"}]})


def test_the_validate_key() -> None:
    assert recipe_with({}).settings.validate is None          # only the structural check
    validate = recipe_with({"validate": {}}).settings.validate
    assert validate is not None and (validate.decode, validate.black) == (True, False)
    validate = recipe_with({"validate": {"decode": False, "black": True}}).settings.validate
    assert validate is not None and (validate.decode, validate.black) == (False, True)
    with pytest.raises(RecipeError) as caught:
        recipe_with({"validate": {"decode": "yes", "blak": True}})
    text = str(caught.value)
    assert "settings.validate.decode" in text


def test_the_outcome_leaves_the_files_the_checker_judged_to_it(tmp_path: Path) -> None:
    """A frame the checker set aside is not "missing after render" at the job's end."""
    from renderplus.batch.outcome import decide
    from renderplus.batch.parser import JobProgress
    from renderplus.batch.view import JobStatus
    path = str(tmp_path / "f_0001.png")
    progress = JobProgress((1,))
    progress.feed(f"Saved: '{path}'")
    assert decide(progress, 1, 0, cancelled=False).status is JobStatus.FAILED   # gone: missing
    assert decide(progress, 1, 0, cancelled=False, checked={path}).status is JobStatus.FINISHED
