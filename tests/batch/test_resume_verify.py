"""Resume verifies finished jobs too (issue 19, item 6), with the real Blender: a frame of a
finished batch deleted or truncated afterwards is rendered again on resume, alone, with the
job's hooks, and the job's messages name it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.outputs import stamp
from renderplus.batch.service import BatchService, NothingToResumeError
from renderplus.batch.store import BatchStore
from tests.batch.conftest import make_recipe

pytestmark = [pytest.mark.blender, pytest.mark.slow]
Factory = Callable[..., Path]


def test_a_finished_batch_renders_only_its_lost_frames_again(tmp_path: Path,
                                                            blend_factory: Factory) -> None:
    blend = blend_factory(frames=3)
    out = tmp_path / "out"
    hooks = tmp_path / "hooks.txt"
    recipe = make_recipe([{"blend_file": str(blend), "animated": True, "frame_start": 1,
                           "frame_end": 3, "output": str(out / "f_####"),
                           "hooks": {"PRE_JOB": [{"cmd": f"echo pre >> {hooks}"}],
                                     "POST_JOB": [{"cmd": f"echo post >> {hooks}"}]}}])
    work = tmp_path / "work"
    store = BatchStore.open(work)
    service = BatchService(work_dir=work, store=store)
    service.load_recipe(recipe)
    first = service.start()
    assert first.wait(180)
    assert first.view().status == "FINISHED", first.view().jobs[0].messages
    frames = {n: out / f"f_000{n}.png" for n in (1, 2, 3)}
    assert all(stamp(str(p)) is not None for p in frames.values())
    kept = frames[1].stat()
    with pytest.raises(NothingToResumeError):
        service.resume()  # every frame still there: nothing to do

    frames[2].unlink()
    with open(frames[3], "r+b") as cut:
        cut.truncate(cut.seek(0, 2) // 2)

    again = service.resume()
    assert again.wait(180)
    view = again.view()
    assert view.status == "FINISHED" and view.jobs[0].status == "FINISHED", view.jobs[0].messages
    handle = again.handle(0)
    assert handle is not None
    argv = list(handle.argv)
    assert argv[argv.index("-s") + 1:argv.index("-s") + 4] == ["2", "-e", "3"]  # only the lost
    assert (frames[1].stat().st_mtime_ns, frames[1].stat().st_ino) == (kept.st_mtime_ns, kept.st_ino)
    assert stamp(str(frames[2])) is not None and stamp(str(frames[3])) is not None
    said = [m for m in view.jobs[0].messages if "lost on disk" in m]
    assert len(said) == 1, view.jobs[0].messages
    assert f"frame 2 ({frames[2]} missing)" in said[0]
    assert f"frame 3 ({frames[3]} changed)" in said[0]
    assert "frame 1 " not in said[0]
    assert hooks.read_text().split() == ["pre", "post", "pre", "post"]
    recorded = store.frames(again.store_id or 0, 0)
    assert sorted(recorded) == [1, 2, 3]
    assert view.jobs[0].frames_done == 3
    with pytest.raises(NothingToResumeError):
        service.resume()
    store.close()
