"""outcome.decide and its helpers, called directly: every way a job's render can end.

Each case feeds the parser the lines Blender would print, then asks how the job ended with
the exit code the process had (negative: the signal that killed it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from renderplus.batch.markers import OVERRIDE_EXIT_CODE, format_marker
from renderplus.batch.outcome import Outcome, decide, first_bad_output, frame_problem, keep_crash_report
from renderplus.batch.parser import JobProgress
from renderplus.batch.view import JobStatus

PNG_END = b"IEND\xaeB`\x82"


def whole_png(path: Path) -> str:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32 + PNG_END)
    return str(path)


def fed(*lines: str, frames: tuple[int, ...] = (1,)) -> JobProgress:
    progress = JobProgress(frames)
    for line in lines:
        progress.feed(line)
    return progress


def written(frame: int, path: str) -> str:
    return format_marker("frame", frame=frame, path=path)


# ------------------------------------------------------------------ cancelled

def test_a_cancelled_job_is_cancelled_whatever_its_exit() -> None:
    for code in (0, 1, -15):
        assert decide(fed(), 1, code, cancelled=True) == Outcome(JobStatus.CANCELLED,
                                                                  "Cancelled while rendering")


# ------------------------------------------------------------------ a non-zero exit

def test_an_exit_code_names_the_code_and_blenders_errors() -> None:
    outcome = decide(fed("Error: Cannot read file '/x.blend'"), 1, 1, cancelled=False)
    assert outcome.status is JobStatus.FAILED
    assert outcome.message == "Blender failed (exit code 1): Error: Cannot read file '/x.blend'"


def test_a_signal_is_named_as_such() -> None:
    outcome = decide(fed("Fra:1 Mem:1M | Rendering"), 1, -9, cancelled=False)
    assert outcome.status is JobStatus.FAILED
    assert outcome.message is not None and outcome.message.startswith("Blender failed (killed by signal 9): ")


def test_a_known_fatal_message_comes_first_and_is_not_repeated() -> None:
    progress = fed("Error: early problem", "Out of memory in cuMemAlloc(&device_pointer, size)")
    outcome = decide(progress, 1, -6, cancelled=False)
    assert progress.fatal_kind is not None
    assert outcome.message == (f"Blender failed (killed by signal 6): {progress.fatal_kind.value}: "
                               f"{progress.fatal_message}; Error: early problem")
    assert outcome.message.count(str(progress.fatal_message)) == 1


def test_only_the_last_three_errors_are_quoted() -> None:
    outcome = decide(fed(*(f"Error: problem {i}" for i in range(6))), 1, 1, cancelled=False)
    assert outcome.message == ("Blender failed (exit code 1): "
                               "Error: problem 3; Error: problem 4; Error: problem 5")


def test_without_errors_the_last_output_lines_are_quoted() -> None:
    outcome = decide(fed(*(f"line {i}" for i in range(8))), 1, 2, cancelled=False)
    assert outcome.message == ("Blender failed (exit code 2): last output: "
                               "line 3 | line 4 | line 5 | line 6 | line 7")


def test_with_no_output_at_all_it_says_so_and_adds_the_crash_note() -> None:
    outcome = decide(fed(), 1, -11, cancelled=False, crash_note=". Crash report kept as /k: x")
    assert outcome.message == ("Blender failed (killed by signal 11): no error message. "
                               "Crash report kept as /k: x")


def test_a_job_the_script_stopped_says_the_scripts_sentence_without_the_exit_code() -> None:
    said = "Override 'render.fpz': the scene's render has no 'fpz' (did you mean 'fps'?)"
    outcome = decide(fed("Blender 3.4.1", format_marker("error", message=said)), 1,
                     OVERRIDE_EXIT_CODE, cancelled=False)
    assert outcome == Outcome(JobStatus.FAILED, said, retry=False)


def test_blenders_own_errors_follow_the_scripts_sentence() -> None:
    progress = fed("Error: Cannot render", format_marker("error", message="Rendering frame 3 failed"))
    outcome = decide(progress, 1, OVERRIDE_EXIT_CODE, cancelled=False)
    assert outcome.message == "Rendering frame 3 failed; Error: Cannot render"


def test_a_script_that_raised_without_a_sentence_says_so_in_words() -> None:
    outcome = decide(fed("Traceback (most recent call last):", "KeyError: 'frames'"), 1,
                     OVERRIDE_EXIT_CODE, cancelled=False)
    assert outcome.message == ("Render+'s script inside Blender stopped with an error: last output: "
                               "Traceback (most recent call last): | KeyError: 'frames'")
    assert "exit code" not in outcome.message


def test_a_signal_is_named_even_after_a_scripts_sentence() -> None:
    outcome = decide(fed(format_marker("error", message="x")), 1, -9, cancelled=False)
    assert outcome.message is not None and outcome.message.startswith("Blender failed (killed by signal 9)")


# ------------------------------------------------------------------ exit 0

def test_every_frame_written_whole_is_finished(tmp_path: Path) -> None:
    paths = [whole_png(tmp_path / f"f{i}.png") for i in (1, 2)]
    progress = fed(written(1, paths[0]), written(2, paths[1]), frames=(1, 2))
    assert decide(progress, 2, 0, cancelled=False) == Outcome(JobStatus.FINISHED)


def test_missing_frames_fail_with_the_count_and_the_last_errors(tmp_path: Path) -> None:
    path = whole_png(tmp_path / "f1.png")
    progress = fed(written(1, path), "Error: frame 2 could not be saved", frames=(1, 2, 3))
    outcome = decide(progress, 3, 0, cancelled=False)
    assert outcome.status is JobStatus.FAILED
    assert outcome.message == ("Blender exited without writing every frame: 1 of 3 written "
                               "(Error: frame 2 could not be saved)")
    assert decide(fed(frames=(1,)), 1, 0, cancelled=False).message == (
        "Blender exited without writing every frame: 0 of 1 written")


def test_a_reported_output_that_is_not_there_fails_the_job(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.png")
    outcome = decide(fed(written(1, missing)), 1, 0, cancelled=False)
    assert outcome.status is JobStatus.FAILED
    assert outcome.message == f"Output file missing after render: {missing}"


def test_a_truncated_frame_fails_the_job_and_is_set_aside(tmp_path: Path) -> None:
    cut = tmp_path / "cut.png"
    cut.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)  # no IEND: the disk filled up
    outcome = decide(fed(written(1, str(cut))), 1, 0, cancelled=False)
    assert outcome.status is JobStatus.FAILED
    assert outcome.message == f"Output file {cut} is truncated (disk full?) (kept as {cut}.truncated)"
    assert not cut.exists() and (tmp_path / "cut.png.truncated").exists()


# ------------------------------------------------------------------ the helpers

@pytest.mark.parametrize("content, problem", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "truncated"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40 + PNG_END, None),
    (b"\xff\xd8\xff\xe0" + b"\0" * 40, "truncated"),
    (b"\xff\xd8\xff\xe0" + b"\0" * 40 + b"\xff\xd9", None),
    (b"OpenEXR or any other format", None),  # not checked beyond being non-empty
])
def test_frame_problem(tmp_path: Path, content: bytes, problem: str | None) -> None:
    path = tmp_path / "frame"
    path.write_bytes(content)
    assert frame_problem(str(path)) == problem


def test_an_unreadable_frame_is_named(tmp_path: Path) -> None:
    problem = frame_problem(str(tmp_path / "none"))
    assert problem is not None and problem.startswith("unreadable (")


def test_first_bad_output_stops_at_the_first(tmp_path: Path) -> None:
    good = whole_png(tmp_path / "good.png")
    assert first_bad_output([good, good]) is None
    assert first_bad_output([good, str(tmp_path / "a"), str(tmp_path / "b")]) == (
        f"Output file missing after render: {tmp_path / 'a'}")


def test_a_crash_report_is_kept_and_quoted(tmp_path: Path) -> None:
    job_tmp = tmp_path / "job"
    job_tmp.mkdir()
    (job_tmp / "scene.crash.txt").write_text("\n".join(f"frame {i}" for i in range(10)) + "\n")
    note = keep_crash_report(str(job_tmp), tmp_path / "kept", 4)
    kept = list((tmp_path / "kept").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith("job4-") and kept[0].name.endswith("scene.crash.txt")
    assert note == f". Crash report kept as {kept[0]}: " + " | ".join(f"frame {i}" for i in range(6))
    assert not (job_tmp / "scene.crash.txt").exists()


def test_no_crash_report_no_note(tmp_path: Path) -> None:
    assert keep_crash_report(str(tmp_path), tmp_path / "kept", 0) == ""
    assert keep_crash_report(str(tmp_path / "no-such-folder"), tmp_path / "kept", 0) == ""
    assert not (tmp_path / "kept").exists()
