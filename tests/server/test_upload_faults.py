"""Uploads into a folder that cannot take them, and parts a crashed server left behind
(docs/api.md, Uploads): real read-only and full file systems, never a 500 without a sentence."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.options import RunOptions
from renderplus.batch.service import BatchService
from renderplus.server import start_server
from renderplus.server.app import create_app

from .wsgi_client import WsgiClient

BLEND = b"BLENDER-v304REND" + bytes(range(256)) * 512  # 128 KiB after a real 3.4 header
CAN_MOUNT = os.name == "posix" and hasattr(os, "geteuid") and os.geteuid() == 0 \
    and shutil.which("mount") is not None


def mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, check=False)
    return done.returncode == 0


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    mounted: list[Path] = []
    yield mounted
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def upload(work_dir: Path, content: bytes = BLEND) -> tuple[int, dict[str, object]]:
    service = BatchService(options=RunOptions(), work_dir=work_dir)
    try:
        answer = WsgiClient(create_app(service)).call(
            "POST", "/batch/file?name=scene.blend", content, content_type="application/octet-stream")
    finally:
        service.shutdown(timeout=5)
    return answer.code, answer.data


def read_only_folder(tmp_path: Path, mounts: list[Path]) -> Path:
    """A work folder this process cannot write: a read-only mount as root, else mode 0500."""
    folder = tmp_path / "read-only"
    if CAN_MOUNT and mount_tmpfs(folder, "ro,size=1m"):
        mounts.append(folder)
    else:
        if CAN_MOUNT or os.name != "posix":
            pytest.skip("cannot make a read-only folder here")
        folder.mkdir()
        folder.chmod(0o500)
    return folder


def test_a_read_only_work_folder_answers_503_with_a_sentence(tmp_path: Path, mounts: list[Path]) -> None:
    folder = read_only_folder(tmp_path, mounts)
    code, data = upload(folder)
    assert code == 503, data
    assert f"the work folder {folder} cannot be written" in str(data["status"])
    assert "--work-dir" in str(data["status"])


def test_a_missing_work_folder_under_a_read_only_one_answers_503(tmp_path: Path, mounts: list[Path]) -> None:
    folder = read_only_folder(tmp_path, mounts) / "work"
    code, data = upload(folder)
    assert code == 503, data
    assert "cannot be written" in str(data["status"])


@pytest.mark.skipif(not CAN_MOUNT, reason="needs root to mount a small file system")
def test_a_full_disk_answers_507_and_leaves_no_part(tmp_path: Path, mounts: list[Path]) -> None:
    folder = tmp_path / "full"
    if not mount_tmpfs(folder, "size=64k"):
        pytest.skip("cannot mount a tmpfs here")
    mounts.append(folder)
    code, data = upload(folder)
    assert code == 507, data
    assert "is full" in str(data["status"])
    assert list(folder.iterdir()) == []


def test_the_server_start_sweeps_old_parts_only(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    old, fresh, other = work / ".upload-crashed.part", work / ".upload-live.part", work / "keep.part"
    for path in (old, fresh, other):
        path.write_bytes(b"BLENDER-v304" + b"x" * 100)
    an_hour_ago = os.stat(old).st_mtime - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(other, (an_hour_ago, an_hour_ago))
    target = tmp_path / "precious.blend"
    target.write_bytes(b"keep me")
    link = work / ".upload-link.part"
    link.symlink_to(target)
    os.utime(link, (an_hour_ago, an_hour_ago), follow_symlinks=False)
    service = BatchService(options=RunOptions(), work_dir=work)
    handle = start_server(service, port=0, token_file=False)
    try:
        assert not old.exists()
        assert fresh.exists() and other.exists()  # a part still being written; not a part
        assert link.is_symlink() and target.read_bytes() == b"keep me"
    finally:
        handle.stop()
        service.shutdown(timeout=5)
