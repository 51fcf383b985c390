"""``--serve``: the REST API in the foreground until Ctrl+C or ``--stop``.

``--recipe R`` loads that recipe (started later by ``GET /batch/start``). An address other
machines can reach needs a token, and a token no client could send (empty, only whitespace) is
refused before anything listens. Without ``--token`` the server makes its own (docs/api.md,
Access) and writes it where this user's client flags find it; the start prints the dashboard's
address with it and a curl line. ``--no-token`` opens loopback on purpose, with a warning. A
summary is printed as each batch ends.
"""

from __future__ import annotations

import argparse
import errno
import sys
from typing import TYPE_CHECKING, Any, TextIO

from . import handed_over
from .bars import final_text
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
    open_store_or_warn,
    work_folder,
    write_warnings,
)
from .run import batch_observers, run_options

if TYPE_CHECKING:
    from ..batch.runner import Batch
    from ..batch.service import BatchService
    from ..server import ServerHandle


def _say_resumable(service: BatchService, resume: bool, out: TextIO) -> None:
    """Resume (``--resume``), or say what could be resumed, or which other Render+ runs the
    store's last batch (docs/api.md, Resume); a refused resume is said and the server serves."""
    from ..batch.service import ServiceError

    interrupted = service.interrupted_view()
    if resume:
        try:
            batch = service.resume()
        except ServiceError as exc:
            sys.stderr.write(f"server: {exc}\n")
            return
        out.write(f"Resuming the batch {batch.recipe.name!r}\n")
    elif interrupted is not None:
        out.write(f"The batch {interrupted.name!r} was interrupted: GET /batch/resume (or "
                  "--resume) renders what is missing\n")
    else:
        owned = service.owned_elsewhere()
        if owned:
            out.write(f"{owned}\n")


