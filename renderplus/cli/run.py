"""``--recipe R``: run a batch here, in the foreground, with live bars and an exit status.

Exit status (docs/api.md, Exit status): 0 every job finished, 1 a job failed or the batch was
cancelled, 130 Ctrl+C (128 + N for another signal), 2 usage errors and invalid recipes. Ctrl+C (or
SIGTERM) cancels the batch, which ends the running Blender's whole process group, and only then
does the process exit. A power action announced at the end is waited for (Ctrl+C calls it off).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import TYPE_CHECKING, TextIO

from .bars import LiveView, final_text
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    POLL_INTERVAL,
    Interrupt,
    Mode,
    load_recipe_file,
    open_store_or_warn,
    refuse_serve_only_flags,
    work_folder,
    write_warnings,
)

if TYPE_CHECKING:
    from ..batch.observers import ObserverFactory
    from ..batch.options import RunOptions
    from ..batch.runner import Batch


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """How a batch runs (read by ``--recipe`` and ``--serve``)."""
    group = parser.add_argument_group("running a batch (--recipe here, or --serve)")
    group.add_argument("--no-cleanup", action="store_true", help="Don't clean up temp folder after running.")
    group.add_argument("--write-log", action="store_true", help="Write a log in the logs folder.")
    group.add_argument("--log-dir", default=None,
                       help="Folder for --write-log (default: the log folder of the work folder)")
    group.add_argument("--blender", action="append", default=None, metavar="PATH",
                       help="A Blender to render with; repeatable: the first is the default Blender "
                            "(unless the recipe names one), and all are candidates of blender_bin "
                            "\"auto\" (with RENDERPLUS_BLENDERS, PATH and the install folders). "
                            "--blender auto makes auto the default")


def run_options(args: argparse.Namespace) -> RunOptions:
    from ..batch.options import RunOptions

    log_dir = args.log_dir or (str(work_folder(args) / "log") if args.work_dir else None)
    blenders = [path for path in args.blender or () if path]
    return RunOptions(cleanup=not args.no_cleanup, write_log=True if args.write_log else None,
                      log_dir=log_dir, debug=args.print_debug, blender_bin=blenders[0] if blenders else None,
                      blenders=tuple(path for path in blenders if path != "auto"))


def batch_observers() -> tuple[ObserverFactory, ...]:
    """What the CLI attaches to every batch it runs (here, resumed, or served): the recipe's
    RSS feed, desktop, sound, mail and webhook notices and its power action."""
    from ..around import watchers_factory

    return (watchers_factory(),)


def _asked(args: argparse.Namespace) -> bool:
    return bool(args.recipe)


def _check(args: argparse.Namespace) -> None:
    """Every other combination with --recipe is some other mode's; --no-token is --serve's."""
    refuse_serve_only_flags(args)


def run_foreground(args: argparse.Namespace, out: TextIO) -> int:
    from ..batch.runner import Batch
    from ..batch.service import BatchService
    from .farm import executor_factory

    recipe = load_recipe_file(args.recipe)
    write_warnings(recipe, sys.stderr)
    folder = work_folder(args)
    store = open_store_or_warn(folder, sys.stderr)
    if store is not None:
        waiting = BatchService(work_dir=folder, store=store).interrupted_view()
        if waiting is not None:
            sys.stderr.write(f"note: the batch {waiting.name!r} was interrupted earlier; "
                             "--resume renders what it is missing\n")
    factory = executor_factory(args)
    executor = factory(recipe) if factory is not None else None
    batch = Batch(recipe, run_options(args), executor=executor, store=store,
                  observers=batch_observers())
    return follow(batch, args, out)


def follow(batch: Batch, args: argparse.Namespace, out: TextIO, *, started: bool = False) -> int:
    """Start ``batch`` (unless ``started``: a resumed one) and show it until it ends; the exit
    status. Ctrl+C cancels it properly (no Blender left behind)."""
    from ..batch.view import BatchStatus

    bars = LiveView(out)
    cancelling = False
    with Interrupt() as interrupt:
        if not started:
            batch.start()
        revision = batch.revision
        while not batch.wait(0):
            # Wakes on every change; the timeout keeps ETAs ticking and Ctrl+C prompt.
            revision = batch.wait_change(revision, POLL_INTERVAL)
            if interrupt.event.is_set() and not cancelling:
                cancelling = True
                bars.message("Interrupted: cancelling the batch and ending Blender...")
                batch.cancel()
            bars.show_batch(batch.view())
        view = batch.view()
        bars.show_batch(view)
    out.write(final_text(view, args.print_stats))
    if cancelling:
        return EXIT_INTERRUPTED if interrupt.signal in (None, signal.SIGINT) else interrupt.exit_code
    wait_for_power_action(batch, out)
    if batch.status is BatchStatus.CANCELLED or batch.failed_jobs:
        return EXIT_FAILED
    return EXIT_OK


def wait_for_power_action(batch: Batch, out: TextIO) -> None:
    """Stay until the recipe's power action runs (it is announced with a grace period), or
    until Ctrl+C calls it off: leaving earlier would silently drop it."""
    pending = batch.view().poweroff
    if pending is None:
        return
    seconds = max(0, round(pending.at - time.time()))
    clock = time.strftime("%H:%M:%S", time.localtime(pending.at))
    out.write(f"{pending.action} in {seconds} s (at {clock}) - press Ctrl+C to call it off\n")
    out.flush()
    with Interrupt() as interrupt:
        while not batch.wait_poweroff(POLL_INTERVAL / 2):
            if interrupt.event.is_set():
                batch.cancel()
                out.write("Power action called off.\n")
                return


MODES = (Mode("run", 50, _asked, _check, run_foreground),)
