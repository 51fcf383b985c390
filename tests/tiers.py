"""Which outside programs a test needs, as markers, so that ``./run quick`` can leave them out.

A test is marked by what it uses, not only by hand: a fixture that makes real .blend files needs
``blender``, the browser fixtures need ``browser``, the Slurm and Flamenco fixtures need ``farm``,
and everything under ``tests/browser/`` needs ``browser``. The hand-written marks stay for tests
that start Blender or bpy by other means.

``./run quick`` sets ``RENDERPLUS_QUICK=1``: then a stand-in named ``blender`` comes first on
PATH for the whole session (and every program it starts), and ``import bpy`` fails in this
process. A test the markers let through that still runs Blender or imports bpy gets an error,
and the session fails naming that test: nothing slips into the quick tier unnoticed.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

import pytest

QUICK_ENV = "RENDERPLUS_QUICK"
TESTS = Path(__file__).resolve().parent

# marker -> fixtures whose use means the test needs that outside program
NEEDS_BY_FIXTURE: dict[str, frozenset[str]] = {
    "blender": frozenset({"blend_factory", "blender_frames"}),
    "browser": frozenset({"browser", "open_page"}),
    "farm": frozenset({"slurm_cluster", "flamenco_manager", "farm"}),
}
# marker -> folders (under tests/) whose every test needs it
NEEDS_BY_FOLDER: dict[str, tuple[str, ...]] = {
    "browser": ("browser",),
    "blender": ("versions",),
}
QUICK_SKIPS = frozenset({"blender", "bpy", "browser", "farm"})

_STAND_IN = """#!/bin/sh
echo "$PYTEST_CURRENT_TEST" >> {log}
echo "the quick tier runs no Blender: mark this test 'blender' (tests/tiers.py)" >&2
exit 97
"""


def needs(item: pytest.Item) -> set[str]:
    """The markers ``item`` gets from its fixtures and its folder."""
    fixtures = set(getattr(item, "fixturenames", ()))
    found = {marker for marker, names in NEEDS_BY_FIXTURE.items() if fixtures & names}
    path = Path(str(item.path)).resolve()
    if path.is_relative_to(TESTS):
        folder = path.relative_to(TESTS).parts[0]
        found |= {marker for marker, folders in NEEDS_BY_FOLDER.items() if folder in folders}
    return found


def mark_needs(items: list[pytest.Item]) -> None:
    for item in items:
        present = {mark.name for mark in item.iter_markers()}
        for marker in sorted(needs(item) - present):
            item.add_marker(getattr(pytest.mark, marker))


def leave_out_of_quick_tier(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the quick tier, deselect every test marked with one of ``QUICK_SKIPS``."""
    if not os.environ.get(QUICK_ENV):
        return
    keep: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        needed = QUICK_SKIPS & {mark.name for mark in item.iter_markers()}
        (left_out if needed else keep).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = keep


def guard_quick_tier(config: pytest.Config) -> None:
    """In the quick tier, put a ``blender`` that refuses (and tells) first on PATH."""
    if not os.environ.get(QUICK_ENV):
        return
    folder = Path(tempfile.mkdtemp(prefix="renderplus-quick-"))
    log = folder / "blender-called.log"
    log.touch()
    stand_in = folder / "blender"
    stand_in.write_text(_STAND_IN.format(log=log))
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IXUSR)
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    sys.meta_path.insert(0, _NoBpy(log))
    config.stash[_LOG_KEY] = log


class _NoBpy:
    """A finder that refuses ``import bpy`` in the quick tier and notes which test asked."""

    def __init__(self, log: Path) -> None:
        self.log = log

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "bpy" or name.startswith("bpy."):
            with self.log.open("a") as out:
                out.write(os.environ.get("PYTEST_CURRENT_TEST", "(collection)") + "\n")
            raise ImportError("the quick tier imports no bpy: mark this test 'bpy' (tests/tiers.py)")


def blender_calls(config: pytest.Config) -> list[str]:
    """The tests (by name) that ran Blender or imported bpy in the quick tier."""
    log = config.stash.get(_LOG_KEY, None)
    if log is None:
        return []
    return sorted({line.rsplit(" (", 1)[0] for line in log.read_text().splitlines() if line})


def report_blender_calls(session: pytest.Session) -> None:
    called = blender_calls(session.config)
    if called:
        sys.stderr.write("\nThese tests ran Blender or imported bpy in the quick tier (mark them):\n"
                         + "".join(f"  {name}\n" for name in called))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_LOG_KEY = pytest.StashKey[Path]()
