"""Hand a batch and its queue over to a standalone server when Blender quits.

The add-on's batch lives in Blender's process: its Blenders and hooks are forked with a
parent-death signal to it, and its server's port closes with it. To keep rendering after a
quit, ``hand_over`` starts ``<python> <add-on folder>/server --serve --handed-over <pid>`` (the
``python3 server`` of the README, from this very add-on) detached from Blender: its own session,
no parent-death signal, stdin from /dev/null, its output appended to a log file in the work
folder's log folder. That server waits for Blender to end (one owner per batch: Blender owns the
batch until it is gone) and for the port, continues the batch Blender left paused or interrupted,
then the queue behind it, and stops by itself when both are done (docs/api.md, Command line).

The access token: the one Blender's server made stays the new server's own token (clients that
hold it keep working; the polls stay open as before), so it is neither ``--token`` nor
``$RENDERPLUS_TOKEN``, which would guard every request. It travels through an inherited socket
(``--token-fd``), never the command line (``ps`` shows that to every user) nor the
environment (``/proc/PID/environ`` keeps the first value even once deleted, and every child
Blender would inherit it). The server answers on that socket once it has read the token and
loaded Bottle, so a Python that cannot run it is found while Blender still runs, and the
hand-over fails with a sentence instead of losing the batch.

Which Python: Blender's ``sys.executable`` when it is a Python of 3.10 or newer (official builds
point it at their bundled Python; Debian's Blender at the first ``python3.x`` on PATH), else
``python3`` on PATH; each candidate is run once with ``-c`` to read its version. Bottle comes
from the add-on's bundled wheel (``bottle_loader``), so the chosen Python needs nothing
installed. POSIX only (the token's socket is passed with ``pass_fds``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..batch.executors.farm.choice import FarmChoice
from .httpd import DEFAULT_HOST

ADDON_DIR = Path(__file__).resolve().parent.parent
MIN_PYTHON = (3, 10)
LOG_NAME = "handed-over-server.log"
STARTED_ANSWER = b"started\n"
TOKEN_ENV = "RENDERPLUS_TOKEN"  # never passed on: it would become the new server's --token
PROBE = ("import sys\ntry:\n    import bottle\n    found = 1\nexcept Exception:\n    found = 0\n"
         "print(sys.version_info[0], sys.version_info[1], found)")
PROBE_TIMEOUT = 20.0
START_TIMEOUT = 30.0


class HandOverError(Exception):
    """Nothing was handed over (and nothing left running); ``str()`` says why."""


@dataclass(frozen=True)
class HandedOver:
    """What ``hand_over`` started: the server's pid (the leader of its own session), where its
    output goes, the command (no secret in it) and the Python it runs."""

    pid: int
    log_path: Path
    command: tuple[str, ...]
    python: str


Probe = Callable[[str], "tuple[int, int, bool] | str"]


def python_candidates() -> list[str]:
    """Blender's ``sys.executable``, then ``python3`` on PATH (without repeats)."""
    found = [sys.executable or "", shutil.which("python3") or "python3"]
    return [path for index, path in enumerate(found) if path and path not in found[:index]]


def probe_python(path: str) -> tuple[int, int, bool] | str:
    """(major, minor, Bottle importable) of the Python at ``path``, or why it is none."""
    try:
        done = subprocess.run([path, "-c", PROBE], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=PROBE_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path} cannot be run ({getattr(exc, 'strerror', None) or exc})"
    parts = done.stdout.split()
    if done.returncode != 0 or len(parts) != 3 or not all(part.isdigit() for part in parts):
        return f"{path} is not a Python that runs -c (exit status {done.returncode})"
    return int(parts[0]), int(parts[1]), parts[2] == "1"


def choose_python(candidates: Sequence[str] | None = None, *, bottle_bundled: bool | None = None,
                  probe: Probe = probe_python) -> str:
    """The first candidate that is a Python of 3.10 or newer that can import Bottle (installed,
    or the add-on's bundled wheel when ``bottle_bundled``); HandOverError naming each refusal.

    Only a program whose name starts with "python" is run: a Blender build whose
    ``sys.executable`` is Blender itself must never be started with ``-c``."""
    if bottle_bundled is None:
        from .bottle_loader import bundled_wheels

        bottle_bundled = bool(bundled_wheels(ADDON_DIR / "wheels"))
    refused = []
    for path in python_candidates() if candidates is None else candidates:
        if not os.path.basename(path).lower().startswith("python"):
            refused.append(f"{path} is not a Python program")
            continue
        found = probe(path)
        if isinstance(found, str):
            refused.append(found)
        elif found[:2] < MIN_PYTHON:
            refused.append(f"{path} is Python {found[0]}.{found[1]} (3.10 or newer is needed)")
        elif not (found[2] or bottle_bundled):
            refused.append(f"{path} has no Bottle, and the add-on bundles none")
        else:
            return path
    why = "; ".join(refused) or "no candidate was given"
    raise HandOverError(f"No Python can run the Render+ server, so the batch cannot go on without "
                        f"Blender: {why}. Install Python 3.10 or newer as python3")


