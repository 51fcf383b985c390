"""Whether a live process runs the command Render+ recorded, when a wrapper may stand between.

Render+ records the argv it started a job's Blender with. The ``blender_bin`` may be a wrapper,
and then what /proc shows for that process differs: a shell script reads ``/bin/sh /path/wrapper
ARGS``; one that ``exec``s bubblewrap reads ``bwrap --dev-bind / / ... /usr/bin/blender ARGS``;
one that does not exec runs Blender as its child, ``/usr/bin/blender ARGS``. What every one
keeps is the arguments Render+ passed (for a job, the job file in the job's own temp folder),
in their order; a wrapper may add its own before, between or after them. So a process runs the
recorded command when its argv is the recorded one, or holds the recorded arguments in order
after its own program. This alone proves nothing about identity: it is checked together with
the process's boot and start time (``spawner``).
"""

from __future__ import annotations

from collections.abc import Sequence


def runs_recorded_command(live: Sequence[str], recorded: Sequence[str]) -> bool:
    """``live`` (a process's argv) is ``recorded``, or a wrapper's that passes on its arguments
    (``recorded[1:]``, in order, not necessarily next to each other). A recorded command of no
    arguments only matches itself."""
    if tuple(live) == tuple(recorded):
        return True
    wanted = recorded[1:]
    if not wanted:
        return False
    rest = iter(live[1:])
    return all(any(part == argument for part in rest) for argument in wanted)
