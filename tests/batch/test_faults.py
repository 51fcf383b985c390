"""Faults at the worst moment (issue 9): a full log disk, endless output, crashes, Render+ killed
during a hook or while Blender loads, leftovers of dead runs, frames Blender's command line
cannot express. Real Blender wherever a real one can produce the fault."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from renderplus.batch.paths import TEMP_PREFIX
from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe
from tests.mounts import small_tmpfs
from tests.procs import pids_in_group, processes_with
from tests.waiting import wait_for

pytestmark = pytest.mark.blender
Factory = Callable[..., Path]
Fake = Callable[[str], str]
ROOT = str(Path(__file__).resolve().parents[2])


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB disk that fills up."""
    with small_tmpfs(tmp_path / "tiny", "64k") as mount:
        yield mount


# ---------------------------------------------------------------- the log


@pytest.mark.slow
def test_a_full_log_disk_never_stops_the_batch(tmp_path: Path, blend_factory: Factory,
                                               fake_blender: Fake, tiny_disk: Path) -> None:
    # A talkative Blender: 400 KB of output fills the 64 KiB log disk early in the job.
    talk = fake_blender("""
        out = sys.argv[sys.argv.index("-o") + 1].replace("####", "0001") + ".png"
        for i in range(4000):
            print("Fra:1 Mem:1M (Peak 1M) | Time:00:00.01 | Sample %d/4000 " % i + "x" * 80)
        open(out, "wb").write(b"frame")
        print("Saved: '%s'" % out, flush=True)
    """)
    recipe = make_recipe([
        {"blend_file": str(blend_factory()), "output": str(tmp_path / "talk")},
        {"blend_file": str(blend_factory()), "output": str(tmp_path / "real"),
         "blender_bin": "blender"},  # the second job renders with the real Blender
    ], blender_bin=talk)
    batch = Batch(recipe, RunOptions(write_log=True, log_dir=str(tiny_disk)))
    assert batch.run() == "FINISHED"
    view = batch.view()
    assert [job.status for job in view.jobs] == ["FINISHED", "FINISHED"]
    stopped = [m for m in view.messages if "log file stopped" in m]
    assert len(stopped) == 1 and "No space left" in stopped[0]


# ---------------------------------------------------------------- output


def test_an_endless_output_line_is_cut_not_kept(tmp_path: Path, blend_factory: Factory,
                                                fake_blender: Fake) -> None:
    fake = fake_blender("""
        chunk = "y" * (1 << 20)
        for _ in range(40):                   # one 40 MB line, no newline until the end
            sys.stdout.write(chunk)
        sys.stdout.write("\\nError: the real reason\\n")
        sys.stdout.flush()
        sys.exit(3)
    """)
    recipe = make_recipe([{"blend_file": str(blend_factory())}], blender_bin=fake)
    batch = Batch(recipe)
    batch.run()
    body = batch.view().json_bytes
    assert len(body) < 200_000, "a poll must never carry the huge line"
    message = batch.view().job(0).messages[0]
    assert "the real reason" in message and len(message) < 5000


def test_hook_output_is_bounded(tmp_path: Path, blend_factory: Factory) -> None:
    hook = f"{sys.executable} -c \"import sys; [print('z' * 100000) for _ in range(200)]\""
    recipe = make_recipe([{"blend_file": str(tmp_path / "missing.blend")}],
                         hooks={"PRE_BATCH": [{"cmd": hook}]})
    batch = Batch(recipe)
    batch.run()
    (result,) = batch.view().hooks
    assert result.returncode == 0
    assert len(result.output) <= 4000


# ---------------------------------------------------------------- crashes


@pytest.mark.slow
def test_a_real_crash_keeps_blenders_crash_report(tmp_path: Path, blend_factory: Factory) -> None:
    crashing = tmp_path / "crashing-blender"
    crashing.write_text("#!/bin/sh\nexec blender --python-expr "
                        "'import ctypes; ctypes.string_at(0)' \"$@\"\n")
    crashing.chmod(0o755)
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / "o")}],
                         blender_bin=str(crashing), settings={"retries": 0})
    work = tmp_path / "work"
    batch = Batch(recipe, RunOptions(log_dir=str(work)))
    batch.run()
    job = batch.view().job(0)
    assert job.status == "FAILED"
    message = job.messages[0]
    assert "killed by signal" in message
    kept = list((work / "crash-reports").glob("*.crash.txt"))
    assert len(kept) == 1 and str(kept[0]) in message
    assert "Blender" in message.split("Crash report kept as", 1)[1]  # its first lines
    named = re.findall(r"(/[^\s:()']+\.crash\.txt)", message)   # no temporary path, gone since
    assert named and all(Path(path).exists() for path in named), message


