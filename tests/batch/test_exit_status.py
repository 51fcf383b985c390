"""A wrapper's 128+N is read as signal N (jobs, hooks, sessions), its raw status kept."""

from __future__ import annotations

import subprocess
import time

import pytest

from renderplus.batch.executors.base import Exited
from renderplus.batch.exit_status import ExitStatus
from renderplus.batch.hooks import HookResult
from renderplus.batch.outcome import decide, retryable
from renderplus.batch.parser import JobProgress


@pytest.mark.parametrize("raw, signal, wrapped", [
    (0, None, False), (1, None, False), (17, None, False), (128, None, False),
    (-11, 11, False), (-9, 9, False),
    (139, 11, True), (137, 9, True), (143, 15, True), (134, 6, True),
    (128 + 33, None, False),     # no signal 33 here (glibc keeps it): an exit code
    (255, None, False), (300, None, False),
])
def test_a_status_is_an_exit_code_or_a_signal(raw: int, signal: int | None, wrapped: bool) -> None:
    status = ExitStatus.of(raw)
    assert (status.raw, status.signal, status.wrapped) == (raw, signal, wrapped)


def test_the_sentence_keeps_1x_wording_for_a_direct_child_and_the_raw_status_for_a_wrapper() -> None:
    assert ExitStatus.of(2).describe() == "exit code 2"
    assert ExitStatus.of(-11).describe() == "killed by signal 11"
    assert ExitStatus.of(139).describe() == ("killed by signal 11, SIGSEGV; "
                                              "exit status 139 from its wrapper")
    assert ExitStatus.of(143).describe("its shell") == ("killed by signal 15, SIGTERM; "
                                                         "exit status 143 from its shell")


def test_what_a_real_shell_reports_for_a_killed_child_reads_as_that_signal() -> None:
    """The convention checked, not assumed: sh's status for a SEGV-killed command."""
    result = subprocess.run(["/bin/sh", "-c", "sh -c 'kill -SEGV $$'; exit $?"], check=False)
    assert ExitStatus.of(result.returncode).signal == 11 and result.returncode == 139


@pytest.mark.parametrize("code, how", [
    (139, "killed by signal 11, SIGSEGV; exit status 139 from its wrapper"),
    (137, "killed by signal 9, SIGKILL; exit status 137 from its wrapper"),
    (143, "killed by signal 15, SIGTERM; exit status 143 from its wrapper"),
    (-11, "killed by signal 11"),
])
def test_a_job_ended_by_a_signal_names_it_and_is_retried_like_a_crash(code: int, how: str) -> None:
    progress = JobProgress((1,))
    progress.feed("Fra:1 Mem:1M | Rendering")
    outcome = decide(progress, 1, code, cancelled=False)
    assert outcome.message is not None and outcome.message.startswith(f"Blender failed ({how}): ")
    assert outcome.retry
    assert retryable(Exited(0, code, time.time()), attempts=1, retries=1, cancelling=False)
    assert not retryable(Exited(0, code, time.time()), attempts=2, retries=1, cancelling=False)


def test_an_override_error_through_a_wrapper_is_still_not_retried() -> None:
    assert not retryable(Exited(0, 17, time.time()), attempts=1, retries=3, cancelling=False)
    assert not retryable(Exited(0, 0, time.time()), attempts=1, retries=3, cancelling=False)


def test_a_hooks_sentence_names_its_signal_or_that_it_could_not_run() -> None:
    assert HookResult("x", 139, "", "", False).failure("PRE_JOB") == (
        "PRE_JOB hook failed (killed by signal 11, SIGSEGV; exit status 139 from its shell): x")
    assert HookResult("x", 3, "out", "out", False).failure("POST_JOB") == (
        "POST_JOB hook failed (exit code 3): x -> out")
    assert HookResult("x", -1, "cannot run: No such file", "", False, started=False).failure(
        "PRE_JOB") == "PRE_JOB hook could not run: x -> cannot run: No such file"
