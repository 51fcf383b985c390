"""``--serve``: the REST API in the foreground until Ctrl+C or ``--stop``.

``--recipe R`` loads that recipe (started later by ``GET /batch/start``). An address other
machines can reach needs a token, and a token no client could send (empty, only whitespace) is
refused before anything listens. A summary is printed as each batch ends.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .bars import stats_lines, summary
from .common import (
    DEFAULT_HOST,
    EXIT_FAILED,
    EXIT_OK,
    POLL_INTERVAL,
    TOKEN_ENV,
    Interrupt,
    Mode,
    UsageError,
    access_token,
    load_recipe_file,
    write_warnings,
)
from .run import run_options

if TYPE_CHECKING:
    from ..batch.runner import Batch


def upload_limit(text: str) -> int:
    try:
        mebibytes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a size in MiB (got {text!r})") from None
    if not 0 < mebibytes <= 1024 * 1024:
        raise argparse.ArgumentTypeError(f"must be more than 0 MiB (got {text})")
    return int(mebibytes * 1024 * 1024)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the server (--work-dir and --max-upload: beyond the spec)")
    group.add_argument("--serve", action="store_true", help="Start the server.")
    group.add_argument("--work-dir", default=None,
                       help="Folder for uploaded .blend files; relative paths in recipes sent over "
                            "HTTP are relative to it.")
    group.add_argument("--max-upload", type=upload_limit, default=None, metavar="MIB",
                       help="Largest .blend upload accepted, in MiB (default 2048)")


def default_work_dir() -> Path:
    """A per-user folder for uploads (never a shared /tmp path another user could plant)."""
    base = os.environ.get("LOCALAPPDATA") if os.name == "nt" else os.environ.get("XDG_CACHE_HOME")
    return Path(base or Path.home() / ".cache") / "renderplus" / "server"


def _asked(args: argparse.Namespace) -> bool:
    return bool(args.serve)


def server_token(args: argparse.Namespace, host: str) -> str | None:
    """The token to require, checked before anything listens (UsageError with a sentence)."""
    from ..server.guard import check_token, is_loopback

    token = access_token(args)
    if token is not None:
        source = "--token" if args.token is not None else f"${TOKEN_ENV}"
        try:
            check_token(token)
        except ValueError as exc:
            raise UsageError(f"{source}: {exc}") from None
    elif not is_loopback(host):
        raise UsageError(f"--host {host} can be reached from other machines: it needs an access token "
                         f"(--token or ${TOKEN_ENV})")
    return token


def _check(args: argparse.Namespace) -> None:
    server_token(args, args.host or DEFAULT_HOST)


def run_server(args: argparse.Namespace, out: TextIO) -> int:
    from ..batch.service import BatchService
    from ..server import start_server
    from ..server.version import SERVER_NAME, VERSION

    host = args.host or DEFAULT_HOST
    token = server_token(args, host)
    recipe = load_recipe_file(args.recipe) if args.recipe else None
    if recipe is not None:
        write_warnings(recipe, sys.stderr)
    work_dir = Path(args.work_dir) if args.work_dir else default_work_dir()
    service = BatchService(options=run_options(args), work_dir=work_dir)
    if recipe is not None:
        service.load_recipe(recipe)
    extra: dict[str, Any] = {"max_upload": args.max_upload} if args.max_upload else {}
    try:
        handle = start_server(service, host=host, port=args.port, token=token, **extra)
    except OSError as exc:
        out.flush()
        hint = " (is a server already running? stop it with --stop)" if _in_use(exc) else ""
        sys.stderr.write(f"server: cannot listen on {host}:{args.port}: {exc.strerror or exc}{hint}\n")
        return EXIT_FAILED
    out.write(f"{SERVER_NAME} {VERSION} listening on {handle.url} (work folder {work_dir}); "
              "Ctrl+C or --stop to stop\n")
    if recipe is not None:
        out.write(f"Recipe {args.recipe} loaded ({len(recipe.enabled_jobs)} jobs): "
                  f"start it with GET {handle.url}/batch/start\n")
    out.flush()
    reported: Batch | None = None
    with Interrupt() as interrupt:
        while not handle.wait(POLL_INTERVAL):
            if interrupt.event.is_set():
                out.write("Stopping: cancelling any batch, closing the port...\n")
                out.flush()
                service.shutdown()
                handle.stop()
                break
            reported = _report_batches(service.batch, reported, args.print_stats, out)
    service.shutdown()
    _report_batches(service.batch, reported, args.print_stats, out)
    out.write("Server stopped\n")
    out.flush()
    return EXIT_OK


def _in_use(exc: OSError) -> bool:
    return exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1))


def _report_batches(batch: Batch | None, reported: Batch | None, print_stats: bool,
                    out: TextIO) -> Batch | None:
    """Print a summary (and stats with --print-stats) once for each batch that ended."""
    if batch is None or batch is reported or not batch.status.ended:
        return reported
    view = batch.view()
    lines = summary(view) + (stats_lines(view) if print_stats else [])
    out.write("\n".join(lines) + "\n")
    out.flush()
    return batch


MODES = (Mode("serve", 40, _asked, _check, run_server, log_level="INFO"),)
