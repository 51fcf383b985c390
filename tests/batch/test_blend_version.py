"""Which Blender saved a .blend: real plain, gzip and zstd files made by Blender 3.4."""

from __future__ import annotations

import gzip
import shutil
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch import zstd_head as zstd_module
from renderplus.batch.blend_version import saved_version
from renderplus.batch.zstd_head import zstd_head


@pytest.fixture(scope="module")
def plain(blend_factory: Callable[..., Path]) -> Path:
    return blend_factory(frames=1, name="plain.blend")


@pytest.fixture(scope="module")
def zstd(blend_factory: Callable[..., Path]) -> Path:
    return blend_factory(frames=1, compress=True, name="zstd.blend")


def test_a_plain_file_says_3_4(plain: Path) -> None:
    assert saved_version(str(plain)).version == 304
    assert saved_version(str(plain)).text == "3.4"


def test_a_gzip_file_says_3_4(plain: Path, tmp_path: Path) -> None:
    packed = tmp_path / "old.blend"
    packed.write_bytes(gzip.compress(plain.read_bytes()))  # how Blender before 3.0 compressed
    assert saved_version(str(packed)).version == 304


def test_a_zstd_file_is_read_with_the_zstd_program(zstd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("zstd") is None:
        pytest.skip("the zstd program is not installed (scripts/setup.sh installs it)")
    assert zstd.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
    monkeypatch.setattr(zstd_module, "_zstandard", lambda: None)
    assert saved_version(str(zstd)).version == 304


def test_a_zstd_file_is_read_with_the_zstandard_module(zstd: Path) -> None:
    module = pytest.importorskip("zstandard")
    inner, why = zstd_head(zstd.read_bytes()[:1024 * 1024], module=module, tool=None)
    assert why is None and inner is not None and inner.startswith(b"BLENDER-v304")


def test_the_zstandard_module_comes_before_the_program() -> None:
    class Decompressor:
        def decompressobj(self) -> Decompressor:
            return self

        def decompress(self, data: bytes) -> bytes:
            return b"BLENDER-v402RENDH"

    fake = types.SimpleNamespace(ZstdDecompressor=Decompressor)
    inner, why = zstd_head(b"\x28\xb5\x2f\xfd", module=fake, tool="/nonexistent/zstd")  # type: ignore[arg-type]
    assert (inner, why) == (b"BLENDER-v402RENDH", None)


def test_without_a_zstd_reader_the_version_is_unknown_in_a_sentence(
        zstd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zstd_module, "_zstandard", lambda: None)
    monkeypatch.setenv("PATH", "")
    found = saved_version(str(zstd))
    assert found.version is None and found.problem is None
    assert found.unknown is not None and str(zstd) in found.unknown
    assert "'zstandard'" in found.unknown and "'zstd'" in found.unknown


def test_a_file_that_is_no_blend_is_a_problem_naming_it(tmp_path: Path) -> None:
    text = tmp_path / "notes.blend"
    text.write_text("hello")
    found = saved_version(str(text))
    assert found.version is None and found.problem == f"{text} is not a Blender file (no BLENDER signature)"
    missing = saved_version(str(tmp_path / "gone.blend"))
    assert missing.problem is not None and "gone.blend" in missing.problem


def test_a_cut_zstd_frame_is_unknown_not_a_crash(tmp_path: Path) -> None:
    if shutil.which("zstd") is None:
        pytest.skip("the zstd program is not installed")
    inner, why = zstd_head(b"\x28\xb5\x2f\xfd\x00", module=None)
    assert inner is None and why is not None and why.startswith("zstd could not read")
