"""``FarmChoice``: the one place ``--farm`` and the add-on's "Render on" preference become a farm
engine, shared storage, an executor factory and ``/test``'s farm status (no farm needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from renderplus.batch.executors.farm import FarmExecutor, FlamencoEngine, SlurmEngine
from renderplus.batch.executors.farm.choice import FarmChoice, FarmChoiceError
from renderplus.batch.recipe import parse_recipe


def test_specs_name_the_place_and_the_engine_gets_the_nodes_tools(tmp_path: Path) -> None:
    slurm = FarmChoice.parse("slurm:render", storage=tmp_path, blender="/opt/blender/blender",
                             ffmpeg="/opt/ffmpeg")
    assert (slurm.where, slurm.partition, slurm.storage) == ("slurm", "render", str(tmp_path))
    engine = slurm.engine()
    assert isinstance(engine, SlurmEngine)
    assert (engine.partition, engine.blender, engine.ffmpeg) == ("render", "/opt/blender/blender",
                                                                 "/opt/ffmpeg")
    assert slurm.spec() == "slurm:render" and slurm.describe() == "Slurm partition 'render'"
    assert FarmChoice.parse("slurm", storage=tmp_path).partition is None
    flamenco = FarmChoice.parse("flamenco=http://manager:8080", storage=tmp_path)
    assert isinstance(flamenco.engine(), FlamencoEngine)
    assert flamenco.describe() == "the Flamenco Manager at http://manager:8080"
    here = FarmChoice.parse(None)
    assert not here.on_farm and here.executor_factory() is None and here.status() is None
    assert here.describe() == "this machine" and FarmChoice.parse("").where == "local"


@pytest.mark.parametrize(("make", "sentence"), [
    (lambda: FarmChoice.parse("nonsense", storage="/srv"),
     "'nonsense': use slurm, slurm:PARTITION or flamenco=URL"),
    (lambda: FarmChoice.parse("flamenco=manager:8080", storage="/srv"),
     "flamenco=URL: the Manager's address, e.g. http://manager:8080 (got 'manager:8080')"),
    (lambda: FarmChoice("flamenco", url="http://", storage="/srv"), "the Manager's address"),
    (lambda: FarmChoice("slurm"), "a farm needs a shared storage folder"),
    (lambda: FarmChoice("slurm", storage="shared/here"), "is not an absolute path"),
    (lambda: FarmChoice("mars"), "render on 'mars': choose local, slurm, flamenco"),
])
def test_a_choice_that_cannot_work_is_refused_with_a_sentence(make: object, sentence: str) -> None:
    with pytest.raises(FarmChoiceError, match=None) as caught:
        make()  # type: ignore[operator]
    assert sentence in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_the_factory_gives_each_batch_a_farm_executor_with_its_recipe(tmp_path: Path) -> None:
    choice = FarmChoice("slurm", partition="render", storage=str(tmp_path))
    factory = choice.executor_factory()
    assert factory is not None
    recipe = parse_recipe({"version": 2.2, "settings": {"farm_chunk": 3}, "jobs": []})
    executor = factory(recipe)
    assert isinstance(executor, FarmExecutor)
    assert executor.chunk_size == 3
    storage = choice.shared_storage()
    assert storage.roots == (str(tmp_path.resolve()),)
    assert storage.staging_dir == str(tmp_path.resolve() / "renderplus-staging")


def test_status_says_a_farm_that_does_not_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))   # no sinfo: Slurm does not answer
    status = FarmChoice("slurm", storage=str(tmp_path)).status()
    assert status is not None
    assert status["engine"] == "slurm" and status["answers"] is False and status["ok"] is False


def test_a_handed_over_server_renders_where_the_add_on_did(tmp_path: Path) -> None:
    """A quitting Blender's server gets the add-on's "Render on" as ``--farm`` flags, which the
    command line reads back as the same choice."""
    from renderplus.cli import build_parser
    from renderplus.cli.farm import farm_choice
    from renderplus.server.handover import farm_flags, server_command

    choice = FarmChoice("slurm", partition="render", storage=str(tmp_path), blender="/opt/b/blender")
    command = server_command("python3", work_dir=tmp_path, port=7777, host="127.0.0.1", blender_pid=1,
                             token_fd=3, no_token=False, blender=None, blenders=(), log_dir=None,
                             continue_queue=True, farm=choice)
    flags = command[command.index("--farm"):]
    assert flags == ["--farm", "slurm:render", "--farm-storage", str(tmp_path),
                     "--farm-blender", "/opt/b/blender"]
    assert farm_choice(build_parser().parse_args(flags)) == choice
    assert farm_flags(None) == [] and farm_flags(FarmChoice()) == []
    flamenco = FarmChoice("flamenco", url="http://m:8080", storage=str(tmp_path), ffmpeg="/opt/ffmpeg")
    assert farm_flags(flamenco) == ["--farm", "flamenco=http://m:8080", "--farm-storage", str(tmp_path),
                                    "--farm-ffmpeg", "/opt/ffmpeg"]


def test_outputs_outside_shared_storage_are_named(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    jobs = [{"id": 0, "name": "inside", "output": str(shared / "renders" / "f_")},
            {"id": 1, "name": "outside", "output": str(tmp_path / "local" / "f_")},
            {"id": 2, "name": "off", "enabled": False, "output": "/elsewhere/f_"},
            {"id": 3, "name": "file's own", "output": ""}]
    recipe = parse_recipe({"version": 2.2, "jobs": [{**job, "blend_file": str(shared / "a.blend")}
                                                    for job in jobs]})
    said = FarmChoice("slurm", storage=str(shared)).unseen_outputs(recipe)
    assert said == [f"job 'outside' writes to {tmp_path / 'local' / 'f_'}, outside shared storage "
                    f"({shared}): farm nodes would keep its frames on their own disks"]
    assert FarmChoice().unseen_outputs(recipe) == []
