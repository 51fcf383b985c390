"""``--resume`` and ``--history``: the durable store from the command line.

``--resume`` asks the server running on ``--host``/``--port`` to continue its paused or
interrupted batch (``GET /batch/resume``) when one answers there; when none does, it continues
the interrupted batch in the foreground (only missing or unverified frames render), or, when
none was interrupted, re-runs the last batch's failed and cancelled jobs; with ``--serve`` the
server starts and resumes it. ``--history`` lists past batches,
newest first. Both read the store in ``--work-dir`` (default: the per-user state folder).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from .client import NoServerError, client_connection, fail
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    Mode,
    UsageError,
    open_store_or_warn,
    refuse_serve_only_flags,
    work_folder,
)
from .run import batch_observers, follow, run_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the batch store (Render+'s additions)")
    group.add_argument("--resume", action="store_true",
                       help="Continue the paused or interrupted batch of the server running on "
                            "--port; with no server there, the interrupted batch here, rendering "
                            "only what is missing (or re-run the last batch's failed jobs); with "
                            "--serve, serve it")
    group.add_argument("--history", nargs="?", const=20, type=int, metavar="N",
                       help="List the last N batches of the store (default 20)")


def _resume_asked(args: argparse.Namespace) -> bool:
    return bool(args.resume) and not args.serve


def _resume_check(args: argparse.Namespace) -> None:
    if args.recipe:
        raise UsageError("--resume continues the stored batch: give no --recipe with it")
    refuse_serve_only_flags(args)


def resume(args: argparse.Namespace, out: TextIO) -> int:
    """Through the running server when one answers on the port, else in the foreground."""
    from ..server.guard import is_loopback

    try:
        return resume_through_server(args, out)
    except NoServerError:
        if args.host and not is_loopback(args.host):
            raise  # another machine's server is not there: rendering here was not asked
    return resume_foreground(args, out)


def resume_through_server(args: argparse.Namespace, out: TextIO) -> int:
    """``GET /batch/resume``: the server continues its paused (or interrupted) batch; NoServerError
    when nothing listens on the port."""
    client = client_connection(args)
    code, data, _ = client.request("GET", "/batch/resume")
    if code != 200:
        return fail(data, code)
    out.write(f"{data.get('status')} on {client.where}: {data.get('name')!r}, "
              f"{data.get('jobs')} job(s) to render (--poll follows it)\n")
    return EXIT_OK


def resume_foreground(args: argparse.Namespace, out: TextIO) -> int:
    from ..batch.service import BatchService, ServiceError
    from .farm import executor_factory

    folder = work_folder(args)
    store = open_store_or_warn(folder, sys.stderr)
    if store is None:
        return EXIT_FAILED
    service = BatchService(run_options(args), work_dir=folder, store=store,
                           executor_factory=executor_factory(args), observers=batch_observers())
    try:
        batch = service.resume()
    except ServiceError as exc:
        sys.stderr.write(f"server: {exc}\n")
        return EXIT_FAILED
    return follow(batch, args, out, started=True)


def _history_asked(args: argparse.Namespace) -> bool:
    return args.history is not None


def _history_check(args: argparse.Namespace) -> None:
    if not 1 <= args.history <= 10_000:
        raise UsageError("--history N: N from 1 to 10000")


def print_history(args: argparse.Namespace, out: TextIO) -> int:
    folder = work_folder(args)
    store = open_store_or_warn(folder, sys.stderr)
    if store is None:
        return EXIT_FAILED
    batches = store.history(limit=args.history)
    if not batches:
        out.write(f"No batches in the store ({folder})\n")
        return EXIT_OK
    out.write(f"{'id':>5}  {'started':<19}  {'status':<9}  {'jobs':>4}  {'failed':>6}  name\n")
    for item in batches:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(item.started or item.created))
        out.write(f"{item.id:>5}  {when:<19}  {item.status.value:<9}  {item.jobs:>4}  "
                  f"{item.failed:>6}  {item.name}\n")
    return EXIT_OK


MODES = (Mode("history", 5, _history_asked, _history_check, print_history),
         Mode("resume", 45, _resume_asked, _resume_check, resume))