def upload_limit(text: str) -> int:
    try:
        mebibytes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a size in MiB (got {text!r})") from None
    if not 0 < mebibytes <= 1024 * 1024:
        raise argparse.ArgumentTypeError(f"must be more than 0 MiB (got {text})")
    return int(mebibytes * 1024 * 1024)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the server (--work-dir and --max-upload: Render+'s additions)")
    group.add_argument("--serve", action="store_true", help="Start the server.")
    group.add_argument("--work-dir", default=None,
                       help="Folder for uploads, the batch store and the logs (default: "
                            "$XDG_STATE_HOME/renderplus); relative paths in recipes sent over HTTP "
                            "are relative to it. On a local disk: the store needs one.")
    group.add_argument("--max-upload", type=upload_limit, default=None, metavar="MIB",
                       help="Largest .blend upload accepted, in MiB (default 2048)")
    group.add_argument("--continue-queue", action="store_true",
                       help="Go on with the queue of batches the store holds (a restarted server "
                            "finds it held otherwise; POST /queue/continue releases it later)")
    group.add_argument("--no-token", action="store_true",
                       help="Let every local user and program submit, start, cancel and stop without "
                            "the access token (127.0.0.1 only; by default changes need it).")
    handed_over.add_arguments(group)


NO_TOKEN_WARNING = ("warning: --no-token: every user and program on this machine can submit recipes "
                    "(which run shell commands as you), start, cancel and stop this server")


def _asked(args: argparse.Namespace) -> bool:
    return bool(args.serve)


def server_token(args: argparse.Namespace, host: str) -> str | None:
    """The token to require, checked before anything listens (UsageError with a sentence)."""
    from ..server.guard import check_token, is_loopback

    token = access_token(args)
    source = "--token" if args.token is not None else f"${TOKEN_ENV}"
    if token is not None and getattr(args, "no_token", False):
        raise UsageError(f"--no-token and {source} contradict each other: give one of them")
    if token is not None:
        try:
            check_token(token)
        except ValueError as exc:
            raise UsageError(f"{source}: {exc}") from None
    elif not is_loopback(host):
        raise UsageError(f"--host {host} can be reached from other machines: it needs an access token "
                         f"(--token or ${TOKEN_ENV})")
    return token


def _check(args: argparse.Namespace) -> None:
    token = server_token(args, args.host or DEFAULT_HOST)
    handed_over.check(args, explicit_token=token is not None)


def run_server(args: argparse.Namespace, out: TextIO) -> int:
    from ..batch.service import BatchService
    from ..server import start_server
    from ..server.version import SERVER_NAME, VERSION
    from .farm import farm_choice

    host = args.host or DEFAULT_HOST
    token = server_token(args, host)
    own_token = None
    if args.token_fd is not None:   # read first: the launcher waits for the answer
        own_token, answer_launcher = handed_over.token_from(args.token_fd)
        handed_over.check_own_token(own_token, bool(args.no_token))
        from ..server import bottle_loader  # noqa: F401 -- a Python without Bottle fails here
        answer_launcher()
    if args.handed_over is not None:
        handed_over.wait_until_ended(args.handed_over, out)
    recipe = load_recipe_file(args.recipe) if args.recipe else None
    if recipe is not None:
        write_warnings(recipe, sys.stderr)
    work_dir = work_folder(args)
    farm = farm_choice(args)
    service = BatchService(options=run_options(args), work_dir=work_dir,
                           store=open_store_or_warn(work_dir, sys.stderr),
                           executor_factory=farm.executor_factory(), observers=batch_observers(),
                           continue_queue=bool(args.continue_queue) and args.handed_over is None)
    if farm.on_farm:
        service.farm_status = farm.status
    if recipe is not None:
        service.load_recipe(recipe)
    extra: dict[str, Any] = {"max_upload": args.max_upload} if args.max_upload else {}
    # Ctrl+C is caught from before the port opens: a client may send it as soon as the server
    # answers, while the lines below (the access, who owns the stored batch) are still written
    with Interrupt() as interrupt:
        def start() -> ServerHandle:
            return start_server(service, host=host, port=args.port, token=token,
                                no_token=bool(args.no_token), own_token=own_token, **extra)
        try:
            handle = (handed_over.listen_when_free(start, host, args.port, out)
                      if args.handed_over is not None else start())
        except OSError as exc:
            out.flush()
            hint = " (is a server already running? stop it with --stop)" if _in_use(exc) else ""
            sys.stderr.write(f"server: cannot listen on {host}:{args.port}: {exc.strerror or exc}{hint}\n")
            return EXIT_FAILED
        out.write(f"{SERVER_NAME} {VERSION} listening on {handle.url} (work folder {work_dir}); "
                  "Ctrl+C or --stop to stop\n")
        write_access(handle, out, shown=args.handed_over is None)
        if recipe is not None:
            out.write(f"Recipe {args.recipe} loaded ({len(recipe.enabled_jobs)} jobs): "
                      f"start it with {handle.curl_example}\n")
        if args.handed_over is not None:
            handed_over.take_over(service, bool(args.continue_queue), out)
        else:
            _say_resumable(service, getattr(args, "resume", False), out)
        out.flush()
        reported: Batch | None = None
        while not handle.wait(POLL_INTERVAL):
            if args.handed_over is not None and handed_over.done(service):
                out.write("The handed-over batch and the queue are done: stopping\n")
                out.flush()
                handle.stop()
                break
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


def write_access(handle: ServerHandle, out: TextIO, shown: bool = True) -> None:
    """How to reach the server: the dashboard URL with the token (in the fragment, which the
    browser keeps to itself), a curl line with the header, and where the client flags find it.
    ``shown=False`` (a handed-over server, whose output is a log file): not the token itself."""
    from ..server.tokenfile import shown_path

    if handle.token is not None and not shown:
        saved = f", saved in {shown_path(handle.token_file)}" if handle.token_file else ""
        out.write(f"Dashboard: {handle.url}/ (changes need the access token{saved})\n")
        return
    if handle.token is None:
        sys.stderr.write(NO_TOKEN_WARNING + "\n")
        out.write(f"Dashboard: {handle.dashboard_url}\n")
        return
    out.write(f"Dashboard: {handle.dashboard_url}\n")
    out.write(f"Changes need the access token, e.g. {handle.curl_example}\n")
    if handle.token_file is not None:
        out.write(f"Token saved in {shown_path(handle.token_file)} (only you can read it): "
                  "--poll, --cancel and --stop find it\n")
    elif handle.token_file_problem:
        sys.stderr.write(f"warning: {handle.token_file_problem}\n")


def _in_use(exc: OSError) -> bool:
    return exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1))


def _report_batches(batch: Batch | None, reported: Batch | None, print_stats: bool,
                    out: TextIO) -> Batch | None:
    """Print a summary (and stats with --print-stats) once for each batch that ended."""
    if batch is None or batch is reported or not batch.status.ended:
        return reported
    view = batch.view()
    out.write(final_text(view, print_stats))
    out.flush()
    return batch


MODES = (Mode("serve", 40, _asked, _check, run_server, log_level="INFO"),)
