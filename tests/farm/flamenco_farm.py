"""A real Flamenco farm for the tests: one Manager and one Worker on 127.0.0.1, every file of
theirs (configuration, database, storage, logs) under one run folder, stopped by their pids.

The binaries are not part of the repository: ``FLAMENCO_BIN`` names a folder holding
``flamenco-manager`` and ``flamenco-worker``. Build them from Flamenco's public repository (Go
1.25 or later; ``CGO_ENABLED=0 go build -o BIN/ ./cmd/flamenco-manager ./cmd/flamenco-worker``;
the Manager runs without its web app, which the tests do not need). The Manager loads job types
from the ``scripts/`` folder beside its own executable, so the caller prepares a folder with
Render+'s job type there (``conftest.manager_with_job_type``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.waiting import wait_for

START_TIMEOUT = 30.0
STOP_GRACE = 10.0

_MANAGER_YAML = """\
_meta: {{version: 3}}
manager_name: renderplus-tests
database: {run}/manager/flamenco-manager.sqlite
listen: 127.0.0.1:{port}
autodiscoverable: false
local_manager_storage_path: {run}/manager/storage
shared_storage_path: {run}/shared
shaman: {{enabled: false}}
variables:
  blender: {{values: [{{platform: linux, value: {blender}}}]}}
  blenderArgs: {{values: [{{platform: all, value: -b -y}}]}}
"""

_WORKER_YAML = """\
manager_url: {url}/
worker_name: renderplus-tests-worker
task_types: [blender, ffmpeg, file-management, misc]
"""


def _get_text(url: str) -> str:
    """The body a GET of ``url`` answers, or "" while nothing (or an error) answers."""
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return str(answer.read().decode("utf-8", "replace"))
    except (OSError, ValueError, urllib.error.URLError):
        return ""


@dataclass
class FlamencoFarm:
    """A running Manager + Worker; ``url`` is the Manager's API root."""

    run_dir: Path
    url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)

    def start(self, binaries: Path, name: str, *argv: str) -> None:
        """Start ``flamenco-NAME`` in its own folder of the run, its output in ``NAME.log``."""
        xdg = str(self.run_dir / "xdg")  # the Worker keeps its credentials there, not in $HOME
        env = {**os.environ, "XDG_DATA_HOME": xdg, "XDG_CONFIG_HOME": xdg}
        log = (self.run_dir / f"{name}.log").open("wb")
        self.logs.append(log)
        self.processes.append(subprocess.Popen([str(binaries / f"flamenco-{name}"), *argv],
                                               cwd=self.run_dir / name, env=env, stdout=log,
                                               stderr=subprocess.STDOUT))

    def log_tail(self, name: str) -> str:
        try:
            return (self.run_dir / f"{name}.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM the Worker, then the Manager; SIGKILL what is still there after the grace."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_GRACE)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for log in self.logs:
            log.close()
        self.processes.clear()
        self.logs.clear()


def start_flamenco(binaries: Path, run_dir: Path, port: int, blender: str) -> FlamencoFarm:
    """Start a Manager from ``binaries`` on ``port`` and a Worker for it; return once the Worker
    is awake (about 1.5 s). State lives under ``run_dir``; ``blender`` is what tasks run."""
    for sub in ("manager", "worker", "shared", "xdg"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    (run_dir / "manager" / "flamenco-manager.yaml").write_text(
        _MANAGER_YAML.format(run=run_dir, port=port, blender=blender))
    (run_dir / "worker" / "flamenco-worker.yaml").write_text(_WORKER_YAML.format(url=url))
    farm = FlamencoFarm(run_dir, url)
    try:
        farm.start(binaries, "manager")
        try:
            wait_for(lambda: _get_text(f"{url}/api/v3/version"), timeout=START_TIMEOUT)
        except AssertionError:
            raise RuntimeError("the Flamenco Manager did not answer: "
                               + farm.log_tail("manager")) from None
        farm.start(binaries, "worker", "-manager", f"{url}/")
        try:
            wait_for(lambda: _worker_awake(url), timeout=START_TIMEOUT)
        except AssertionError:
            raise RuntimeError("the Flamenco Worker did not wake up: "
                               + farm.log_tail("worker")) from None
    except BaseException:
        farm.stop()
        raise
    return farm


def _worker_awake(url: str) -> bool:
    """Whether the Manager lists a Worker whose status is ``awake``."""
    listing = _get_text(f"{url}/api/v3/worker-mgt/workers")
    return '"status":"awake"' in "".join(listing.split())
