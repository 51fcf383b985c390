"""The check before Render in plain Python: stand-ins for ``bpy.data`` and the job's props feed
``job_checks``, which judges them by the rules ``--check`` uses and words them for an artist."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from renderplus.addon import job_checks
from renderplus.addon.binary_info import BinaryInfo


class Collection(list[Any]):
    """A bpy_prop_collection stand-in: iteration and ``.get(name)``."""

    def get(self, name: str) -> Any:
        return next((item for item in self if item.name == name), None)


def obj(name: str, kind: str = "CAMERA") -> SimpleNamespace:
    return SimpleNamespace(name=name, type=kind)


def make_data(tmp_path: Path) -> tuple[SimpleNamespace, SimpleNamespace]:
    cam, cube = obj("Cam"), obj("Cube", "MESH")
    scene = SimpleNamespace(name="Scene", objects=Collection([cam, cube, obj("Cam2")]), camera=cam,
                            view_layers=Collection([obj("View Layer", "")]),
                            render=SimpleNamespace(filepath=str(tmp_path / "out" / "f_"), engine="CYCLES"))
    empty = SimpleNamespace(name="Empty", objects=Collection(), camera=None,
                            view_layers=Collection([obj("View Layer", "")]),
                            render=SimpleNamespace(filepath="", engine="BLENDER_EEVEE"))
    data = SimpleNamespace(scenes=Collection([scene, empty]), worlds=Collection([obj("World", "")]))
    return data, scene


def make_job(**values: Any) -> SimpleNamespace:
    job = dict(name="Job", enabled=True, external=False, filepath="", scene="", camera="", world="",
               layer="", mode="STILL", frame_start=1, frame_end=1, output="", engine="FILE", engine_other="")
    job.update(values)
    return SimpleNamespace(**job)


def problems(tmp_path: Path, binary: BinaryInfo | None = None, file_version: int = 304,
             **job: Any) -> list[str]:
    data, scene = make_data(tmp_path)
    return job_checks.job_problems(make_job(**job), data=data, default_scene=scene,  # type: ignore[arg-type]
                                   abspath=lambda path: path, binary=binary, file_version=file_version)


BLENDER_34 = BinaryInfo("/opt/blender", "3.4.1", ("BLENDER_EEVEE", "BLENDER_WORKBENCH", "CYCLES"))


def test_a_job_with_every_name_present_has_no_problem(tmp_path: Path) -> None:
    assert problems(tmp_path, BLENDER_34, camera="Cam2", world="World", layer="View Layer") == []
    assert problems(tmp_path, scene="Scene", camera="Cam") == []


@pytest.mark.parametrize(("job", "expected"), [
    ({"scene": "Gone"}, "scene 'Gone' does not exist (deleted or renamed?); scenes: 'Scene', 'Empty'"),
    ({"camera": "Cube"}, "camera 'Cube' is not in scene 'Scene' (deleted or renamed?); "
                         "cameras: 'Cam', 'Cam2'"),
    ({"scene": "Empty"}, "scene 'Empty' has no active camera and the job names none"),
    ({"world": "Gone"}, "world 'Gone' does not exist (deleted or renamed?); worlds: 'World'"),
    ({"layer": "Gone"}, "view layer 'Gone' is not in scene 'Scene' (deleted or renamed?); "
                        "view layers: 'View Layer'"),
    ({"mode": "ANIMATION", "frame_start": 9, "frame_end": 3},
     "the end frame (3) is before the start frame (9)"),
])
def test_each_missing_name_is_said_with_the_names_there_are(tmp_path: Path, job: dict[str, Any],
                                                             expected: str) -> None:
    assert problems(tmp_path, **job) == [expected]


def test_an_engine_the_binary_lacks_names_the_id_to_use(tmp_path: Path) -> None:
    found = problems(tmp_path, BLENDER_34, engine="BLENDER_EEVEE_NEXT")
    assert found == ["render engine 'BLENDER_EEVEE_NEXT' is not available in Blender 3.4.1 (engines: "
                     "'BLENDER_EEVEE', 'BLENDER_WORKBENCH', 'CYCLES'); use 'BLENDER_EEVEE', the same "
                     "engine's id in Blender 3.4.1"]
    # "From File": the scene's own engine is the one judged
    assert problems(tmp_path, BinaryInfo("/b", "3.4.1", ("BLENDER_EEVEE",))) == [
        "render engine 'CYCLES' is not available in Blender 3.4.1 (engines: 'BLENDER_EEVEE')"]
    assert problems(tmp_path, None, engine="NO_SUCH") == []  # still asking: not judged yet


def test_a_blend_newer_than_the_binary_is_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, BLENDER_34, file_version=500) == [
        "the .blend is saved by Blender 5.0, newer than the Blender that renders it (3.4.1, "
        "/opt/blender): set another in the add-on preferences"]
    assert problems(tmp_path, BLENDER_34, file_version=304) == []


def test_an_output_folder_under_a_file_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    found = problems(tmp_path, output=str(tmp_path / "file" / "sub" / "f_"))
    folder, under = tmp_path / "file" / "sub", tmp_path / "file"
    assert found == [f"output folder {folder} cannot be created: {under} is a file"]


def test_an_external_job_reads_its_file_header(tmp_path: Path) -> None:
    missing = str(tmp_path / "gone.blend")
    assert problems(tmp_path, external=True, filepath=missing) == [f".blend file not found: {missing}"]
    assert problems(tmp_path, external=True, filepath="  ") == ["no .blend file named"]


def test_batch_problems_names_each_enabled_job(tmp_path: Path) -> None:
    data, scene = make_data(tmp_path)
    jobs: list[Any] = [make_job(name="Left", camera="Gone"),
                       make_job(name="Off", enabled=False, camera="Gone"), make_job(name="Right")]
    found = job_checks.batch_problems(jobs, data=data, default_scene=scene, abspath=lambda p: p,
                                      binary=None, file_version=304)
    assert found == ["Job 'Left': camera 'Gone' is not in scene 'Scene' (deleted or renamed?); "
                     "cameras: 'Cam', 'Cam2'"]


def override(path: str, value: str, enabled: bool = True) -> SimpleNamespace:
    return SimpleNamespace(path=path, value=value, enabled=enabled)


def with_overrides(tmp_path: Path, *overrides: SimpleNamespace, binary: BinaryInfo | None = None,
                   **job: Any) -> list[str]:
    data, scene = make_data(tmp_path)
    scene.render.fps = 24
    scene.camera.data = SimpleNamespace(lens=50.0)
    return job_checks.job_problems(make_job(overrides=list(overrides), **job), data=data,  # type: ignore[arg-type]
                                   default_scene=scene, abspath=lambda path: path, binary=binary,
                                   file_version=304)


def test_each_custom_override_is_resolved_in_the_open_file(tmp_path: Path) -> None:
    found = with_overrides(tmp_path, override("render.fpz", "12"), override("render.fps", "12"),
                           override("render.nope", "1", enabled=False), override("", "1"),
                           override("render.fps()", "1"), override("camera.data.lens", "35"))
    assert found == ["override 'render.fpz': the scene's render has no 'fpz' (did you mean 'fps'?)",
                     "override 'render.fps()' is not a plain attribute path: use names and subscripts "
                     'only, e.g. render.fps or objects["Cube"].hide_render']


def test_the_jobs_camera_stands_in_for_the_scenes_as_in_the_job_script(tmp_path: Path) -> None:
    """The job script sets the job's camera before its overrides: ``camera.`` paths start there."""
    assert with_overrides(tmp_path, override("camera.data.lens", "35"), camera="Cam2") == [
        "override 'camera.data.lens': the scene's camera has no 'data'"]
    assert with_overrides(tmp_path, override("camera.data.lens", "35"), camera="Cam") == []
    assert with_overrides(tmp_path, override("camera.data.lens", "35"), scene="Empty") == [
        "scene 'Empty' has no active camera and the job names none",
        "override 'camera.data.lens': the scene's camera is not set (None)"]


