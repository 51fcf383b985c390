"""``python3 server``: every flag of the usage text (docs/api.md, Command line), run as a subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.server import VERSION
from tests.procs import processes_with
from tests.server.helpers import (
    ROOT,
    SLEEP_HOOK,
    ServerProcess,
    call,
    cli,
    copy_addon,
    free_port,
    held_recipe,
    port_is_free,
    wait_for,
)

SPEC_FLAGS = ["--recipe", "--dry", "--check", "--serve", "--port", "--poll", "--list-gpus", "--poll-job",
              "--cancel", "--cancel-job", "--stop", "--print-stats", "--no-cleanup", "--write-log",
              "--print-debug", "--version", "--help"]
BLENDER = shutil.which("blender") or "/usr/bin/blender"


def write_recipe(folder: Path, jobs: list[dict[str, Any]], **top: Any) -> Path:
    for index, job in enumerate(jobs):
        job.setdefault("id", index)
        job.setdefault("name", f"job {index}")
    path = folder / "recipe.json"
    path.write_text(json.dumps({"version": 2.2, "name": "cli batch", "blender_bin": BLENDER,
                                "jobs": jobs, **top}))
    return path


@pytest.fixture
def tiny(blend_factory: Callable[..., Path], tmp_path: Path) -> Path:
    """A tiny real .blend copied beside the test's recipe (3 frames, Cycles, 4 samples)."""
    target = tmp_path / "scene.blend"
    shutil.copyfile(blend_factory(frames=3), target)
    return target


# ------------------------------------------------------------------ help, version, usage errors

