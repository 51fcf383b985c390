"""``blender_bin: "auto"`` in a running batch, the server's checks and the CLI's --dry/--check:
fake Blenders (shell scripts answering ``--version``) and fake .blend headers, no real Blender."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch import blenders as blenders_module
from renderplus.batch.blender_pick import blender_problems, pick_blender
from renderplus.batch.blenders import InstallRoots
from renderplus.batch.options import RunOptions, choose_blender
from renderplus.batch.recipe import parse_recipe
from renderplus.batch.runner import Batch
from renderplus.batch.service import BatchService
from renderplus.cli import main
from tests.frames import PNG


@pytest.fixture(autouse=True)
def no_installed_blenders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the Blenders a test lists exist: no install folders, nothing on PATH."""
    roots = InstallRoots(home=str(tmp_path / "nohome"), system=str(tmp_path / "nosystem"))
    monkeypatch.setattr(blenders_module, "machine_places", lambda env: (roots, ""))
    monkeypatch.delenv(blenders_module.BLENDERS_ENV, raising=False)


def rendering_blender(folder: Path, version: str) -> str:
    """A Blender ``version`` that renders frame 1 of any job into ``out_0001.png`` (beside the
    .blend) and writes which Blender it was into ``rendered_by``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "blender"
    frame = folder.parent / "out_0001.png"
    marker = json.dumps({"event": "frame", "frame": 1, "path": str(frame)})
    image = folder / "frame.png"   # a whole PNG to copy: frames are checked
    image.write_bytes(PNG)
    path.write_text("#!/bin/sh\n"
                    f"case \"$*\" in *--version*) echo 'Blender {version}'; exit 0;; esac\n"
                    f"echo {version} >> {folder.parent / 'rendered_by'}\n"
                    f"cp {image} {frame}\necho 'RENDERPLUS> {marker}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def blend(folder: Path, version: int) -> str:
    """A file with the header Blender ``version`` (304 for 3.4) writes."""
    path = folder / f"shot{version}.blend"
    path.write_bytes(f"BLENDER-v{version}".encode() + b"REND" + bytes(64))
    return str(path)


def recipe_for(file: str, blender_bin: str = "auto", **job: Any) -> Any:
    return parse_recipe({"version": 2.2, "name": "auto", "blender_bin": blender_bin,
                         "jobs": [{"id": 0, "name": "Shot", "blend_file": file, **job}]})


def run(recipe: Any, blenders: tuple[str, ...]) -> dict[str, Any]:
    batch = Batch(recipe, RunOptions(blenders=blenders))
    assert batch.view().jobs[0].to_json()["blender"] is None  # not chosen before it runs
    batch.run()
    return batch.view().to_json()["jobs"][0]


def test_each_job_renders_with_the_blender_of_its_files_version(tmp_path: Path) -> None:
    old, new = rendering_blender(tmp_path / "b34", "3.4.1"), rendering_blender(tmp_path / "b43", "4.3.2")
    job = run(recipe_for(blend(tmp_path, 403)), (old, new))
    assert job["status"] == "FINISHED", job["messages"]
    assert job["blender"] == {"path": new, "version": "4.3.2"}
    assert (tmp_path / "rendered_by").read_text() == "4.3.2\n"


def test_a_file_newer_than_every_blender_fails_before_anything_renders(tmp_path: Path) -> None:
    old = rendering_blender(tmp_path / "b34", "3.4.1")
    file = blend(tmp_path, 500)
    job = run(recipe_for(file), (old,))
    assert job["status"] == "FAILED" and job["blender"] is None
    assert job["messages"][-1] == (f"{file} was saved by Blender 5.0, newer than every Blender found "
                                   "(3.4.1), and Blender cannot open files of a newer major version: install "
                                   "Blender 5.0 or newer, or name it with --blender PATH")
    assert not (tmp_path / "rendered_by").exists()


def test_an_older_blender_of_the_series_renders_with_a_warning(tmp_path: Path) -> None:
    old = rendering_blender(tmp_path / "b42", "4.2.3")
    file = blend(tmp_path, 405)
    job = run(recipe_for(file), (old,))
    assert job["status"] == "FINISHED" and job["blender"] == {"path": old, "version": "4.2.3"}
    assert (f"{file} was saved by Blender 4.5, newer than every Blender found (4.2.3): using the newest "
            f"older one, 4.2.3 ({old}), which may lose what 4.5 added") in job["messages"]


def test_an_executable_named_auto_on_path_never_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trap = tmp_path / "bin" / "auto"
    trap.parent.mkdir()
    trap.write_text(f"#!/bin/sh\ntouch {tmp_path / 'auto_ran'}\n")
    trap.chmod(0o755)
    monkeypatch.setenv("PATH", f"{trap.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    recipe = recipe_for(blend(tmp_path, 304))
    assert choose_blender(recipe) == "auto"
    assert pick_blender(recipe).problem is not None
    job = run(recipe, ())
    assert job["status"] == "FAILED"
    assert job["messages"][-1].startswith(f"\"auto\" found no Blender to render {tmp_path / 'shot304.blend'}")
    assert not (tmp_path / "auto_ran").exists()


def test_the_first_blender_flag_auto_makes_every_job_choose(tmp_path: Path) -> None:
    new = rendering_blender(tmp_path / "b52", "5.2.2")
    recipe = recipe_for(blend(tmp_path, 304), blender_bin="")
    assert choose_blender(recipe, "auto", candidates=(new,)) == new  # the oldest newer one


def test_the_server_reports_what_auto_chose_and_refuses_what_it_cannot(tmp_path: Path) -> None:
    old = rendering_blender(tmp_path / "b34", "3.4.1")
    service = BatchService(RunOptions(blenders=(old,)), work_dir=tmp_path / "server", store=None)
    try:
        service.load_recipe(recipe_for(blend(tmp_path, 304)))
        assert service.blender_bin == old and service.blender_problems() == []
        service.load_recipe(recipe_for(blend(tmp_path, 500)))
        assert service.blender_bin == "auto"
        assert [p.split(",")[0] for p in service.blender_problems()] == [
            f"{tmp_path / 'shot500.blend'} was saved by Blender 5.0"]
    finally:
        service.shutdown()


def test_a_bad_listed_blender_refuses_the_batch_naming_it(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("x")
    problems = blender_problems(recipe_for(blend(tmp_path, 304)), None, candidates=(str(text),))
    assert problems == [f"{text} (a listed Blender) is not executable"]


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out)
    return code, out.getvalue()


def test_dry_and_check_say_what_auto_chose(tmp_path: Path) -> None:
    old, new = rendering_blender(tmp_path / "b34", "3.4.1"), rendering_blender(tmp_path / "b43", "4.3.2")
    recipe = tmp_path / "recipe.json"
    recipe.write_text(json.dumps({"version": 2.2, "blender_bin": "auto", "jobs": [
        {"id": 0, "name": "Old", "blend_file": blend(tmp_path, 304), "output": str(tmp_path / "o")},
        {"id": 1, "name": "New", "blend_file": blend(tmp_path, 500), "output": str(tmp_path / "n")}]}))
    code, text = cli("--recipe", str(recipe), "--dry", "--blender", old, "--blender", new)
    assert code == 0
    assert f"Blender: {old}\n" in text  # the batch's: the first job's choice
    assert f"  Blender (auto): {old} 3.4.1\n  $ {old} " in text
    assert "  Blender (auto): none: " in text and "saved by Blender 5.0" in text
    assert "auto  (NOT FOUND)" not in text
    code, text = cli("--recipe", str(recipe), "--check", "--blender", old, "--blender", new)
    assert code == 1
    newer = tmp_path / "shot500.blend"
    assert f"job 1 'New'\n         - {newer} was saved by Blender 5.0, newer than every Blender found " \
           "(3.4.1, 4.3.2)" in text


def test_check_lists_the_warning_of_an_older_blender(tmp_path: Path) -> None:
    old = rendering_blender(tmp_path / "b42", "4.2.3")
    file = blend(tmp_path, 405)
    recipe = tmp_path / "recipe.json"
    job = {"id": 0, "name": "Shot", "blend_file": file, "blender_bin": "auto", "output": str(tmp_path / "o")}
    recipe.write_text(json.dumps({"version": 2.2, "jobs": [job]}))
    _, text = cli("--recipe", str(recipe), "--check", "--blender", old)
    assert f"         Blender (auto): {old} 4.2.3\n" in text
    assert (f"         - warning: {file} was saved by Blender 4.5, newer than every Blender found (4.2.3): "
            f"using the newest older one, 4.2.3 ({old}), which may lose what 4.5 added\n") in text
