"""The server's version (the add-on's, from its manifest) and the API version it speaks.

The version is read from ``blender_manifest.toml`` beside the package so that there is one
place to bump; Blender 3.x's Python has no ``tomllib``, and one line needs no TOML parser.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..batch.recipe import RECIPE_VERSION

SERVER_NAME = "Render+ batch server"
API_VERSION = str(RECIPE_VERSION)  # the API and recipe format version (docs/api.md, Recipe), "2.2"
MANIFEST = Path(__file__).resolve().parent.parent / "blender_manifest.toml"


def read_version(manifest: Path = MANIFEST) -> str:
    """``version = "1.0.0"`` from the manifest; "unknown" when it cannot be read."""
    try:
        text = manifest.read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    match = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    return match.group(1) if match else "unknown"


VERSION = read_version()
