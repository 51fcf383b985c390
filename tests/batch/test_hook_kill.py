"""A hook (or any owned child) that ignores SIGTERM is still ended: on cancel, when Render+
stops, and by the next Render+ after a kill -9 (docs/api.md, Hooks).

The processes of a test are found by a token of its own, in their command line or environment
(the hooks export it), so no test can mistake another's processes for its own."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch import process_groups, spawner
from renderplus.batch.hooks import HookResult, HookRunner
from renderplus.batch.process import OwnedProcess
from renderplus.batch.recipe import Hook
from renderplus.batch.store import BatchStore, Owner
from renderplus.batch.store.groups import StoredGroups, end_left_over, recorded
from tests.procs import process_state
from tests.waiting import wait_for

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs Linux's /proc")
BLENDER = shutil.which("blender") or "/usr/bin/blender"


def marked(token: str) -> list[int]:
    """Live processes (not zombies) with ``token`` in their command line or environment."""
    needle = token.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                if handle.read().rpartition(b")")[2].split()[0] == b"Z":
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                text = handle.read()
            with open(f"/proc/{entry}/environ", "rb") as handle:
                text += handle.read()
        except (OSError, IndexError):
            continue
        if needle in text:
            found.append(int(entry))
    return found


@pytest.fixture
def token() -> Iterator[str]:
    """A token for this test's processes; whatever still carries it afterwards is killed (and
    the test has failed already: every test asserts none is left)."""
    value = f"rptest{uuid.uuid4().hex}"
    yield value
    for pid in marked(value):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def stubborn(token: str, started: Path) -> str:
    """A hook that ignores SIGTERM and runs until killed (its ``sleep`` children too)."""
    return f"export RP_TEST_MARK={token}; trap '' TERM; touch {started}; while :; do sleep 1; done"


def run_hook(runner: HookRunner, cmd: str) -> tuple[threading.Thread, list[HookResult]]:
    results: list[HookResult] = []
    thread = threading.Thread(target=lambda: results.append(
        runner.run("PRE_JOB", Hook(cmd=cmd), dict(os.environ))), daemon=True)
    thread.start()
    return thread, results


# ---------------------------------------------------------------- without Blender


def test_a_hook_that_ignores_term_is_killed_after_the_grace(tmp_path: Path, token: str) -> None:
    started = tmp_path / "started"
    runner = HookRunner(lambda line: None, kill_grace=1.0)
    thread, results = run_hook(runner, stubborn(token, started))
    wait_for(started.exists, timeout=20)
    asked = time.monotonic()
    runner.stop()
    thread.join(15)
    assert not thread.is_alive(), "the hook runner still waits for the hook"
    assert time.monotonic() - asked < 1.0 + 5.0
    assert results[0].cancelled
    wait_for(lambda: not marked(token), timeout=5)


def test_a_grandchild_holding_the_pipe_does_not_hold_the_hook(tmp_path: Path, token: str) -> None:
    """The hook's own command ends, a background child that ignores TERM keeps its output pipe:
    the hook still ends, and the child with it."""
    runner = HookRunner(lambda line: None, kill_grace=1.0)
    cmd = f"(export RP_TEST_MARK={token}; trap '' TERM; while :; do sleep 1; done) & echo detached"
    thread, results = run_hook(runner, cmd)
    thread.join(15)
    assert not thread.is_alive(), "the hook runner waits for a pipe a grandchild holds"
    assert results[0].returncode == 0 and results[0].last_line == "detached"
    wait_for(lambda: not marked(token), timeout=5)


def test_a_hook_that_handles_term_still_cleans_up(tmp_path: Path) -> None:
    """The wrapper waits for the command after passing the TERM on: a hook's own clean-up runs
    to its end and its exit code is kept."""
    started = tmp_path / "started"
    runner = HookRunner(lambda line: None, kill_grace=10.0)
    cmd = (f"trap 'sleep 0.3; echo cleaned up; exit 3' TERM; touch {started}; "
           "while :; do sleep 0.1; done")
    thread, results = run_hook(runner, cmd)
    wait_for(started.exists, timeout=20)
    runner.stop()
    thread.join(15)
    assert results[0].cancelled and results[0].returncode == 3
    assert results[0].last_line == "cleaned up"


def test_the_group_kill_reaches_members_after_the_leader_has_gone(token: str) -> None:
    """The leader exits at the TERM, a member ignores it: SIGKILL after the grace still reaches
    the member (the group keeps its id while a member lives)."""
    script = (f"(export RP_TEST_MARK={token}; trap '' TERM; while :; do sleep 1; done) & "
              "trap 'exit 0' TERM; echo ready; wait")
    process = OwnedProcess(["/bin/sh", "-c", script])
    try:
        assert process.popen.stdout is not None
        assert process.popen.stdout.readline() == b"ready\n"
        wait_for(lambda: marked(token), timeout=10)
        process.terminate(0.5)
        wait_for(lambda: process_state(process.pid) in ("Z", None), timeout=10)  # leader gone
        wait_for(lambda: not marked(token), timeout=10)
    finally:
        process.kill_group_now()


def test_lines_are_cut_at_the_limit_as_before() -> None:
    """The reader that watches the leader cuts over-long lines as the line reader did."""
    process = OwnedProcess(["printf", "abcdefghij\\nabcd\\nabc\\nxy\\n123"])
    assert list(process.lines(max_line=4)) == ["abcd [...]", "abcd [...]", "abc", "xy", "123"]
    assert process.wait() == 0


def test_a_spawned_group_is_recorded_until_it_has_ended(tmp_path: Path, token: str) -> None:
    with BatchStore.open(tmp_path) as store:
        process_groups.keep_records_in(StoredGroups(store))
        started = tmp_path / "started"
        process = spawner.spawn(stubborn(token, started))
        wait_for(started.exists, timeout=20)
        records = {record.marker: record for record in recorded(store)}
        assert records[process.marker].pgid == process.pid
        assert records[process.marker].owner == Owner.current()
        assert "trap '' TERM" in records[process.marker].what
        process.terminate(0.5)
        assert list(process.lines()) == []
        process.wait()
        assert process.marker not in {record.marker for record in recorded(store)}
    assert not marked(token)


def test_a_render_plus_that_exits_leaves_no_hook_running(tmp_path: Path, token: str) -> None:
    """A Render+ exiting with a hook still running (its wait ran out) kills the hook's group:
    the parent-death SIGTERM alone would leave a hook that ignores it alive."""
    started = tmp_path / "started"
    program = ("import pathlib, sys, time\n"
               "from renderplus.batch import spawner\n"
               f"spawner.spawn({stubborn(token, started)!r})\n"
               f"while not pathlib.Path({str(started)!r}).exists():\n"
               "    time.sleep(0.05)\n"
               "sys.exit(0)\n")
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", program], cwd=root, check=True, timeout=60)
    wait_for(lambda: not marked(token), timeout=5)


def _left_running(token: str, marker: str) -> subprocess.Popen[bytes]:
    """A group as a dead Render+ leaves it: in its own session, marked, ignoring TERM."""
    env = {**os.environ, process_groups.GROUP_VAR: marker, "RP_TEST_MARK": token}
    return subprocess.Popen(["/bin/sh", "-c", "trap '' TERM; echo up; while :; do sleep 1; done"],
                            env=env, start_new_session=True, stdout=subprocess.PIPE)


def _insert(store: BatchStore, marker: str, pgid: int | None, owner: Owner) -> None:
    with store.transaction():
        store._live(store._writer).execute(
            "INSERT INTO process_groups VALUES (?, ?, 'a stubborn hook', 0, ?, ?, ?)",
            (marker, pgid, owner.pid, owner.boot_id, owner.start_ticks))


def test_a_restart_ends_the_groups_of_a_dead_owner_only(tmp_path: Path, token: str) -> None:
    gone_owner = Owner(2**22 + 17, spawner.boot_id(), 1)  # above any pid: long gone
    orphan = _left_running(f"{token}-orphan", "m-orphan")
    kept = _left_running(f"{token}-kept", "m-kept")
    try:
        for child in (orphan, kept):
            assert child.stdout is not None and child.stdout.readline() == b"up\n"
        with BatchStore.open(tmp_path) as store:
            _insert(store, "m-orphan", orphan.pid, gone_owner)
            _insert(store, "m-kept", kept.pid, Owner.current())   # a live Render+'s group
            _insert(store, "m-before-reboot", None, Owner(1, "another boot", 1))
            ended = end_left_over(store)
            assert [record.marker for record in ended] == ["m-orphan"]
            assert {record.marker for record in recorded(store)} == {"m-kept"}
        wait_for(lambda: not marked(f"{token}-orphan"), timeout=10)
        assert marked(f"{token}-kept")
    finally:
        for child in (orphan, kept):
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


# ---------------------------------------------------------------- with Blender, served
# (slow: each renders a real frame in a served process and waits out the 5 s grace)


def _recipe(blend: Path, out: Path, name: str, hooks: dict[str, Any] | None = None) -> dict[str, Any]:
    job: dict[str, Any] = {"id": 0, "name": "shot", "blend_file": str(blend), "output": str(out)}
    if hooks:
        job["hooks"] = hooks
    return {"version": 2.2, "name": name, "blender_bin": BLENDER, "jobs": [job]}


def _status(port: int) -> str:
    from tests.server.helpers import call
    return str(call(port, "GET", "/batch").data["status"])


@pytest.fixture
def blend(blend_factory: Callable[..., Path]) -> Path:
    return blend_factory()


@pytest.fixture
def served(serve: Callable[..., Any], own_config_folder: Path, blend: Path, tmp_path: Path,
           token: str) -> Callable[[], Any]:
    """``served()`` -> a server process whose batch renders a real frame, then runs a POST_JOB
    hook that ignores SIGTERM; returns once that hook runs."""
    from tests.server.helpers import call

    started = tmp_path / "hook-started"

    def start() -> Any:
        server = serve()
        hooks = {"POST_JOB": [{"cmd": stubborn(token, started)}]}
        recipe = _recipe(blend, tmp_path / "frame_", f"stubborn {token}", hooks)
        assert call(server.port, "POST", "/batch/recipe", recipe).code == 200
        assert call(server.port, "GET", "/batch/start").code == 200
        wait_for(started.exists, timeout=120)
        assert list(tmp_path.glob("frame_*.png"))   # Blender rendered before the hook
        return server

    return start


@pytest.mark.blender
@pytest.mark.slow
def test_cancel_ends_a_hook_that_ignores_term_and_a_new_batch_starts(
        served: Callable[[], Any], blend: Path, tmp_path: Path, token: str) -> None:
    from tests.server.helpers import call

    server = served()
    asked = time.monotonic()
    assert call(server.port, "DELETE", "/batch").code == 200
    wait_for(lambda: _status(server.port) == "CANCELLED", timeout=5.0 + 10.0, interval=0.1)
    assert time.monotonic() - asked < 5.0 + 10.0   # the grace (5 s), and a little
    wait_for(lambda: not marked(token), timeout=5)
    again = _recipe(blend, tmp_path / "again_", "after the cancel")
    assert call(server.port, "POST", "/batch/recipe", again).code == 200
    assert call(server.port, "GET", "/batch/start").code == 200
    wait_for(lambda: _status(server.port) == "FINISHED", timeout=120, interval=0.2)


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_server_leaves_nothing_of_the_hook(
        served: Callable[[], Any], token: str, sig: int) -> None:
    server = served()
    server.process.send_signal(sig)
    code, _ = server.finish(timeout=60)
    assert code == 0
    wait_for(lambda: not marked(token), timeout=5)


@pytest.mark.blender
@pytest.mark.slow
def test_a_restart_after_kill_9_ends_the_hook_left_running(
        served: Callable[[], Any], serve: Callable[..., Any], token: str) -> None:
    from tests.server.helpers import call

    server = served()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    # the parent-death signal is SIGTERM: the hook ignores it and lives on under PID 1
    assert marked(token)
    again = serve()
    wait_for(lambda: not marked(token), timeout=10)
    poll = call(again.port, "GET", "/batch").data
    assert any("process group(s) left running by the dead run" in message
               for message in poll["messages"]), poll["messages"]
