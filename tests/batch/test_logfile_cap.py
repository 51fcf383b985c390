"""The --write-log file is capped (issue 19, item 5): a marker line says where and why it was
cut, section titles still come after it, and its last line says how much was left out."""

from __future__ import annotations

from pathlib import Path

from renderplus.batch.logfile import BatchLog


def test_the_log_is_cut_at_its_limit_and_says_where_why_and_how_much(tmp_path: Path) -> None:
    log = BatchLog.open(tmp_path)
    log.limit = 10_000
    written = [f"Fra:1 Mem:1M | Sample {index}/1000 " + "x" * 40 for index in range(1000)]
    for line in written:
        log.write(line)
    log.section("batch FINISHED")
    log.write("after the section, still cut")
    log.close()
    assert log.path is not None
    text = log.path.read_text()
    lines = text.splitlines()
    assert log.path.stat().st_size < 10_000 + 1000
    cut = [n for n, line in enumerate(lines) if line.startswith("=== log cut 2")]
    assert len(cut) == 1 and "limit of 10,000 bytes" in lines[cut[0]]
    assert lines[cut[0] - 1].startswith("Fra:1 Mem:1M | Sample ")  # the last line before the cut
    assert any(line.endswith("batch FINISHED") for line in lines[cut[0]:])
    assert "after the section" not in text
    kept = sum(1 for line in lines if line.startswith("Fra:"))
    left_out = [*written[kept:], "after the section, still cut"]
    assert lines[-1] == (f"=== log cut: {len(left_out):,} line(s), "
                         f"{sum(len(line) + 1 for line in left_out):,} bytes, were left out after the cut")


def test_a_log_under_its_limit_has_no_cut_mark(tmp_path: Path) -> None:
    log = BatchLog.open(tmp_path)
    log.write("hello")
    log.close()
    assert log.path is not None and log.path.read_text() == "hello\n"
