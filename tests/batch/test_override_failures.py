"""A custom override that cannot be applied fails its job in words, in the real Blender 3.4: the
override, the part of its path that leads nowhere (or what Blender said when it refused the value),
never "Blender failed (exit code 17)", and once (trying again cannot help). The same sentence
whether each job has its own Blender or they share a session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.runner import Batch, RunOptions
from tests.batch.conftest import make_recipe

pytestmark = pytest.mark.blender


@pytest.mark.parametrize("session_reuse", [False, True], ids=["own-blender", "session"])
def test_a_bad_override_fails_its_job_in_words(tmp_path: Path, blend_factory: Callable[..., Path],
                                               session_reuse: bool) -> None:
    blend = blend_factory(engine="BLENDER_WORKBENCH", frames=1)
    jobs = [{"blend_file": str(blend), "output": str(tmp_path / "out" / f"j{i}_"),
             "custom_overrides": [override]}
            for i, override in enumerate([{"path": "render.fpz", "value": 12},
                                          {"path": "render.fps.real", "value": 3},
                                          {"path": "render.fps", "value": 12}])]
    recipe = make_recipe(jobs, settings={"retries": 2, "session_reuse": session_reuse})
    batch = Batch(recipe, RunOptions(log_dir=str(tmp_path / "work")))
    batch.run()
    typo, refused, fine = (batch.view().job(i) for i in range(3))
    assert typo.status == "FAILED" and refused.status == "FAILED"
    assert list(typo.messages) == [
        "Override 'render.fpz': the scene's render has no 'fpz' (did you mean 'fps'?)"]
    [said] = refused.messages
    assert said.startswith("Override 'render.fps.real' = 3 could not be set; Blender said: "), said
    assert "not writable" in said
    for message in (*typo.messages, *refused.messages):
        assert "exit code" not in message and "Attempt" not in message
    assert fine.status == "FINISHED", fine.messages
