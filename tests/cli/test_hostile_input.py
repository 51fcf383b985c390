"""Broken recipe files and unusable tokens: exit 2 with a sentence, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.server.helpers import cli, free_port

BLENDER = shutil.which("blender") or "/usr/bin/blender"


@pytest.mark.parametrize("content, fragment", [
    (b'{"version": 2.2, "jobs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    (b'{"jobs": ' + b"[" * 100_000, "nested too deeply"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b'{"version": 2.2, "jobs": [{"id": 0, "blend_file": "a.blend", "name": "\\ud800"}]}', "surrogate"),
    (b'{"version": 2.2, "jobs": [{"id": 0, "blend_file": "a.blend", "frame_start": 1' + b"0" * 5000 + b"}]}",
     "digits"),
    (b"[1, 2]", "must be a JSON object"),
    (b"", "not valid JSON"),
], ids=["deep", "deep-unclosed", "not-utf8", "surrogate", "huge-int", "list", "empty"])
@pytest.mark.parametrize("mode", [[], ["--dry"], ["--check"]], ids=["run", "dry", "check"])
def test_a_broken_recipe_file_exits_2_with_a_sentence(tmp_path: Path, content: bytes, fragment: str,
                                                      mode: list[str]) -> None:
    recipe = tmp_path / "broken.json"
    recipe.write_bytes(content)
    result = cli("--recipe", str(recipe), *mode, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("server: ") and fragment in result.stderr


def test_a_folder_given_as_recipe_exits_2(tmp_path: Path) -> None:
    result = cli("--recipe", str(tmp_path), "--dry")
    assert result.returncode == 2
    assert result.stderr == f"server: error: cannot read the recipe {tmp_path}: Is a directory\n"


def test_dry_prints_warnings_before_the_rest(tmp_path: Path) -> None:
    recipe = tmp_path / "typo.json"
    recipe.write_text(json.dumps({"version": 2.2, "jobs": [{"id": 0, "blend_file": "a.blend",
                                                          "frame_strat": 3}]}))
    result = cli("--recipe", str(recipe), "--dry")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first == "warning: jobs[0].frame_strat: unknown key; did you mean frame_start?"


@pytest.mark.blender
def test_check_names_an_engine_the_binary_lacks_and_what_to_use(tmp_path: Path) -> None:
    recipe = tmp_path / "eevee.json"
    recipe.write_text(json.dumps({"version": 2.2, "blender_bin": BLENDER, "jobs": [
        {"id": 0, "name": "lookdev", "blend_file": "gone.blend", "engine": "BLENDER_EEVEE_NEXT",
         "frame_strat": 2}]}))
    result = cli("--recipe", str(recipe), "--check", timeout=120)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("warning: jobs[0].frame_strat: unknown key")
    assert "PROBLEM  job 0 'lookdev'" in lines
    if "Blender 3.4" in result.stdout:  # Debian's 3.4.1: EEVEE is BLENDER_EEVEE there
        assert ("         - render engine 'BLENDER_EEVEE_NEXT' is not available in Blender 3.4.1 (engines: "
                "'BLENDER_EEVEE', 'BLENDER_WORKBENCH', 'CYCLES'); use 'BLENDER_EEVEE', the same engine's id "
                "in Blender 3.4.1") in lines


@pytest.mark.parametrize("token_args, env", [
    (["--token", "   "], {}),
    (["--token", ""], {}),
    ([], {"RENDERPLUS_TOKEN": " \t "}),
    (["--token", "tok\nen"], {}),
])
def test_a_token_no_client_could_send_is_refused_at_start(tmp_path: Path, token_args: list[str],
                                                          env: dict[str, str]) -> None:
    port = str(free_port())
    result = cli("--serve", "--port", port, "--work-dir", str(tmp_path), *token_args, env=env, timeout=30)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("server: error: ") and "token" in lines[0]
