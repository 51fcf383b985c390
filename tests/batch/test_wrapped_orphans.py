"""A dead Render+'s Blender, started through a wrapper, is still found and ended by recovery;
an unrelated process never is. Real Blender under real wrappers: one that ``exec``s
bubblewrap (``/proc`` then shows ``bwrap ... /usr/bin/blender ARGS`` for the recorded pid), and
a plain shell script that runs Blender as its child (``/bin/sh /path/wrapper ARGS``)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch import recovery, spawner
from renderplus.batch.executors import JobHandle
from renderplus.batch.process_identity import runs_recorded_command
from tests.procs import is_alive, pids_in_group
from tests.waiting import wait_for

BLENDER = "/usr/bin/blender"


@pytest.mark.parametrize("live, recorded, runs", [
    (("blender", "-b", "a.blend"), ("blender", "-b", "a.blend"), True),
    (("/bin/sh", "/w", "-b", "a.blend"), ("/w", "-b", "a.blend"), True),
    (("bwrap", "--dev-bind", "/", "/", BLENDER, "-b", "a.blend"), ("/w", "-b", "a.blend"), True),
    ((BLENDER, "--factory-startup", "-b", "x", "a.blend", "--y"), ("/w", "-b", "a.blend"), True),
    ((BLENDER, "-b", "b.blend"), ("/w", "-b", "a.blend"), False),
    ((BLENDER, "a.blend", "-b"), ("/w", "-b", "a.blend"), False),     # not in their order
    (("/w", "-b"), ("/w", "-b", "a.blend"), False),
    (("/w", "-b", "a.blend"), ("/w",), False),                          # nothing to compare
    (("sleep", "30"), ("sleep", "30"), True),
])
def test_a_wrapper_runs_the_recorded_command_when_it_keeps_its_arguments_in_order(
        live: tuple[str, ...], recorded: tuple[str, ...], runs: bool) -> None:
    assert runs_recorded_command(live, recorded) is runs


# ------------------------------------------------------------------ real wrappers, real Blender

WRAPPERS = {   # no --die-with-parent: with it bubblewrap dies with Render+, leaving no orphan
    "exec-bwrap": 'exec bwrap --dev-bind / / {blender} "$@"\n',
    "child": '{blender} "$@"\nexit $?\n',
}

_RENDERPLUS_SIDE = textwrap.dedent("""\
    import json, subprocess, sys
    from renderplus.batch import spawner
    argv = json.loads(sys.argv[1])
    child = subprocess.Popen(argv, start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(json.dumps({"pid": child.pid, "boot": spawner.boot_id(),
                      "ticks": spawner.start_ticks(child.pid)}), flush=True)
    child.wait()
    """)


class Orphan:
    """A wrapped Blender left by a killed "Render+" (a process that recorded its handle as the
    local executor does, then died by SIGKILL); its wrapper outlives it."""

    def __init__(self, wrapper: Path, job_file: Path) -> None:
        argv = (str(wrapper), "-b", "--factory-startup", "--python-expr",
                "import time; time.sleep(120)", "--", "--renderplus-config", str(job_file))
        side = subprocess.Popen([sys.executable, "-c", _RENDERPLUS_SIDE, json.dumps(argv)],
                                stdout=subprocess.PIPE, text=True,
                                cwd=str(Path(__file__).resolve().parents[2]))
        assert side.stdout is not None
        record = json.loads(side.stdout.readline())
        self.pid: int = record["pid"]   # the wrapper's: the recorded leader of the group
        self.handle = JobHandle("local", 0, pid=self.pid, pgid=self.pid,
                                boot_id=record["boot"], start_ticks=record["ticks"], argv=argv)
        self.blender = wait_for(self._blender, timeout=30)
        side.send_signal(signal.SIGKILL)   # Render+'s side dies; its wrapped Blender runs on
        side.wait(10)

    def _blender(self) -> int | None:
        for pid in pids_in_group(self.pid):
            if (spawner.cmdline(pid) or ("",))[0] == BLENDER:
                return pid
        return None

    def clean_up(self) -> None:
        for pid in pids_in_group(self.pid):
            subprocess.run(["kill", "-KILL", str(pid)], check=False)


@pytest.fixture
def orphans(tmp_path: Path) -> Iterator[list[Orphan]]:
    made: list[Orphan] = []
    yield made
    for orphan in made:
        orphan.clean_up()


@pytest.mark.blender
@pytest.mark.parametrize("kind, wrapper_gone", [("exec-bwrap", False), ("child", False),
                                                ("child", True)],
                         ids=["exec-bwrap", "child", "child-wrapper-gone"])
def test_recovery_ends_a_wrapped_orphan_and_never_an_unrelated_process(
        tmp_path: Path, orphans: list[Orphan], kind: str, wrapper_gone: bool) -> None:
    if kind == "exec-bwrap" and shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    wrapper = tmp_path / "blender"
    wrapper.write_text("#!/bin/sh\n" + WRAPPERS[kind].format(blender=BLENDER))
    wrapper.chmod(0o755)
    ours = Orphan(wrapper, tmp_path / "job0" / "job.json")
    orphans.append(ours)
    other = Orphan(wrapper, tmp_path / "job1" / "job.json")   # another job's: not ours to end
    orphans.append(other)
    recorded = spawner.cmdline(ours.pid)
    assert recorded is not None and recorded != ours.handle.argv   # the wrapper shows, not argv
    if wrapper_gone:
        subprocess.run(["kill", "-KILL", str(ours.pid)], check=True)
        wait_for(lambda: not is_alive(ours.pid), timeout=10)
    assert is_alive(ours.blender)

    # the other job's pid and start, with our argv: a reused pid is never ended
    posing = JobHandle("local", 0, pid=other.pid, pgid=other.pid,
                       boot_id=other.handle.boot_id, start_ticks=other.handle.start_ticks,
                       argv=ours.handle.argv)
    assert recovery._end_orphan(posing) is False
    # our pid with another start time (a process that reused it) is not ended either
    moved = JobHandle("local", 0, pid=ours.pid, pgid=ours.pid,
                      boot_id=ours.handle.boot_id, start_ticks=(ours.handle.start_ticks or 0) + 10**6,
                      argv=ours.handle.argv)
    assert recovery._end_orphan(moved) is False
    assert is_alive(ours.blender) and is_alive(other.blender)

    assert recovery._end_orphan(ours.handle) is True
    wait_for(lambda: not is_alive(ours.blender) and not pids_in_group(ours.pid), timeout=10)
    assert is_alive(other.blender) and is_alive(other.pid)
