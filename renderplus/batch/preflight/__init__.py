"""Find what would make a job fail before it runs: facts, then rules over them.

``binary``: facts about a Blender binary (version, render engines); ``blend``: facts about a
.blend (its header, and what a Blender probe finds inside); ``rules``: the checks, functions of
those facts, shared by ``--check`` and the add-on's check before Render; ``check``: ``--check``
itself (``check_recipe``), which gathers the facts of a recipe's jobs and applies the rules.
"""

from __future__ import annotations

from ..blendfile import (  # re-exported: the upload checks import them from here
    BLEND_MAGIC,
    GZIP_MAGIC,
    HEADER_BYTES,
    ZSTD_MAGIC,
    blend_file_version,
    blend_header_problem,
    read_head,
)
from .binary import (
    BinaryFacts,
    blender_engines,
    blender_version,
    find_binary,
    inspect_binary,
    parse_engine_listing,
    version_number,
)
from .blend import FileFacts, SceneFacts, probe_file, source_problem
from .check import CheckReport, Problem, check_recipe
from .rules import (
    ENGINE_RENAMES,
    JobNames,
    Missing,
    engine_problem,
    folder_problem,
    missing_names,
    newer_file,
)

__all__ = ["BLEND_MAGIC", "ENGINE_RENAMES", "GZIP_MAGIC", "HEADER_BYTES", "ZSTD_MAGIC", "BinaryFacts",
           "CheckReport", "FileFacts", "JobNames", "Missing", "Problem", "SceneFacts",
           "blend_file_version", "blend_header_problem", "blender_engines", "blender_version",
           "check_recipe", "engine_problem", "find_binary", "folder_problem", "inspect_binary",
           "missing_names", "newer_file", "parse_engine_listing", "probe_file", "read_head",
           "source_problem", "version_number"]
