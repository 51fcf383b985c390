"""Run a scenario script in a fresh real Blender and read its result.

Each scenario runs in its own process (``import bpy`` happens there, never in pytest's own
process) with its own Blender user folders, so every test starts from a clean Blender with
nothing installed. The script prints one JSON result line (see ``scripts/harness.py``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).resolve().parent / "scripts"


def fake_blender(path: Path, version: str) -> Path:
    """A stand-in ``blender`` at ``path`` that says it is ``version`` (scripts/fake_blender.py)."""
    path.write_text(f'#!/bin/sh\nFAKE_BLENDER_VERSION={version} exec "{sys.executable}" '
                    f'"{SCRIPTS / "fake_blender.py"}" "$@"\n')
    path.chmod(0o755)
    return path
RESULT_PREFIX = "RENDERPLUS_TEST_RESULT "
BLENDER = shutil.which("blender") or "/usr/bin/blender"


EXTRA_BPY_ENV = "RENDERPLUS_EXTRA_BPY"


def has_bpy() -> bool:
    return importlib.util.find_spec("bpy") is not None


def bpy_pythons() -> list[str]:
    """Pythons with Blender as a module to run the scenarios with: this one (bpy 5.0 in the
    project venv), then any listed in ``$RENDERPLUS_EXTRA_BPY`` (``os.pathsep``-separated
    interpreters, e.g. a venv with bpy 4.2 LTS: ``python -m venv v42 && v42/bin/pip install
    'bpy>=4.2,<4.3'``)."""
    extra = [p for p in os.environ.get(EXTRA_BPY_ENV, "").split(os.pathsep) if p]
    return [sys.executable, *extra]


def python_id(python: str) -> str:
    """A short test id for an interpreter: ``bpy`` for this one, else its venv's folder name."""
    return "bpy" if python == sys.executable else f"bpy@{Path(python).parents[1].name}"


def parse_result(proc: subprocess.CompletedProcess[str], what: str) -> dict[str, Any]:
    """The scenario's JSON result; fail with Blender's output when there is none or it errored."""
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    tail = f"\n--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
    if not lines:
        pytest.fail(f"{what} printed no result (exit {proc.returncode}){tail}")
    result: dict[str, Any] = json.loads(lines[-1][len(RESULT_PREFIX):])
    if "error" in result:
        pytest.fail(f"{what} failed inside Blender:\n{result['error']}{tail}")
    result["_stdout"], result["_stderr"] = proc.stdout, proc.stderr
    return result


def run_in_group(command: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a process group of its own and, past ``timeout``, end the whole group:
    ``xvfb-run`` does not pass its signal on, so killing it alone would leave a GUI Blender
    running at full CPU for the rest of the suite."""
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            pytest.fail(f"{command[0]} ran past {timeout:.0f} s and was ended with its group"
                        f"\n--- stdout ---\n{out[-6000:]}\n--- stderr ---\n{err[-4000:]}")
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)   # whatever it left behind
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def run_bpy_script(script: str, args: dict[str, Any], workdir: Path, timeout: float = 300,
                   python: str = sys.executable) -> dict[str, Any]:
    """Run ``scripts/<script>`` with a bpy wheel (Blender as a module) in ``python``."""
    if python == sys.executable and not has_bpy():
        pytest.skip("the bpy wheel is not installed")
    if not Path(python).exists():
        pytest.fail(f"{python} (from ${EXTRA_BPY_ENV}) does not exist")
    user = workdir / "blender-user"
    user.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(user), "PYTHONDONTWRITEBYTECODE": "1",
           "XDG_STATE_HOME": str(workdir / "state-home"),  # the add-on's store: this test's own
           "XDG_CONFIG_HOME": str(workdir / "config-home")}  # its servers folder: no other's server
    proc = subprocess.run([python, str(SCRIPTS / script), json.dumps(args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=workdir)
    return parse_result(proc, f"{script} ({python_id(python)})")


def run_blender_script(script: str, args: dict[str, Any], workdir: Path, env: dict[str, str] | None = None,
                       timeout: float = 300) -> dict[str, Any]:
    """Run ``scripts/<script>`` in Debian's Blender 3.4 (``blender -b --factory-startup``)."""
    if shutil.which("blender") is None:
        pytest.skip("the blender executable is not installed")
    proc = subprocess.run(
        [BLENDER, "-b", "--factory-startup", "--python-exit-code", "1",
         "--python", str(SCRIPTS / script), "--", json.dumps(args)],
        capture_output=True, text=True, timeout=timeout, cwd=workdir,
        env={**os.environ, "XDG_STATE_HOME": str(workdir / "state-home"),
             "XDG_CONFIG_HOME": str(workdir / "config-home"), **(env or {})})
    return parse_result(proc, script)


def build_zip(out: Path) -> Path:
    """Run ``build.py --out <out>`` (fetches the wheel, validates) and return the zip."""
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    if proc.returncode != 0:
        pytest.fail(f"build.py failed:\n{proc.stdout}\n{proc.stderr}")
    (zip_path,) = out.glob("renderplus-*.zip")
    return zip_path
