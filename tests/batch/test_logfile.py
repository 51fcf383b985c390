"""The per-batch log file: named as docs/api.md (Logs) says, never overwritten, flushed per line, and a
failing disk reported once instead of stopping anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from renderplus.batch.logfile import BatchLog, log_file_name
from tests.mounts import small_tmpfs


def test_name_is_the_specs_and_a_second_log_of_the_same_second_gets_its_own_file(tmp_path: Path) -> None:
    assert re.fullmatch(r"renderplus_\d\d-\d\d-\d{4}-\d\d-\d\d-\d\d", log_file_name(0.0))
    first = BatchLog.open(tmp_path, when=1_700_000_000)
    second = BatchLog.open(tmp_path, when=1_700_000_000)
    assert first.path != second.path and first.path and second.path
    assert second.path.name == first.path.name + "_2"
    first.close()
    second.close()


def test_each_line_is_on_disk_before_the_next_is_written(tmp_path: Path) -> None:
    log = BatchLog.open(tmp_path)
    log.write("Fra:1 Mem:1M | Sample 1/4")
    assert log.path is not None
    assert log.path.read_text() == "Fra:1 Mem:1M | Sample 1/4\n"  # read while still open
    log.section("job 0")
    assert "=== " in log.path.read_text() and "job 0" in log.path.read_text()
    log.close()
    log.write("after close is ignored")
    assert "after close" not in log.path.read_text()


def test_a_log_with_no_file_is_a_no_op() -> None:
    log = BatchLog()
    assert not log.enabled
    log.write("nothing")
    log.flush()
    log.close()


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "16k") as mount:
        yield mount


def test_a_full_disk_is_reported_once_and_then_the_log_stays_quiet(full_disk: Path) -> None:
    problems: list[str] = []
    log = BatchLog.open(full_disk, on_error=problems.append)
    for index in range(2000):
        log.write(f"line {index} " + "x" * 100)
    assert len(problems) == 1
    assert "No space left on device" in problems[0] and str(full_disk) in problems[0]
    assert not log.enabled
    log.close()
