"""Bottle from an installed package, else from the add-on's bundled wheel, else a clear error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from renderplus.server.bottle_loader import bundled_wheels

from .helpers import copy_addon


def test_bundled_wheels_newest_first(tmp_path: Path) -> None:
    for version in ("0.12.25", "0.13.4", "0.13.10"):
        (tmp_path / f"bottle-{version}-py3-none-any.whl").write_bytes(b"")
    (tmp_path / "other-1.0-py3-none-any.whl").write_bytes(b"")
    assert [w.name.split("-")[1] for w in bundled_wheels(tmp_path)] == ["0.13.10", "0.13.4", "0.12.25"]
    assert bundled_wheels(tmp_path / "missing") == []


@pytest.fixture
def plain_python() -> str:
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None or subprocess.run([python, "-c", "import bottle"], capture_output=True).returncode == 0:
        pytest.skip("needs a system python3 without bottle installed")
    return python


def test_the_wheel_is_used_when_bottle_is_not_installed(plain_python: str, tmp_path: Path) -> None:
    addon = copy_addon(tmp_path, with_wheel=True)
    code = "from renderplus.server.bottle_loader import bottle; print(bottle.__file__)"
    result = subprocess.run([plain_python, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(addon / "wheels" / "bottle-0.13.4-py3-none-any.whl" / "bottle.py")


def test_without_bottle_anywhere_the_cli_says_what_to_do(plain_python: str, tmp_path: Path) -> None:
    addon = copy_addon(tmp_path, with_wheel=False)
    version = subprocess.run([plain_python, "server", "--version"], cwd=addon, capture_output=True, text=True,
                             timeout=60)
    assert version.returncode == 0  # only serving needs Bottle
    serve = subprocess.run([plain_python, "server", "--serve", "--port", "1025", "--work-dir", str(tmp_path)],
                           cwd=addon, capture_output=True, text=True, timeout=60)
    assert serve.returncode == 1
    assert "needs Bottle" in serve.stderr and "pip install bottle" in serve.stderr
