"""The real Blender stdout the parser tests read (docs/blender.md, stdout formats).

``fixtures/stdout/``: captures of Debian's Blender 3.4.1 (README lists each command).
``fixtures/public-logs/``: Blender 2.78 to 5.2 output from public projects (README: provenance).
``errors-3.4.txt`` holds 19 runs in one file; ``error_cases()`` splits it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from renderplus.batch.parser import JobProgress

FIXTURES = Path(__file__).parent / "fixtures"
STDOUT_DIR = FIXTURES / "stdout"
PUBLIC_DIR = FIXTURES / "public-logs"


def read_lines(path: Path) -> list[str]:
    """A log's lines without their line ends (as the runner hands them to ``feed``)."""
    return path.read_text(encoding="utf-8").splitlines()


def stdout_logs() -> list[Path]:
    """Every single-run stdout capture (not stderr, not the multi-run errors file)."""
    return sorted(p for p in STDOUT_DIR.glob("*.txt")
                  if not p.name.endswith(".stderr.txt") and p.name != "errors-3.4.txt")


def public_logs() -> list[Path]:
    return sorted(PUBLIC_DIR.glob("*.txt"))


@dataclass
class ErrorCase:
    name: str
    command: str
    exit_code: int
    stdout: list[str]


def error_cases() -> list[ErrorCase]:
    """The runs of ``errors-3.4.txt``: each ``########## name``, ``$ command``,
    ``exit code: N``, ``---- stdout`` lines, ``---- stderr`` lines."""
    cases: list[ErrorCase] = []
    lines = read_lines(STDOUT_DIR / "errors-3.4.txt")
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.startswith("########## "):
            index += 1
            continue
        name = line[len("########## "):].strip()
        command = lines[index + 1][2:]
        exit_code = int(lines[index + 2].split()[2])
        assert lines[index + 3] == "---- stdout", name
        end = lines.index("---- stderr", index + 4)
        cases.append(ErrorCase(name, command, exit_code, lines[index + 4:end]))
        index = end + 1
    return cases


def run(lines: Iterable[str], frames: Iterable[int], engine: str = "") -> tuple[JobProgress, list[float]]:
    """Feed every line; the parser and the progress after each line."""
    progress = JobProgress(frames=frames, engine=engine)
    trace = []
    for line in lines:
        progress.feed(line)
        trace.append(progress.progress)
    return progress, trace
