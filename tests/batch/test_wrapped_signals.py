"""A Blender started through a wrapper and killed by a signal: the wrapper exits 128+N, and the
job (local or session executor) and hooks report the signal, keep the raw status and retry it
like a crash. Real Blender under a real shell wrapper; the test kills Blender, not the wrapper."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch import spawner
from renderplus.batch.runner import Batch
from tests.batch.conftest import make_recipe
from tests.procs import live_processes
from tests.waiting import wait_for

Factory = Callable[..., Path]


def shell_wrapper(folder: Path) -> str:
    """A studio-style wrapper that runs Blender as its child (no exec) and passes on its status."""
    wrapper = folder / "blender-wrapper"
    wrapper.write_text('#!/bin/sh\n/usr/bin/blender "$@"\nexit $?\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def blender_under(wrapper_pid: int) -> int | None:
    """The Blender the wrapper started (its child), once it runs."""
    for pid, fields in live_processes():
        if int(fields[1]) == wrapper_pid and (spawner.cmdline(pid) or ("",))[0] == "/usr/bin/blender":
            return pid
    return None


@pytest.mark.blender
@pytest.mark.slow
@pytest.mark.parametrize("sig, reuse", [(signal.SIGSEGV, False), (signal.SIGKILL, False),
                                        (signal.SIGSEGV, True)],
                         ids=["segv-local", "kill-local", "segv-session"])
def test_a_wrapped_blender_killed_by_a_signal_is_reported_as_it_and_retried(
        tmp_path: Path, blend_factory: Factory, sig: signal.Signals, reuse: bool) -> None:
    blend = blend_factory(size=(96, 72), samples=400, frames=1)
    recipe = make_recipe([{"blend_file": str(blend), "output": str(tmp_path / "out_####")}],
                         blender_bin=shell_wrapper(tmp_path),
                         settings={"retries": 1, "session_reuse": reuse})
    batch = Batch(recipe)
    batch.start()
    handle = wait_for(lambda: batch.handle(0), timeout=30)
    assert handle.executor == ("session" if reuse else "local")
    child = wait_for(lambda: blender_under(handle.pid), timeout=30)
    wait_for(lambda: batch.view().job(0).progress > 0, timeout=60)  # rendering, not loading
    os.kill(child, sig)
    assert batch.wait(180)
    job = batch.view().job(0)
    assert job.status == "FINISHED", job.messages      # the retry rendered it
    raw = 128 + sig
    expected = (f"Attempt 1 of 2: Blender failed (killed by signal {int(sig)}, {sig.name}; "
                f"exit status {raw} from its wrapper)")
    assert job.messages[0].startswith(expected), job.messages
    assert (tmp_path / "out_0001.png").exists()
    if sig is signal.SIGSEGV:   # Blender's own crash report, kept out of the job's temp folder
        assert "crash: Blender crashed. Crash report kept as " in job.messages[0], job.messages


@pytest.mark.blender
def test_a_hook_that_kills_itself_is_reported_as_the_signal(tmp_path: Path,
                                                           blend_factory: Factory) -> None:
    cmd = "sh -c 'kill -SEGV $$'"
    recipe = make_recipe([{"blend_file": str(blend_factory()), "output": str(tmp_path / "o"),
                           "hooks": {"PRE_JOB": [{"cmd": cmd}]}}])
    batch = Batch(recipe)
    batch.run()
    job = batch.view().job(0)
    assert job.status == "FAILED"
    assert job.messages[0] == (f"PRE_JOB hook failed (killed by signal 11, SIGSEGV; exit status "
                               f"139 from its shell): {cmd} -> Segmentation fault")
    assert not list(tmp_path.glob("o*"))   # the render never started


@pytest.mark.parametrize("raw, name", [(139, "signal 11, SIGSEGV"), (137, "signal 9, SIGKILL"),
                                       (143, "signal 15, SIGTERM")])
def test_a_wrapper_exiting_128_plus_n_fails_as_that_signal_after_its_retry(
        tmp_path: Path, fake_blender: Callable[[str], str], raw: int, name: str) -> None:
    wrapper = fake_blender(f'print("Fra:1 Mem:1M | Rendering", flush=True)\nsys.exit({raw})\n')
    recipe = make_recipe([{"blend_file": str(tmp_path / "x.blend"), "output": str(tmp_path / "o")}],
                         blender_bin=wrapper, settings={"retries": 1})
    (tmp_path / "x.blend").write_bytes(b"BLENDER-v304" + b"\0" * 64)
    batch = Batch(recipe)
    batch.run()
    job = batch.view().job(0)
    said = f"Blender failed (killed by {name}; exit status {raw} from its wrapper)"
    assert job.status == "FAILED"
    assert [m.split(":")[0] for m in job.messages] == ["Attempt 1 of 2", said]
    assert job.messages[0].startswith(f"Attempt 1 of 2: {said}: ")
