"""Where the scripts that run inside Blender are: ``renderplus/blender_scripts/``, beside this
package. The engine never imports them (they run in Blender's own Python, from a path given to
``--python``); it only names them, here, once.
"""

from __future__ import annotations

from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "blender_scripts"

OVERRIDE_SCRIPT = SCRIPTS_DIR / "job_overrides.py"  # applies a job's settings, then renders
SESSION_SCRIPT = SCRIPTS_DIR / "session.py"  # one Blender rendering several jobs of the same file
PROBE_SCRIPT = SCRIPTS_DIR / "probe_file.py"  # what a .blend holds (scenes, cameras, ...) and its engines
DEVICES_SCRIPT = SCRIPTS_DIR / "list_devices.py"  # Cycles' render devices
FLAMENCO_JOB_TYPE = SCRIPTS_DIR / "flamenco_renderplus.js"  # Render+'s job type for a Flamenco Manager
ENCODE_SCRIPT = SCRIPTS_DIR / "encode_movie.py"  # a movie from a job's frames (batch/encode)
READER_SCRIPT = SCRIPTS_DIR / "read_frames.py"  # a helper Blender reading frames (frame_reader.py)
CHECK_SCRIPT = SCRIPTS_DIR / "check_frames.py"  # frames checked whole on a farm node
