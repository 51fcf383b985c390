"""``serve(*flags)``: ``python -m renderplus.server --serve`` on a free port, ended afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.procs import processes_with
from tests.server.helpers import SLEEP_HOOK, ServerProcess, wait_for


@pytest.fixture(autouse=True)
def own_config_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Servers save their token files in a folder of the test's own, not the user's ~/.config
    (servers started as subprocesses inherit it, and so do the CLI clients)."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def make(*args: str, **kwargs: Any) -> ServerProcess:
        kwargs.setdefault("work_dir", tmp_path / "server-work")
        process = ServerProcess(*args, **kwargs)
        started.append(process)
        return process

    yield make
    for process in started:
        process.close()
    wait_for(lambda: not processes_with(SLEEP_HOOK), timeout=15)
