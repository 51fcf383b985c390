"""``--resume`` while another Render+ (a server on the same ``--work-dir``) runs the batch:
exit status 1 and the sentence naming the owner; a second ``--serve`` on that store says who
runs the last batch, and its ``--resume`` is refused without stopping the server."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from tests.batch.interrupted import make_interrupted_batch, sleeping_blender
from tests.procs import processes_with
from tests.server.helpers import ServerProcess, call, cli
from tests.waiting import wait_for


def test_resume_from_the_command_line_is_refused_while_a_server_owns_the_batch(
        tmp_path: Path, serve: Callable[..., ServerProcess]) -> None:
    work = tmp_path / "shared-work"
    blender = sleeping_blender(tmp_path, seconds=91.75)
    make_interrupted_batch(work, blender, Path(__file__), tmp_path / "out", name="night")
    server = serve(work_dir=work)
    assert call(server.port, "GET", "/batch/resume").code == 200
    wait_for(lambda: len(processes_with("91.75")) == 1, timeout=30)
    refused = cli("--resume", "--work-dir", str(work), timeout=60)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "The batch 'night' is owned by " in refused.stderr
    assert f"(pid {server.process.pid} on " in refused.stderr
    assert len(processes_with("91.75")) == 1                    # nothing started a second Blender

    second = serve("--resume", work_dir=work)
    assert call(second.port, "GET", "/batch/resume").code == 409
    assert call(server.port, "DELETE", "/batch").code == 200
    wait_for(lambda: not processes_with("91.75"), timeout=30)
    second.process.send_signal(signal.SIGINT)
    _, said = second.finish(30)
    assert "server: The batch 'night' is owned by python" in said and "Resuming" not in said
