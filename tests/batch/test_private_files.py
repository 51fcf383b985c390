"""The store and the log are readable by their user only in any work folder: an explicit
``--work-dir`` (often 0755) as in the default 0700 state folder (docs/api.md, Logs)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.logfile import BatchLog
from renderplus.batch.store import BatchStore
from renderplus.batch.store.database import STORE_FILE

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """A user's usual umask, under which Python and SQLite create files 0644."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def open_folder(path: Path) -> Path:
    path.mkdir(mode=0o755)
    path.chmod(0o755)
    return path


def test_a_new_store_in_a_given_folder_is_0600_with_its_log_files(tmp_path: Path) -> None:
    work = open_folder(tmp_path / "work")
    store = BatchStore.open(work)
    try:
        files = sorted(work.glob(STORE_FILE + "*"))
        assert [file.name for file in files] == [STORE_FILE, STORE_FILE + "-shm", STORE_FILE + "-wal"]
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
    finally:
        store.close()


def test_a_store_an_earlier_version_left_0644_is_made_0600(tmp_path: Path) -> None:
    work = open_folder(tmp_path / "work")
    BatchStore.open(work).close()
    for file in work.glob(STORE_FILE + "*"):
        file.chmod(0o644)
    store = BatchStore.open(work)
    try:
        assert {mode(file) for file in work.glob(STORE_FILE + "*")} == {0o600}
    finally:
        store.close()


def test_the_log_file_is_0600(tmp_path: Path) -> None:
    folder = open_folder(tmp_path / "log")
    log = BatchLog.open(folder)
    try:
        log.write("hook output that only its user may read")
        assert log.path is not None and mode(log.path) == 0o600
    finally:
        log.close()
