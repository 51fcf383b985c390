"""Import a pure-Python library from the wheels this copy of Render+ ships, when it is not
installed.

The add-on's build puts wheels in ``renderplus/wheels/`` (Bottle for the server, Blender Asset
Tracer for the farm's packing). Blender 4.2+ installs the wheels an extension's manifest lists;
Blender 3.x and 4.0-4.1 installs of the legacy add-on, and ``python3 server`` run from an
installed add-on folder, install nothing. A wheel is a zip, and Python imports pure modules from
a zip on ``sys.path``: so the newest bundled wheel of the library whose ``Requires-Python``
admits the running Python is appended to ``sys.path`` (appended: it never shadows anything
already importable). A library may ship one wheel per Python range (Blender Asset Tracer 1.23
needs Python 3.11, 1.20 is the last for 3.9-3.10); the wheel's own metadata decides.
"""

from __future__ import annotations

import importlib
import re
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

WHEELS_DIR = Path(__file__).resolve().parent.parent / "wheels"
_SPECIFIER = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*([0-9][0-9.*]*)\s*$")


def bundled_wheels(distribution: str, wheels_dir: Path = WHEELS_DIR) -> list[Path]:
    """The wheels of ``distribution`` (its wheel-file name: ``blender_asset_tracer``) shipped
    in ``wheels_dir``, newest version first."""
    if not wheels_dir.is_dir():
        return []
    return sorted(wheels_dir.glob(f"{distribution}-*.whl"), key=_version_key, reverse=True)


def fitting_wheels(distribution: str, wheels_dir: Path = WHEELS_DIR,
                   python: Sequence[int] = sys.version_info[:3]) -> list[Path]:
    """The bundled wheels whose ``Requires-Python`` admits ``python``, newest first."""
    return [wheel for wheel in bundled_wheels(distribution, wheels_dir)
            if admits(requires_python(wheel), python)]


def import_bundled(module: str, distribution: str | None = None,
                   wheels_dir: Path = WHEELS_DIR) -> ModuleType:
    """``module``, installed or else from the newest fitting bundled wheel of ``distribution``
    (default: the module's name); ImportError when neither has it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    for wheel in fitting_wheels(distribution or module, wheels_dir):
        entry = str(wheel)
        if entry not in sys.path:
            sys.path.append(entry)
        try:
            return importlib.import_module(module)
        except ImportError:
            sys.path.remove(entry)
    raise ImportError(f"No module named {module!r}, and no bundled wheel of it for Python "
                      f"{'.'.join(map(str, sys.version_info[:3]))} in {wheels_dir}")


def requires_python(wheel: Path) -> str:
    """The wheel's ``Requires-Python`` ("" when it says none or cannot be read)."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            text = archive.read(names[0]).decode("utf-8", "replace") if names else ""
    except (OSError, zipfile.BadZipFile):
        return ""
    for line in text.splitlines():
        if not line.strip():
            break   # the headers end at the first empty line
        key, _, value = line.partition(":")
        if key.strip().lower() == "requires-python":
            return value.strip()
    return ""


def admits(requirement: str, python: Sequence[int]) -> bool:
    """Whether ``python`` (``(3, 10, 12)``) meets ``requirement`` (``>=3.9,<4.0``). A clause
    this reader does not understand (``~=``, ``===``) does not exclude the wheel: importing it
    is the final test."""
    version = tuple(python)
    for clause in filter(None, (part.strip() for part in requirement.split(","))):
        match = _SPECIFIER.match(clause)
        if match is None:
            continue
        operator, text = match.groups()
        if text.endswith(".*"):   # ==3.10.* / !=3.10.*: compare the given parts only
            prefix = _parts(text[:-2])
            same = version[:len(prefix)] == prefix
            if (operator == "==" and not same) or (operator == "!=" and same):
                return False
            continue
        bound = _parts(text)
        size = max(len(bound), len(version))   # 3.10.5 against 3.10: as 3.10.0
        if not _compare(operator, _padded(version, size), _padded(bound, size)):
            return False
    return True


def _compare(operator: str, mine: tuple[int, ...], bound: tuple[int, ...]) -> bool:
    return {">=": mine >= bound, "<=": mine <= bound, ">": mine > bound, "<": mine < bound,
            "==": mine == bound, "!=": mine != bound}[operator]


def _padded(version: tuple[int, ...], size: int) -> tuple[int, ...]:
    return version + (0,) * (size - len(version))


def _parts(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _version_key(wheel: Path) -> tuple[int, ...]:
    version = wheel.name.split("-")[1] if wheel.name.count("-") >= 2 else ""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))