def test_a_folder_named_like_a_blend_is_named_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "shot.blend"
    folder.mkdir()
    batch = Batch(make_recipe([{"blend_file": str(folder)}]))
    batch.run()
    assert batch.view().job(0).messages == (f"Blend file is a folder, not a .blend file: {folder}",)


def test_a_truncated_frame_is_flagged_and_set_aside(tmp_path: Path, blend_factory: Factory,
                                                    fake_blender: Fake) -> None:
    fake = fake_blender("""
        out = sys.argv[sys.argv.index("-o") + 1].replace("####", "0001") + ".png"
        open(out, "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + b"\\0" * 100)  # no IEND: cut short
        print("Saved: '%s'" % out, flush=True)
    """)
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / "f")}],
                         blender_bin=fake)
    batch = Batch(recipe)
    batch.run()
    job = batch.view().job(0)
    assert job.status == "FAILED"
    assert "truncated" in job.messages[0]
    assert not (tmp_path / "f_0001.png").exists()
    assert (tmp_path / "f_0001.png.truncated").exists()


# ---------------------------------------------------------------- cancel during a hook


def test_cancel_during_pre_job_hook_cancels_the_job(tmp_path: Path, blend_factory: Factory) -> None:
    recipe = make_recipe([
        {"blend_file": str(blend_factory()), "output": str(tmp_path / "a"),
         "hooks": {"PRE_JOB": [{"cmd": f"touch {tmp_path / 'hook-started'}; sleep 60"}]}},
        {"blend_file": str(blend_factory()), "output": str(tmp_path / "b")},
    ])
    batch = Batch(recipe, RunOptions(kill_grace=1.0))
    batch.start()
    wait_for(lambda: (tmp_path / "hook-started").exists())
    assert batch.cancel()
    assert batch.wait(20)
    view = batch.view()
    assert view.status == "CANCELLED"
    assert [job.status for job in view.jobs] == ["CANCELLED", "CANCELLED"]
    assert not any("failed" in m for m in view.messages)


def test_cancel_one_job_during_its_hook_goes_on(tmp_path: Path, blend_factory: Factory) -> None:
    recipe = make_recipe([
        {"blend_file": str(blend_factory()), "output": str(tmp_path / "a"),
         "hooks": {"PRE_JOB": [{"cmd": f"touch {tmp_path / 'hook-started'}; sleep 60"}]}},
        {"blend_file": str(blend_factory()), "output": str(tmp_path / "b")},
    ])
    batch = Batch(recipe, RunOptions(kill_grace=1.0))
    batch.start()
    wait_for(lambda: (tmp_path / "hook-started").exists())
    assert batch.cancel_current_job()
    assert batch.wait(60)
    assert [job.status for job in batch.view().jobs] == ["CANCELLED", "FINISHED"]


# ---------------------------------------------------------------- Render+ killed


_DRIVER = """
import sys, time, json
sys.path.insert(0, {root!r})
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import Batch, RunOptions
batch = Batch(parse_recipe(json.loads({recipe!r})), RunOptions(write_log=True, log_dir={logs!r}))
batch.start()
print("started", flush=True)
time.sleep(300)
"""


def start_driver(tmp_path: Path, recipe: dict[str, object]) -> subprocess.Popen[str]:
    source = _DRIVER.format(root=ROOT, recipe=json.dumps(recipe), logs=str(tmp_path / "logs"))
    driver = subprocess.Popen([sys.executable, "-c", source], stdout=subprocess.PIPE, text=True)
    assert driver.stdout is not None and driver.stdout.readline().strip() == "started"
    return driver


def kill(driver: subprocess.Popen[str]) -> None:
    driver.send_signal(signal.SIGKILL)
    driver.wait(10)


@pytest.mark.slow
def test_killed_during_a_hook_leaves_no_hook_running(tmp_path: Path, blend_factory: Factory) -> None:
    marker = f"renderplus-hook-{os.getpid()}-{time.time_ns()}"
    hook = f"touch {tmp_path / 'hook-started'}; sleep 300 # {marker}"
    driver = start_driver(tmp_path, {"version": 2.2, "jobs": [
        {"id": 0, "blend_file": str(blend_factory()), "hooks": {"PRE_JOB": [{"cmd": hook}]}}]})
    wait_for(lambda: (tmp_path / "hook-started").exists())
    assert processes_with(marker)
    kill(driver)
    wait_for(lambda: not processes_with(marker), timeout=10)


