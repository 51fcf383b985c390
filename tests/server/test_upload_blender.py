"""Uploads of files the real Blender wrote (zstd, gzip), and a broken one that only Blender sees."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from renderplus.server import ServerHandle
from renderplus.server.upload_signature import BlendSignature

from .helpers import call, multipart, recipe_data, wait_for
from .test_upload_checks import GARBAGE

pytestmark = pytest.mark.blender
BLENDER = shutil.which("blender") or "/usr/bin/blender"


def upload(port: int, name: str, content: bytes) -> Any:
    body, content_type = multipart({"file": (name, content)})
    return call(port, "POST", "/batch/file", body, content_type=content_type)


def test_real_zstd_and_gzip_blends_pass_the_signature_check(blend_factory: Callable[..., Path]) -> None:
    zstd = blend_factory(compress=True).read_bytes()
    plain = blend_factory().read_bytes()
    assert zstd[:4] == b"\x28\xb5\x2f\xfd" and plain[:7] == b"BLENDER"
    for content in (zstd, gzip.compress(plain), plain):
        for chunk in (1, 13, 4096, 1 << 20):
            signature = BlendSignature()
            for start in range(0, len(content), chunk):
                signature.feed(content[start:start + chunk])
            assert signature.finish() is None, (content[:8], chunk)


def test_a_gzip_blend_is_stored_and_renders(server: ServerHandle, blend_factory: Callable[..., Path],
                                           tmp_path: Path) -> None:
    content = gzip.compress(blend_factory().read_bytes())
    stored = upload(server.port, "gz.blend", content)
    assert stored.code == 201
    assert Path(stored.data["path"]).read_bytes() == content
    final = run_one_job(server.port, stored.data["path"], tmp_path / "out_")
    assert final["jobs"][0]["status"] == "FINISHED", final["jobs"][0]["messages"]


def test_a_zstd_file_with_a_good_header_and_a_broken_payload_fails_its_job(
        server: ServerHandle, blend_factory: Callable[..., Path], tmp_path: Path) -> None:
    real = blend_factory(compress=True).read_bytes()
    broken = real[:14] + GARBAGE  # Blender's own frame, block and literals headers, then noise
    stored = upload(server.port, "broken.blend", broken)
    assert stored.code == 201  # nothing short of a zstd decoder can see the damage
    final = run_one_job(server.port, stored.data["path"], tmp_path / "out_")
    job = final["jobs"][0]
    assert job["status"] == "FAILED"
    text = " ".join(job["messages"]).lower()
    assert "broken.blend" in text
    assert "not supported" in text or "could not be read" in text or "cannot read" in text, job["messages"]


def run_one_job(port: int, blend: str, output: Path) -> dict[str, Any]:
    recipe = recipe_data([{"blend_file": blend, "output": str(output)}], blender_bin=BLENDER)
    answer = call(port, "POST", "/batch/recipe", recipe)
    assert answer.code == 200, answer.data
    assert call(port, "GET", "/batch/start").code == 200

    def ended() -> dict[str, Any] | None:
        data: dict[str, Any] = call(port, "GET", "/batch").data
        return data if data["status"] in ("FINISHED", "CANCELLED") else None

    result: dict[str, Any] = wait_for(ended, timeout=180, interval=0.25)
    return result
