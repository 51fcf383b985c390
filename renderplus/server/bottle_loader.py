"""Import Bottle from wherever this copy of Render+ can find it.

Three places, in order: an installed ``bottle`` (a developer's venv, or Blender 4.2+, which
installs the wheels an extension's manifest lists), then the wheel the add-on's build puts in
``renderplus/wheels/`` (``renderplus.batch.wheel_imports``: a wheel is a zip, and Python imports
pure modules from a zip on ``sys.path``), so ``python3 server`` works from an installed add-on
folder on a machine where nobody ran pip, and inside Blender 3.x, which does not install wheels.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from ..batch import wheel_imports
from ..batch.wheel_imports import WHEELS_DIR


class BottleMissingError(ImportError):
    """Neither an installed Bottle nor the add-on's bundled wheel was found."""


def bundled_wheels(wheels_dir: Path = WHEELS_DIR) -> list[Path]:
    """The Bottle wheels shipped beside the add-on, newest version first."""
    return wheel_imports.bundled_wheels("bottle", wheels_dir)


def load_bottle(wheels_dir: Path = WHEELS_DIR) -> ModuleType:
    """The ``bottle`` module; raises BottleMissingError with what to do when there is none."""
    try:
        return wheel_imports.import_bundled("bottle", wheels_dir=wheels_dir)
    except ImportError:
        raise BottleMissingError(
            "The Render+ server needs Bottle: run 'pip install bottle', or run the server from the "
            f"installed add-on folder, whose wheels/ folder ({wheels_dir}) holds bottle-*.whl") from None


bottle = load_bottle()
