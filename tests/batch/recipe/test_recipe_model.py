"""The recipe's model: the sample recipe's fields, defaults, frames and a stable round trip."""

from __future__ import annotations

import json

from renderplus.batch.frames import FrameSet
from renderplus.batch.recipe import Job, Recipe, Settings, parse_recipe
from renderplus.batch.recipe.fields import keys_of

from .recipe_samples import SAMPLE, job_with, sample


def test_spec_sample_parses_with_every_field() -> None:
    recipe = parse_recipe(json.dumps(SAMPLE))
    job = recipe.jobs[0]
    assert recipe.name == "/home/user/batch.blend"
    assert recipe.blender_bin == "/bin/blender"
    assert recipe.notifications.mail.password == "password"
    assert recipe.notifications.sound.volume == 10
    assert job.engine == "BLENDER_EEVEE" and job.size == (1920, 1080)
    assert job.frame_end == 250 and job.camera == "Camera" and job.world == "World"
    assert job.hooks["PRE_JOB"][0].cmd == "echo 'pre_job'" and not job.hooks["PRE_JOB"][0].enabled
    assert job.source_file == "/home/user/batch.blend"  # external is false -> blend_file


def test_round_trip_is_stable_and_keeps_unknown_keys() -> None:
    data = sample(future_key={"a": 1})
    data["jobs"][0]["future_job_key"] = [1, 2]
    data["settings"]["future_setting"] = True
    first = parse_recipe(data).to_dict()
    assert first["future_key"] == {"a": 1}
    assert first["jobs"][0]["future_job_key"] == [1, 2]
    assert first["settings"]["future_setting"] is True
    second = parse_recipe(json.loads(json.dumps(first))).to_dict()
    assert first == second
    for key in SAMPLE["jobs"][0]:
        assert key in first["jobs"][0]


def test_redacted_dump_hides_the_mail_password() -> None:
    recipe = parse_recipe(SAMPLE)
    assert "password" not in recipe.to_json(redact=True).replace('"pass"', "")
    assert '"pass": "password"' in recipe.to_json()


def test_defaults_for_a_minimal_recipe() -> None:
    recipe = parse_recipe({"version": 2.2, "jobs": [{"blend_file": "a.blend"}]}, base_dir="/r")
    job = recipe.jobs[0]
    assert job.enabled and not job.animated and job.frames == [1]
    assert job.cycles.device == "DEFAULT" and job.cycles.samples == 0
    assert recipe.poweroff.action == "DISABLED" and not recipe.poweroff.active
    assert recipe.resolve(job.source_file) == "/r/a.blend"
    assert recipe.hooks == {"PRE_BATCH": [], "POST_BATCH": []}


def test_external_job_renders_its_filename() -> None:
    recipe = parse_recipe(job_with(external=True, filename="/other.blend"))
    assert recipe.jobs[0].source_file == "/other.blend"


def test_frames_of_an_animation() -> None:
    recipe = parse_recipe(job_with(animated=True, frame_start=3, frame_end=6))
    assert recipe.jobs[0].frames == [3, 4, 5, 6]




# ---------------------------------------------------------------- the field table


def test_every_declared_key_is_written_back_and_nothing_else() -> None:
    recipe = parse_recipe(SAMPLE)
    data = recipe.to_dict()
    assert set(data) == set(keys_of(Recipe)) - {"start_at"}            # only when given
    assert set(data["settings"]) == set(keys_of(Settings)) - {"window", "validate"}  # only when given
    assert set(data["jobs"][0]) == set(keys_of(Job)) - {"frames", "encode"}  # only when given
    assert set(SAMPLE["jobs"][0]) <= set(keys_of(Job))


def test_extension_keys_have_their_defaults() -> None:
    recipe = parse_recipe(SAMPLE)
    settings, job = recipe.settings, recipe.jobs[0]
    assert (settings.skip_existing, settings.retries, settings.parallel, settings.session_reuse,
            settings.farm_chunk) == (False, 1, 1, None, 10)
    assert (job.skip_existing, job.blender_bin, job.frame_list) == (False, "", None)


# ---------------------------------------------------------------- frames


def test_frames_are_a_frame_set_of_ranges() -> None:
    job = parse_recipe(job_with(animated=True, frame_start=-1_048_574, frame_end=1_048_574)).jobs[0]
    assert isinstance(job.frames, FrameSet)
    assert len(job.frames) == 2_097_149 and job.frames.runs == ((-1_048_574, 1_048_574, 1),)
    still = parse_recipe(job_with(animated=False, frame_still=7)).jobs[0]
    assert still.frames == [7]


def test_a_frame_list_wins_over_start_end_and_animated() -> None:
    for animated in (True, False):
        job = parse_recipe(job_with(frames="1-10,20,30-40x2", animated=animated, frame_start=100,
                                    frame_end=200)).jobs[0]
        assert job.frames.to_spec() == "1-10,20,30-40x2"
        assert list(job.frames)[:3] == [1, 2, 3] and len(job.frames) == 10 + 1 + 6


def test_a_frame_list_round_trips_as_text() -> None:
    data = parse_recipe(job_with(frames="-5..-1, 7")).to_dict()
    assert data["jobs"][0]["frames"] == "-5..-1,7"
    assert parse_recipe(json.loads(json.dumps(data))).jobs[0].frames == [-5, -4, -3, -2, -1, 7]