def test_an_external_job_or_another_blenders_settings_are_not_judged_here(tmp_path: Path) -> None:
    blender_50 = BinaryInfo("/opt/blender5", "5.0.1", ("BLENDER_EEVEE", "CYCLES"))
    assert with_overrides(tmp_path, override("render.fpz", "12"), binary=blender_50) == []
    assert with_overrides(tmp_path, override("render.fpz", "12"), binary=BLENDER_34) != []
    source = tmp_path / "other.blend"
    source.write_bytes(b"BLENDER-v304" + b"\0" * 64)
    assert with_overrides(tmp_path, override("render.fpz", "12"), external=True, filepath=str(source)) == []


def test_batch_problems_name_the_job_of_a_bad_override(tmp_path: Path) -> None:
    data, scene = make_data(tmp_path)
    scene.render.fps = 24
    jobs: list[Any] = [make_job(name="Closeup", overrides=[override("render.fpz", "12")]),
                       make_job(name="Wide", overrides=[override("render.fps", "30")])]
    found = job_checks.batch_problems(jobs, data=data, default_scene=scene, abspath=lambda p: p,
                                      binary=None, file_version=304)
    assert found == ["Job 'Closeup': override 'render.fpz': the scene's render has no 'fpz' "
                     "(did you mean 'fps'?)"]
