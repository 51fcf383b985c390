"""Writes a benchmark's figures into bench/RESULTS.md under its own heading, with machine and date.

Each benchmark owns one section; running it again replaces that section and leaves the others.
"""

from __future__ import annotations

import os
import platform
import re
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def record(title: str, lines: list[str]) -> None:
    """Replace (or add) the section ``## title`` of RESULTS.md."""
    stamp = time.strftime("%Y-%m-%d %H:%M %Z")
    body = f"## {title}\n\nMachine: {machine()}; date: {stamp}\n\n" + "\n".join(lines) + "\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: body + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + body
    RESULTS.write_text(text)