def server_command(python: str, *, work_dir: Path, port: int, host: str, blender_pid: int,
                   token_fd: int, no_token: bool, blender: str | None, blenders: Sequence[str],
                   log_dir: Path | None, continue_queue: bool,
                   farm: FarmChoice | None = None) -> list[str]:
    """The handed-over server's command line (no secret in it)."""
    command = [python, str(ADDON_DIR / "server"), "--serve", "--handed-over", str(blender_pid),
               "--token-fd", str(token_fd), "--work-dir", str(work_dir), "--port", str(port),
               "--host", host]
    if no_token:
        command.append("--no-token")
    if continue_queue:
        command.append("--continue-queue")
    if log_dir is not None:
        command += ["--log-dir", str(log_dir)]
    default = [blender] if blender else []
    for path in [*default, *(path for path in blenders if path != blender)]:
        command += ["--blender", path]
    return command + farm_flags(farm)


def farm_flags(farm: FarmChoice | None) -> list[str]:
    """The ``--farm`` flags naming ``farm`` ([] for None or this machine)."""
    if farm is None or not farm.on_farm:
        return []
    flags = ["--farm", farm.spec(), "--farm-storage", farm.storage]
    if farm.blender:
        flags += ["--farm-blender", farm.blender]
    return flags + (["--farm-ffmpeg", farm.ffmpeg] if farm.ffmpeg != "ffmpeg" else [])


def hand_over(*, work_dir: str | os.PathLike[str], port: int, host: str = DEFAULT_HOST,
              token: str | None = None, no_token: bool = False, blender_pid: int | None = None,
              blender: str | None = None, blenders: Sequence[str] = (),
              log_dir: str | os.PathLike[str] | None = None, continue_queue: bool = True,
              python: str | None = None, farm: FarmChoice | None = None) -> HandedOver:
    """Start the detached server that takes over this Blender's batch and queue once it ends.

    ``work_dir``: the store's folder (the same store and its secrets); ``port``/``host``: where
    Blender's server listens (the new one waits for the port); ``token``: that server's own
    token, kept (None: the new server makes one; ``no_token``: loopback open, as the preference
    said); ``blender_pid``: the process whose end it waits for (default: this one);
    ``blender``/``blenders``: the default Blender and the candidates of "auto" (the add-on's
    preferences); ``log_dir``: the batches' log folder, and where the server's own output is
    appended (default: ``log/`` of the work folder); ``continue_queue``: go on with the queue
    after the batch; ``python``: skip the choice (``choose_python``); ``farm``: where the
    batches render (the add-on's "Render on"; None: this machine).

    Returns once the server has read its token and loaded Bottle; HandOverError with a sentence
    when no Python fits or the server could not start (then nothing runs)."""
    if os.name == "nt":
        raise HandOverError("Keeping a batch rendering without Blender is not available on Windows")
    if token and no_token:
        raise ValueError("Give the server's token or no_token, not both")
    python = python or choose_python()
    work = Path(work_dir).resolve()
    logs = Path(log_dir).resolve() if log_dir else work / "log"
    try:
        logs.mkdir(parents=True, exist_ok=True)
        log_file = os.open(logs / LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise HandOverError(f"The hand-over server's log cannot be written in {logs}: "
                            f"{exc.strerror or exc}") from exc
    ours, theirs = socket.socketpair()
    try:
        command = server_command(python, work_dir=work, port=port, host=host,
                                 blender_pid=blender_pid or os.getpid(), token_fd=theirs.fileno(),
                                 no_token=no_token, blender=blender, blenders=blenders,
                                 log_dir=Path(log_dir).resolve() if log_dir else None,
                                 continue_queue=continue_queue, farm=farm)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        os.write(log_file, f"=== {stamp} handed over by pid {blender_pid or os.getpid()}: "
                           f"{' '.join(command)}\n".encode())
        ours.sendall((token or "").encode() + b"\n")
        process = _start(command, log_file, theirs.fileno())
    finally:
        theirs.close()
        os.close(log_file)
    try:
        _wait_until_started(process, ours, logs / LOG_NAME)
    finally:
        ours.close()
    return HandedOver(process.pid, logs / LOG_NAME, tuple(command), python)


def _start(command: list[str], log_file: int, token_fd: int) -> subprocess.Popen[bytes]:
    """Detached: a session of its own (no terminal's hang-up, no group signal from Blender),
    no parent-death signal (never through ``renderplus.batch.spawner``), only the token's
    socket inherited, and no ``$RENDERPLUS_TOKEN`` (it would guard every request)."""
    env = {key: value for key, value in os.environ.items() if key != TOKEN_ENV}
    try:
        cwd = os.getcwd()
    except OSError:  # Blender's folder was removed meanwhile
        cwd = "/"
    try:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log_file,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                pass_fds=(token_fd,), env=env, cwd=cwd)
    except OSError as exc:
        raise HandOverError(f"The hand-over server could not be started with {command[0]}: "
                            f"{exc.strerror or exc}") from exc


def _wait_until_started(process: subprocess.Popen[bytes], ours: socket.socket, log_path: Path) -> None:
    """The server's answer on the token's socket; else it is ended and HandOverError names
    the last line it wrote."""
    ours.settimeout(START_TIMEOUT)
    answer = b""
    try:
        while len(answer) < len(STARTED_ANSWER):
            chunk = ours.recv(len(STARTED_ANSWER) - len(answer))
            if not chunk:   # the server ended (or closed the socket) without answering
                break
            answer += chunk
    except OSError:   # no answer within START_TIMEOUT
        pass
    if answer == STARTED_ANSWER:
        return
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)
    raise HandOverError(f"The hand-over server did not start: {_last_line(log_path)} "
                        f"(its log: {log_path})")


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "it wrote nothing"
    return lines[-1] if lines and not lines[-1].startswith("=== ") else "it wrote nothing"


__all__ = ["HandOverError", "HandedOver", "choose_python", "hand_over", "python_candidates"]