@pytest.mark.slow
def test_killed_while_blender_loads_leaves_no_blender(tmp_path: Path, blend_factory: Factory) -> None:
    """Blender still loading (its override script not yet running) dies with Render+."""
    loading = tmp_path / "slow-loading-blender"
    loading.write_text(f"#!/bin/sh\ntouch {tmp_path / 'loading'}\n"
                       "exec blender --python-expr 'import time; time.sleep(30)' \"$@\"\n")
    loading.chmod(0o755)
    driver = start_driver(tmp_path, {"version": 2.2, "blender_bin": str(loading), "jobs": [
        {"id": 0, "blend_file": str(blend_factory()), "output": str(tmp_path / "o")}]})
    wait_for(lambda: (tmp_path / "loading").exists())
    pgids = wait_for(lambda: {int(fields[2]) for pid, fields in _blenders_under(tmp_path)
                              if pid != driver.pid})  # Blender is up (exec'd by the wrapper)
    kill(driver)
    wait_for(lambda: all(not pids_in_group(g) for g in pgids), timeout=10)


def _blenders_under(tmp_path: Path) -> list[tuple[int, list[str]]]:
    from tests.procs import live_processes
    wanted = set(processes_with(str(tmp_path / "o")))
    return [(pid, fields) for pid, fields in live_processes() if pid in wanted]


@pytest.mark.slow
def test_a_killed_run_leaves_a_flushed_log_and_its_temp_folders_go_next_time(
        tmp_path: Path, blend_factory: Factory) -> None:
    slow = blend_factory(size=(320, 240), samples=4000, frames=3)
    driver = start_driver(tmp_path, {"version": 2.2, "jobs": [
        {"id": 0, "blend_file": str(slow), "output": str(tmp_path / "o")}]})
    logs = tmp_path / "logs"
    wait_for(lambda: any("Sample" in p.read_text() for p in logs.glob("renderplus_*")), timeout=60)
    leftovers = [p for p in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}{driver.pid}-job*")]
    assert leftovers
    kill(driver)
    (log_file,) = logs.glob("renderplus_*")
    assert "Sample" in log_file.read_text().splitlines()[-1]  # flushed up to the last line
    # the next run removes the dead run's temp folders
    Batch(make_recipe([{"blend_file": str(tmp_path / "none.blend")}])).run()
    assert not any(p.exists() for p in leftovers)


# ---------------------------------------------------------------- frames


@pytest.mark.slow
def test_frames_the_command_line_cannot_express(tmp_path: Path, blend_factory: Factory) -> None:
    """Negative frames and several runs are rendered by the job's script; hooks get the
    outputs in a file."""
    hook = f"cp \"$RENDERPLUS_OUTPUTS_FILE\" {tmp_path / 'outputs.txt'}"
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / "f_####"),
                           "frames": "-2..-1,3,5-7x2",
                           "hooks": {"POST_JOB": [{"cmd": hook}]}}])
    batch = Batch(recipe)
    batch.run()
    job = batch.view().job(0)
    assert job.status == "FINISHED", job.messages
    assert job.frames_total == job.frames_done == 5
    handle = batch.handle(0)
    assert handle is not None and "-f" not in handle.argv and "-a" not in handle.argv
    written = sorted(p.name for p in tmp_path.glob("f_*.png"))
    assert written == sorted(["f_-0002.png", "f_-0001.png", "f_0003.png", "f_0005.png", "f_0007.png"])
    listed = (tmp_path / "outputs.txt").read_text().split()
    assert sorted(Path(p).name for p in listed) == written


@pytest.mark.parametrize("output, expected", [
    ("Fra:1 Mem:9M | Sample 1/4\nSystem is out of GPU and shared host memory\n",
     "Blender failed (exit code 1): out of memory: System is out of GPU and shared host memory"),
    ("Read blend: /x.blend\nsomething odd happened here\n\n",
     "Blender failed (exit code 1): last output: Read blend: /x.blend | something odd happened here"),
])
def test_a_failed_job_says_why(tmp_path: Path, blend_factory: Factory, fake_blender: Fake,
                               output: str, expected: str) -> None:
    fake = fake_blender(f"sys.stdout.write({output!r}); sys.exit(1)")
    batch = Batch(make_recipe([{"blend_file": str(blend_factory())}], blender_bin=fake,
                              settings={"retries": 0}))
    batch.run()
    assert batch.view().job(0).messages == (expected,)