def test_version_from_both_entry_points() -> None:
    assert cli("--version").stdout.strip() == f"server {VERSION} (Render+ batch server)"
    # ``cd renderplus && python3 server``: sys.path[0] is the server folder itself.
    result = subprocess.run([sys.executable, "server", "--version"], cwd=ROOT / "renderplus",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip().startswith(f"server {VERSION}")


def test_help_lists_every_flag_of_the_spec() -> None:
    result = cli("--help", env={"COLUMNS": "200"})
    assert result.returncode == 0
    assert "Render+ Batch rendering server." in result.stdout
    for flag in SPEC_FLAGS:
        assert flag in result.stdout, flag
    assert "Default is 7777" in result.stdout


@pytest.mark.parametrize("args, fragment", [
    (["--port", "1024"], "--port: must be from 1025 to 65535 (got 1024)"),
    (["--port", "65536", "--serve"], "must be from 1025 to 65535"),
    (["--port", "http"], "must be a number"),
    ([], "nothing to do"),
    (["--dry"], "--dry needs --recipe"),
    (["--check"], "--check needs --recipe"),
    (["--poll", "--cancel"], "cannot be combined"),
    (["--serve", "--stop"], "cannot be combined with --serve"),
    (["--dry", "--serve", "--recipe", "r.json"], "cannot be combined with --serve"),
    (["--poll-job", "-1"], "--poll-job"),
    (["--poll-job", "two"], "must be a job index"),
    (["--list-gpus", "/no/such/blender"], "no Blender executable"),
    (["--list-gpus", BLENDER, "--serve"], "cannot be combined"),
    (["--recipe", "/no/such/recipe.json"], "cannot read the recipe"),
    (["--bogus"], "unrecognized arguments"),
    (["--serve", "--host", "0.0.0.0"], "needs an access token"),
])
def test_usage_errors_exit_2_with_one_line(args: list[str], fragment: str) -> None:
    result = cli(*args, env={"RENDERPLUS_TOKEN": ""})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("server: error:") and fragment in lines[0]


def test_an_invalid_recipe_exits_2_listing_every_error(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, [{"blend_file": "a.blend", "frame_start": 5, "frame_end": 1},
                                     {"blend_file": "a.blend", "format": "GIFF"}])
    result = cli("--recipe", str(recipe))
    assert result.returncode == 2
    assert "jobs[0].frame_end" in result.stderr and "jobs[1].format" in result.stderr


# ------------------------------------------------------------------ --dry, --check, --list-gpus

def test_dry_prints_commands_and_stats_and_renders_nothing(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, [
        {"blend_file": "shots/a.blend", "output": "renders/a_", "animated": True, "frame_start": 1,
         "frame_end": 10, "engine": "CYCLES", "scene": "Main"},
        {"blend_file": "b.blend", "enabled": False},
        {"blend_file": "c.blend", "frame_still": 7, "cycles": {"device": "CUDA"}},
    ])
    result = cli("--recipe", str(recipe), "--dry")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Jobs: 3 (2 enabled, 1 disabled), 11 frames to render" in out
    assert f"{BLENDER} -b {tmp_path / 'shots' / 'a.blend'} -S Main -o '{tmp_path / 'renders' / 'a_####'}' " \
           f"-E CYCLES" in out
    assert "-s 1 -e 10 -a" in out
    assert re.search(r"c\.blend .*-f 7 -- --renderplus-job \S+\.json --cycles-device CUDA", out)
    assert "Job 1 'job 1': disabled, not rendered" in out
    assert not (tmp_path / "renders").exists()
    debug = cli("--recipe", str(recipe), "--dry", "--print-debug")
    assert "job settings" in debug.stdout and '"frames": "1-10"' in debug.stdout  # ranges, never lists


@pytest.mark.blender
@pytest.mark.slow
def test_check_passes_a_good_recipe_and_names_each_problem(tiny: Path, tmp_path: Path) -> None:
    good = write_recipe(tmp_path, [{"blend_file": tiny.name, "output": "out/a_"}])
    result = cli("--recipe", str(good), "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All checks passed" in result.stdout
    assert re.search(r"\(Blender \d+\.\d+", result.stdout)
    bad = write_recipe(tmp_path, [{"blend_file": tiny.name, "camera": "Nope"}, {"blend_file": "gone.blend"}])
    result = cli("--recipe", str(bad), "--check")
    assert result.returncode == 1
    assert "camera 'Nope' not found in scene 'Scene'" in result.stdout
    assert f".blend file not found: {tmp_path / 'gone.blend'}" in result.stdout
    assert "2 problems found" in result.stdout
    both = cli("--recipe", str(bad), "--check", "--dry")
    assert both.returncode == 1 and " -b " in both.stdout and "2 problems found" in both.stdout


@pytest.mark.blender
def test_list_gpus_with_the_real_blender() -> None:
    result = cli("--list-gpus", BLENDER)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "GPUS AVAILABLE FOR RENDERING"
    assert lines[1] == "-" * 80
    gpu_lines = [line for line in lines[2:] if " | Number: " in line]
    if gpu_lines:  # a machine with a GPU: numbered from 0 in the documented format
        assert [int(line.rsplit(" ", 1)[1]) for line in gpu_lines] == list(range(len(gpu_lines)))
    else:
        assert any(line.startswith("No GPU found: Blender ") for line in lines)
    assert re.search(r"^CPU: .+ \| Threads: \d+$", result.stdout, re.MULTILINE)


# ------------------------------------------------------------------ a batch in the foreground

@pytest.mark.blender
@pytest.mark.slow
def test_recipe_runs_in_the_foreground_and_exits_0(tiny: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, [
        {"blend_file": tiny.name, "output": "out/still_"},
        {"blend_file": tiny.name, "output": "out/anim_", "animated": True, "frame_start": 1, "frame_end": 2},
    ])
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = cli("--recipe", str(recipe), "--print-stats", "--no-cleanup", "--write-log",
                 "--log-dir", str(tmp_path / "logs"), "--print-debug", env={"TMPDIR": str(temp)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["anim_0001.png", "anim_0002.png",
                                                                     "still_0001.png"]
    assert "Batch FINISHED" in result.stdout and "2 finished" in result.stdout
    assert "BATCH STATS" in result.stdout and "Average job:" in result.stdout       # --print-stats
    assert len(list(temp.glob("renderplus-*job*"))) == 2                               # --no-cleanup
    logs = list((tmp_path / "logs").iterdir())                                        # --write-log
    assert len(logs) == 1 and re.fullmatch(r"renderplus_\d\d-\d\d-\d{4}-\d\d-\d\d-\d\d", logs[0].name)
    assert "Saved:" in logs[0].read_text()
    assert "[job 0]" in result.stderr                                                 # --print-debug


@pytest.mark.blender
@pytest.mark.slow
def test_without_no_cleanup_the_temp_folders_go(tiny: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, [{"blend_file": tiny.name, "output": "out/a_"}])
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = cli("--recipe", str(recipe), env={"TMPDIR": str(temp)})
    assert result.returncode == 0
    assert not list(temp.glob("renderplus-*job*"))
    assert not (tmp_path / "logs").exists()


@pytest.mark.blender
@pytest.mark.slow
def test_a_failed_job_exits_1(tiny: Path, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, [{"blend_file": tiny.name, "output": "out/a_", "camera": "Nope"},
                                     {"blend_file": tiny.name, "output": "out/b_"}])
    result = cli("--recipe", str(recipe))
    assert result.returncode == 1
    assert "job 0 failed: " in result.stdout and "Camera 'Nope' not found" in result.stdout
    assert (tmp_path / "out" / "b_0001.png").exists()


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_cancels_and_leaves_no_blender(blend_factory: Callable[..., Path], tmp_path: Path,
                                              sig: int, code: int) -> None:
    slow = tmp_path / f"slow-{sig}.blend"
    shutil.copyfile(blend_factory(samples=5000, size=(320, 240), frames=1), slow)
    recipe = write_recipe(tmp_path, [{"blend_file": slow.name, "output": "out/a_"}])
    process = subprocess.Popen([sys.executable, "-m", "renderplus.server", "--recipe", str(recipe)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: processes_with(str(slow)))
        process.send_signal(sig)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code
    assert "Batch CANCELLED" in out
    assert processes_with(str(slow)) == []


# ------------------------------------------------------------------ client flags

def test_client_flags_without_a_server_exit_1() -> None:
    port = str(free_port())
    for flag in (["--poll"], ["--poll-job", "0"], ["--cancel"], ["--cancel-job"], ["--stop"]):
        result = cli(*flag, "--port", port)
        assert result.returncode == 1, flag
        assert f"No Render+ server is running on 127.0.0.1:{port}" in result.stderr


def test_client_flags_on_an_idle_server_say_why_and_exit_1(serve: Callable[..., ServerProcess]) -> None:
    server = serve()
    for flag, message in ((["--poll"], "No batch has been run"),
                          (["--poll-job", "0"], "No batch has been run"),
                          (["--cancel"], "Not running a batch right now"),
                          (["--cancel-job"], "Not running a batch right now")):
        result = server.client(*flag)
        assert result.returncode == 1, flag
        assert message in result.stderr


def test_cancel_poll_and_stop_a_running_batch(serve: Callable[..., ServerProcess], tmp_path: Path) -> None:
    recipe = tmp_path / "held.json"
    recipe.write_text(json.dumps(held_recipe()))
    server = serve("--recipe", str(recipe))
    assert call(server.port, "GET", "/batch/start").code == 200
    wait_for(lambda: processes_with(SLEEP_HOOK))
    cancel = server.client("--cancel")
    assert cancel.returncode == 0 and "Batch cancelled" in cancel.stdout
    assert processes_with(SLEEP_HOOK) == []
    poll = server.client("--poll")
    assert poll.returncode == 1  # the batch ended cancelled
    assert "Batch CANCELLED" in poll.stdout
    assert call(server.port, "GET", "/batch/start").code == 200
    wait_for(lambda: processes_with(SLEEP_HOOK))
    # cancels the running batch first (docs/api.md, Stopping the server)
    stop = server.client("--stop")
    assert stop.returncode == 0 and f"Server on 127.0.0.1:{server.port} stopped" in stop.stdout
    code, out = server.finish()
    assert code == 0 and "Batch CANCELLED" in out and "Server stopped" in out
    assert port_is_free(server.port)
    assert processes_with(SLEEP_HOOK) == []


def test_the_token_is_needed_by_clients_too(serve: Callable[..., ServerProcess]) -> None:
    server = serve("--token", "tok-123", token="tok-123")
    # a client without the token (not the server's user: no saved token either) is refused
    refused = server.client("--stop", env={"RENDERPLUS_TOKEN": "", "XDG_CONFIG_HOME": "/nonexistent"})
    assert refused.returncode == 1 and "token" in refused.stderr
    assert server.process.poll() is None
    stopped = server.client("--stop", env={"RENDERPLUS_TOKEN": "tok-123"})
    assert stopped.returncode == 0
    assert server.finish()[0] == 0


def test_serving_on_a_taken_port_exits_1(serve: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = serve()
    result = cli("--serve", "--port", str(server.port), "--work-dir", str(tmp_path / "w"))
    assert result.returncode == 1
    assert "cannot listen" in result.stderr and "--stop" in result.stderr


def test_ctrl_c_stops_the_server(serve: Callable[..., ServerProcess]) -> None:
    server = serve()
    server.process.send_signal(signal.SIGINT)
    code, out = server.finish()
    assert code == 0 and "Server stopped" in out
    assert port_is_free(server.port)


# ------------------------------------------------------------------ an installed add-on, no pip

def test_python3_server_runs_from_an_installed_addon_with_the_bundled_wheel(tmp_path: Path) -> None:
    """A plain Python without Bottle, the add-on folder as Blender installs it (any folder name),
    the wheel the build bundles: ``python3 server --serve`` works."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None or subprocess.run([python, "-c", "import bottle"], capture_output=True).returncode == 0:
        pytest.skip("needs a system python3 without bottle installed")
    if subprocess.run([python, "-c", "import sys; assert sys.version_info >= (3, 10)"]).returncode != 0:
        pytest.skip("the system python3 is older than 3.10")
    addon = copy_addon(tmp_path / "addons", with_wheel=True, name="renderplus_1_0")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    server = ServerProcess(work_dir=tmp_path / "work", command=[python, "server"], cwd=addon, env=env)
    try:
        info = call(server.port, "GET", "/test").data
        assert info["version"] == VERSION
        stop = cli("--stop", "--port", str(server.port))
        assert stop.returncode == 0
        assert server.finish()[0] == 0
    finally:
        server.close()
