"""What several modes of the command line share: exit codes, shared flags, recipes, Ctrl+C.

Each mode family adds its own flags (``run``, ``inspect``, ``serve``, ``client``); the flags
more than one family reads (``--recipe``, ``--port``, ``--host``, ``--token``, ``--print-stats``,
``--print-debug``) are added here once, so no family owns what others need.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from ..server.httpd import DEFAULT_HOST, DEFAULT_PORT

if TYPE_CHECKING:
    from ..batch.recipe import Recipe
    from ..batch.store import BatchStore

TOKEN_ENV = "RENDERPLUS_TOKEN"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
POLL_INTERVAL = 0.5


class UsageError(Exception):
    """A flag combination or value the CLI cannot run; exit status 2, one line."""


@dataclass(frozen=True)
class Mode:
    """One thing a run can do: ``asked`` says whether the flags ask for it, ``check`` refuses
    combinations that mean nothing (UsageError), ``run`` does it and returns the exit status.
    Modes are tried in ``priority`` order (lowest first); the first one asked is run."""

    name: str
    priority: int
    asked: Callable[[argparse.Namespace], bool]
    check: Callable[[argparse.Namespace], None]
    run: Callable[[argparse.Namespace, TextIO], int]
    log_level: str = "WARNING"


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 1025 to 65535 (got {text!r})") from None
    if not 1025 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 1025 to 65535 (got {port})")
    return port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that several mode families read."""
    add = parser.add_argument
    add("--recipe", help="A JSON file containing a batch list.")
    add("--port", type=port_number, default=DEFAULT_PORT, metavar="(>1024)",
        help=f"Change port to use when running server. Default is {DEFAULT_PORT}")
    add("--print-stats", action="store_true", help="Print batch stats after finishing.")
    add("--print-debug", action="store_true", help="Print debug logs")
    extra = parser.add_argument_group("server address and access (Render+'s additions)")
    extra.add_argument("--host", default=None,
        help=f"Address to listen on (--serve) or of the server (client flags); default {DEFAULT_HOST}. "
             "Another address needs a token.")
    extra.add_argument("--token", default=None,
        help=f"Access token (default: ${TOKEN_ENV}). --serve: require it on every request (without "
             "it the server makes its own, needed for changes, and saves it for your client flags); "
             "client flags: send it (without it they read the running server's saved token).")


def given(args: argparse.Namespace, *names: str) -> list[str]:
    """The flags among ``names`` (attribute names) that this command line gave, spelled as flags."""
    flags = []
    for name in names:
        value = getattr(args, name, None)
        if value is not None and value is not False:
            flags.append("--" + name.replace("_", "-"))
    return flags


def access_token(args: argparse.Namespace) -> str | None:
    """``--token``, else ``$RENDERPLUS_TOKEN``; None when neither gives one (empty means none)."""
    if args.token is not None:
        return args.token
    return os.environ.get(TOKEN_ENV) or None


def refuse_serve_only_flags(args: argparse.Namespace) -> None:
    """``--no-token``, ``--continue-queue``, ``--handed-over`` and ``--token-fd`` only mean
    something to ``--serve``: elsewhere they are a mistake, said so."""
    if getattr(args, "no_token", False):
        raise UsageError("--no-token is a --serve flag: it lets a server run without its access token")
    if getattr(args, "continue_queue", False):
        raise UsageError("--continue-queue is a --serve flag: a server it starts goes on with the "
                         "queue it finds (POST /queue/continue does it later)")
    for flag in ("handed_over", "token_fd"):
        if getattr(args, flag, None) is not None:
            raise UsageError(f"--{flag.replace('_', '-')} is a --serve flag: the server a quitting "
                             "Blender hands its batch over to reads it")


def load_recipe_file(path: str) -> Recipe:
    """The recipe in ``path``, relative paths resolved against its folder (docs/api.md, Relative
    paths).

    Every way a file can be broken ends as RecipeError (exit 2 with the list of problems) or
    UsageError (exit 2, one sentence): never a traceback.
    """
    from ..batch.recipe import RecipeError, parse_recipe, recipe_base_dir

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the recipe {path}: {exc.strerror or exc}") from None
    try:
        return parse_recipe(data, base_dir=recipe_base_dir(path))
    except RecipeError:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError) as exc:  # a safety net
        raise UsageError(f"the recipe {path} cannot be used: {type(exc).__name__}: "
                         f"{str(exc)[:200]}") from None


def work_folder(args: argparse.Namespace) -> Path:
    """``--work-dir``, else the one per-user state folder: uploads, the store and the logs."""
    from ..batch.paths import state_dir

    return Path(args.work_dir) if getattr(args, "work_dir", None) else state_dir()


def open_store_or_warn(folder: Path, err: TextIO) -> BatchStore | None:
    """The durable store in ``folder``; without one (locked, full, a network disk) batches still
    run, but cannot be resumed: say so once."""
    from ..batch.service import open_store

    store, problem = open_store(folder)
    if store is None:
        err.write(f"warning: no batch store, so an interrupted batch cannot be resumed: {problem}\n")
    return store


def write_warnings(recipe: Recipe, out: TextIO) -> None:
    """``warning: jobs[0].frame_strat: unknown key; did you mean frame_start?``, one a line."""
    for issue in getattr(recipe, "warnings", None) or ():
        out.write(f"warning: {issue}\n")


class Interrupt:
    """SIGINT/SIGTERM turned into a flag the main loop checks (the batch is then cancelled
    properly instead of a KeyboardInterrupt landing anywhere)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signum
        self.event.set()

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @property
    def exit_code(self) -> int:
        """130 for Ctrl+C, 128 + N for another signal (143 for SIGTERM)."""
        return 128 + (self.signal or signal.SIGINT)
