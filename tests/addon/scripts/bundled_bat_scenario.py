"""In real Blender (Debian's 3.4 with ``blender -b``, or a bpy wheel): the add-on's bundled Blender
Asset Tracer, with no BAT installed to find (an installed one is hidden: only a wheel on
``sys.path`` may provide it), packs a .blend whose texture lies outside shared storage.

Arguments (JSON): addon_parent (the folder the zip was unpacked into), blend, shared, and
wheels_dir (optional: import BAT from this folder's wheels first, e.g. only the legacy one).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # Blender does not add it

import harness

HIDDEN = "blender_asset_tracer"


class OnlyFromWheels(importlib.abc.MetaPathFinder):
    """BAT may come only from a wheel on ``sys.path``: an installed copy is not found."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != HIDDEN:
            return None
        wheels = [entry for entry in sys.path if entry.endswith(".whl")]
        spec = importlib.machinery.PathFinder.find_spec(name, wheels)
        if spec is None:
            raise ModuleNotFoundError(f"No module named {name!r} (installed copies are hidden)", name=name)
        return spec


def main(args: dict[str, Any]) -> dict[str, Any]:
    import bpy  # noqa: F401 -- real Blender, as the add-on runs in it

    sys.meta_path.insert(0, OnlyFromWheels())
    sys.path.insert(0, args["addon_parent"])
    from pathlib import Path

    from renderplus.batch import wheel_imports
    from renderplus.batch.executors.farm.staging import SharedStorage, stage_blend

    out: dict[str, Any] = {"python": list(sys.version_info[:3]),
                           "importable_before": HIDDEN in sys.modules}
    if args.get("wheels_dir"):
        wheel_imports.import_bundled(HIDDEN, wheels_dir=Path(args["wheels_dir"]))
    shared = args["shared"]
    storage = SharedStorage([shared], os.path.join(shared, "staging"))
    staged = stage_blend(args["blend"], storage, os.path.join(shared, "staging", "job-0"))
    bat = sys.modules[HIDDEN]
    out["bat_file"] = bat.__file__
    out["staged"] = {"path": staged.path, "packed": staged.packed, "missing": list(staged.missing)}
    out["packed_files"] = sorted(str(p.relative_to(Path(staged.path).parent))
                                 for p in Path(staged.path).parent.rglob("*") if p.is_file())
    return out


if __name__ == "__main__":
    harness.run(main)
