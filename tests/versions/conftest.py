"""The version matrix: each test here runs once per real Blender executable.

Debian 12's 3.4.1 (``blender`` on PATH) and the newer Blenders ``scripts/blenders.sh`` makes,
handed over in ``$RENDERPLUS_TEST_BLENDERS`` (paths joined by ``:``; ``./run test`` sets it).
A version that is not there is skipped, with how to get it, except under CI (``$CI``), where a
missing version fails: the matrix must really run there. To add a version, add its Debian suite
to ``scripts/blenders.sh`` and its row to ``VERSIONS``.

The fixtures are made by 3.4 (``tests/blendfiles.py``): every newer Blender opens them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from renderplus.batch.preflight.binary import blender_version


@dataclass(frozen=True)
class Version:
    """What a test needs to know of one Blender version: measured facts, not guesses."""

    name: str            # major.minor
    eevee: str           # its EEVEE engine id
    denoiser: bool       # Debian's build has OpenImageDenoise


VERSIONS = (
    Version("3.4", "BLENDER_EEVEE", denoiser=False),
    Version("4.3", "BLENDER_EEVEE_NEXT", denoiser=False),
    Version("5.2", "BLENDER_EEVEE", denoiser=True),
)


@dataclass(frozen=True)
class BlenderUnderTest:
    version: Version
    path: str
    full_version: str


def _executables() -> dict[str, tuple[str, str]]:
    """major.minor -> (path, full version) for every Blender handed to the suite."""
    paths = [shutil.which("blender") or "/usr/bin/blender"]
    paths += [p for p in os.environ.get("RENDERPLUS_TEST_BLENDERS", "").split(os.pathsep) if p]
    found: dict[str, tuple[str, str]] = {}
    for path in paths:
        full = blender_version(path)[0] if os.access(path, os.X_OK) else None
        if full:
            found.setdefault(".".join(full.split(".")[:2]), (path, full))
    return found


_FOUND: dict[str, tuple[str, str]] | None = None


@pytest.fixture(scope="session", params=VERSIONS, ids=lambda version: version.name)
def blender(request: pytest.FixtureRequest) -> BlenderUnderTest:
    global _FOUND
    if _FOUND is None:
        _FOUND = _executables()
    version: Version = request.param
    if version.name not in _FOUND:
        why = (f"Blender {version.name} is not among the test Blenders "
               "($RENDERPLUS_TEST_BLENDERS): run scripts/blenders.sh, or ./run test")
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    path, full = _FOUND[version.name]
    return BlenderUnderTest(version, path, full)


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("version-fixtures")


def blender_script(blender: str, source: Path, target: Path, script: str) -> Path:
    """``source`` opened by ``blender``, changed by ``script`` (Python), saved as ``target``."""
    if not target.exists():
        code = script + f"\nimport bpy\nbpy.ops.wm.save_as_mainfile(filepath={str(target)!r})\n"
        result = subprocess.run([blender, "-b", str(source), "--factory-startup", "--python-exit-code",
                                 "1", "--python-expr", code], capture_output=True, text=True,
                                timeout=180)
        if result.returncode != 0 or not target.exists():
            raise RuntimeError(f"could not make {target}:\n{result.stdout}\n{result.stderr}")
    return target


Factory = Callable[..., Path]
