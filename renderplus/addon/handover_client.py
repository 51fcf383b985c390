"""The add-on's side of a hand-over: what a quitting Blender gives the standalone server that
renders on without it (``renderplus.server.handover``): the one state folder, the port and
token rule of the add-on's server, the Blenders the add-on renders with, where it renders (its
"Render on" farm), whether the queue goes on. No bpy here: a quit may find Blender's data gone."""

from __future__ import annotations

from ..batch.executors.farm.choice import FarmChoice
from ..batch.paths import state_dir
from ..server import DEFAULT_PORT
from ..server.handover import hand_over


def start_handover(*, port: int | None, token: str | None, no_token: bool, blender: str | None,
                   blenders: tuple[str, ...], continue_queue: bool, farm: FarmChoice | None = None) -> str:
    """Start the server that continues the batch once this Blender has ended; a sentence saying
    where it runs and where it writes (HandOverError: nothing was started)."""
    folder = state_dir()
    started = hand_over(work_dir=folder, port=port or DEFAULT_PORT, token=None if no_token else token,
                        no_token=no_token, blender=blender, blenders=blenders,
                        log_dir=folder / "log", continue_queue=continue_queue, farm=farm)
    return (f"the batch renders on in a Render+ server (pid {started.pid}, port {port or DEFAULT_PORT}) "
            f"once Blender has closed; its log: {started.log_path}")
