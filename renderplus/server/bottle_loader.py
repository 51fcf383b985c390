"""Import Bottle from wherever this copy of Render+ can find it.

Three places, in order: an installed ``bottle`` (a developer's venv, or Blender 4.2+, which
installs the wheels an extension's manifest lists), then the wheel the add-on's build puts in
``renderplus/wheels/`` (a wheel is a zip, and Python imports pure modules from a zip on
``sys.path``), so ``python3 server`` works from an installed add-on folder on a machine where
nobody ran pip, and inside Blender 3.x, which does not install wheels.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

WHEELS_DIR = Path(__file__).resolve().parent.parent / "wheels"


class BottleMissingError(ImportError):
    """Neither an installed Bottle nor the add-on's bundled wheel was found."""


def bundled_wheels(wheels_dir: Path = WHEELS_DIR) -> list[Path]:
    """The Bottle wheels shipped beside the add-on, newest version first."""
    if not wheels_dir.is_dir():
        return []
    return sorted(wheels_dir.glob("bottle-*.whl"), key=_version_key, reverse=True)


def _version_key(wheel: Path) -> tuple[int, ...]:
    version = wheel.name.split("-")[1] if wheel.name.count("-") >= 2 else ""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def load_bottle(wheels_dir: Path = WHEELS_DIR) -> ModuleType:
    """The ``bottle`` module; raises BottleMissingError with what to do when there is none."""
    try:
        return importlib.import_module("bottle")
    except ImportError:
        pass
    for wheel in bundled_wheels(wheels_dir):
        entry = str(wheel)
        if entry not in sys.path:
            sys.path.append(entry)  # appended: never shadows anything already importable
        try:
            return importlib.import_module("bottle")
        except ImportError:
            sys.path.remove(entry)
    raise BottleMissingError(
        "The Render+ server needs Bottle: run 'pip install bottle', or run the server from the "
        f"installed add-on folder, whose wheels/ folder ({wheels_dir}) holds bottle-*.whl")


bottle = load_bottle()
