"""How ``main`` is put together: each family adds its flags, one mode runs, exits as docs/api.md says."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from renderplus import cli
from renderplus.cli import build_parser, choose_mode, client, common, inspect, run, serve
from renderplus.cli.common import UsageError

SPEC_FLAGS = ["--recipe", "--dry", "--check", "--serve", "--port", "--poll", "--list-gpus", "--poll-job",
              "--cancel", "--cancel-job", "--stop", "--print-stats", "--no-cleanup", "--write-log",
              "--print-debug", "--version"]


def test_every_spec_flag_comes_from_exactly_one_family() -> None:
    owners: dict[str, list[str]] = {}
    for family in (common, run, inspect, serve, client):
        parser = cli._Parser(prog="x")
        family.add_arguments(parser)
        for action in parser._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    owners.setdefault(flag, []).append(family.__name__)
    assert all(len(names) == 1 for names in owners.values()), owners
    assert set(SPEC_FLAGS) - {"--version"} <= set(owners)


@pytest.mark.parametrize("argv, mode", [
    (["--recipe", "r.json"], "run"), (["--recipe", "r.json", "--dry"], "inspect"),
    (["--recipe", "r.json", "--check", "--dry"], "inspect"), (["--serve"], "serve"),
    (["--serve", "--recipe", "r.json"], "serve"), (["--list-gpus", "b"], "gpus"),
    (["--poll"], "client"), (["--cancel-job"], "client"), (["--cancel-job", "3"], "client"),
])
def test_the_flags_pick_one_mode(argv: list[str], mode: str) -> None:
    assert choose_mode(build_parser().parse_args(argv)).name == mode


@pytest.mark.parametrize("argv, message", [
    (["--poll", "--stop"], "--poll and --stop cannot be combined: give one client flag"),
    (["--cancel-job", "2", "--recipe", "r.json"], "--cancel-job talks to a running server: it cannot be "
                                                  "combined with --recipe"),
    (["--list-gpus", "b", "--poll"], "--list-gpus cannot be combined with --poll"),
    (["--check"], "--check needs --recipe RECIPE"),
])
def test_combinations_that_mean_nothing_are_refused(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("-", r"\-")):
        choose_mode(build_parser().parse_args(argv))


def test_cancel_job_takes_an_optional_job_index() -> None:
    parser = build_parser()
    assert parser.parse_args(["--cancel-job"]).cancel_job == "current"
    assert parser.parse_args(["--cancel-job", "07"]).cancel_job == "7"
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["--cancel-job", "-1"])
    assert exited.value.code == 2


def test_dry_prints_the_recipes_warnings_first(tmp_path: Path) -> None:
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({"version": 2.2, "blender_bin": "/no/blender", "jobs": [
        {"id": 0, "blend_file": "a.blend", "frame_strat": 3}]}))
    out = io.StringIO()
    assert cli.main(["--recipe", str(recipe), "--dry"], out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "warning: jobs[0].frame_strat: unknown key; did you mean frame_start?"
    assert lines[1].startswith("Recipe: ")
    assert "Blender: /no/blender  (NOT FOUND)" in lines


def test_dry_builds_no_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Which Blender comes from choose_blender alone (a job may name its own)."""
    import renderplus.batch.runner as runner

    def no_batch(*args: object, **kwargs: object) -> None:
        raise AssertionError("--dry built a Batch")

    monkeypatch.setattr(runner.Batch, "__init__", no_batch)
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({"version": 2.2, "blender_bin": "/opt/b3/blender", "jobs": [
        {"id": 0, "blend_file": "a.blend"},
        {"id": 1, "blend_file": "b.blend", "blender_bin": "/opt/b4/blender"}]}))
    out = io.StringIO()
    assert cli.main(["--recipe", str(recipe), "--dry"], out=out) == 0
    assert f"$ /opt/b3/blender -b {tmp_path / 'a.blend'}" in out.getvalue()
    assert f"$ /opt/b4/blender -b {tmp_path / 'b.blend'}" in out.getvalue()
