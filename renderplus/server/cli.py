"""``python3 server``: the spec's command line (its usage text, with the Decisions' meanings).

What a run does is chosen by the flags, one mode at a time:

- ``--recipe R``: run the batch here, in the foreground, with live progress; the exit status
  says how it went (Decision 16: 0 every job finished, 1 a job failed, 130 Ctrl+C, 2 usage
  errors and invalid recipes).
- ``--serve`` (``--recipe R`` loads that recipe, started by ``GET /batch/start``).
- ``--dry`` / ``--check`` (with ``--recipe``): show the command lines / look for problems;
  nothing renders.
- ``--poll``, ``--poll-job ID``, ``--cancel``, ``--cancel-job``, ``--stop``: talk to a server
  already running on ``--port`` (Decision 11).
- ``--list-gpus BLENDER_BIN``: what that Blender can render with.

Ctrl+C (or SIGTERM) ends a run cleanly: the batch is cancelled, which ends the running Blender's
whole process group, and only then does the process exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO

from ..batch.command import (
    OVERRIDE_SCRIPT,
    build_argv,
    format_argv,
    output_pattern,
    override_config,
)
from ..batch.preflight import check_recipe, find_binary
from ..batch.recipe import Recipe, RecipeError, parse_recipe
from ..batch.runner import CANCELLED, Batch, RunOptions
from .client import ClientError, ServerClient
from .guard import is_loopback
from .progress import ENDED, JOB_ENDED, LiveView, stats_lines, summary
from .version import SERVER_NAME, VERSION

DEFAULT_PORT = 7777
TOKEN_ENV = "RENDERPLUS_TOKEN"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
POLL_INTERVAL = 0.5
STOP_WAIT = 60.0

log = logging.getLogger("renderplus.server")


class UsageError(Exception):
    """A flag combination or value the CLI cannot run; exit status 2, one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Usage errors: one line naming the problem (not the whole usage text), exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 1025 to 65535 (got {text!r})") from None
    if not 1025 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 1025 to 65535 (got {port})")
    return port


def job_index(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a job index, an integer from 0 (got {text!r})")
    return int(text)


def upload_limit(text: str) -> int:
    try:
        mebibytes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a size in MiB (got {text!r})") from None
    if not 0 < mebibytes <= 1024 * 1024:
        raise argparse.ArgumentTypeError(f"must be more than 0 MiB (got {text})")
    return int(mebibytes * 1024 * 1024)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="server", description="Render+ Batch rendering server.")
    add = parser.add_argument
    add("--recipe", help="A JSON file containing a batch list.")
    add("--dry", action="store_true", help="Dry Run (only print stats and commands).")
    add("--check", action="store_true", help="Check if commands and files are OK.")
    add("--serve", action="store_true", help="Start the server.")
    add("--port", type=port_number, default=DEFAULT_PORT, metavar="(>1024)",
        help=f"Change port to use when running server. Default is {DEFAULT_PORT}")
    add("--poll", action="store_true", help="Poll a running batch.")
    add("--list-gpus", metavar="LIST_GPUS", help="List available GPUs (needs a Blender binary file)")
    add("--poll-job", type=job_index, metavar="POLL_JOB", help="Poll a specific render job")
    add("--cancel", action="store_true", help="Cancel the running batch.")
    add("--cancel-job", action="store_true", help="Cancel the current render job.")
    add("--stop", action="store_true", help="Stop the server.")
    add("--print-stats", action="store_true", help="Print batch stats after finishing.")
    add("--no-cleanup", action="store_true", help="Don't clean up temp folder after running.")
    add("--write-log", action="store_true", help="Write a log in the logs folder.")
    add("--print-debug", action="store_true", help="Print debug logs")
    add("--version", action="version", version=f"%(prog)s {VERSION} ({SERVER_NAME})")
    extra = parser.add_argument_group("beyond the spec")
    extra.add_argument("--host", default=None,
                       help="Address to listen on (--serve) or of the server (client flags); "
                            "default 127.0.0.1. Another address needs a token.")
    extra.add_argument("--token", default=None,
                       help=f"Access token, required on every request (default: ${TOKEN_ENV}).")
    extra.add_argument("--work-dir", default=None,
                       help="Folder for uploaded .blend files; relative paths in recipes sent over "
                            "HTTP are relative to it.")
    extra.add_argument("--log-dir", default=None,
                       help="Folder for --write-log (default: the server's log folder)")
    extra.add_argument("--max-upload", type=upload_limit, default=None, metavar="MIB",
                       help="Largest .blend upload accepted, in MiB (default 2048)")
    return parser


CLIENT_FLAGS = ("poll", "poll_job", "cancel", "cancel_job", "stop")


def _given(args: argparse.Namespace, name: str) -> bool:
    value = getattr(args, name)
    return value is not None and value is not False


def choose_mode(args: argparse.Namespace) -> str:
    """The one thing this run does; UsageError for combinations that mean nothing."""
    clients = [f"--{n.replace('_', '-')}" for n in CLIENT_FLAGS if _given(args, n)]
    if len(clients) > 1:
        raise UsageError(f"{' and '.join(clients)} cannot be combined: give one client flag")
    if args.list_gpus is not None:
        others = clients + [f for f, on in (("--serve", args.serve), ("--recipe", args.recipe),
                                            ("--dry", args.dry), ("--check", args.check)) if on]
        if others:
            raise UsageError(f"--list-gpus cannot be combined with {others[0]}")
        return "gpus"
    if clients:
        for flag, on in (("--serve", args.serve), ("--recipe", args.recipe), ("--dry", args.dry),
                         ("--check", args.check)):
            if on:
                raise UsageError(f"{clients[0]} talks to a running server: it cannot be combined with {flag}")
        return clients[0].lstrip("-")
    if args.dry or args.check:
        if args.serve:
            raise UsageError("--dry and --check run nothing: they cannot be combined with --serve")
        if not args.recipe:
            raise UsageError(f"{'--dry' if args.dry else '--check'} needs --recipe RECIPE")
        return "inspect"
    if args.serve:
        return "serve"
    if args.recipe:
        return "run"
    raise UsageError("nothing to do: give --recipe, --serve, a client flag (--poll, --stop...) "
                     "or --list-gpus")


def load_recipe_file(path: str) -> Recipe:
    """The recipe in ``path``, relative paths resolved against its folder (Decision 17)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the recipe {path}: {exc.strerror or exc}") from None
    return parse_recipe(data, base_dir=str(Path(path).resolve().parent))


def default_work_dir() -> Path:
    """A per-user folder for uploads (never a shared /tmp path another user could plant)."""
    base = os.environ.get("LOCALAPPDATA") if os.name == "nt" else os.environ.get("XDG_CACHE_HOME")
    return Path(base or Path.home() / ".cache") / "renderplus" / "server"


def run_options(args: argparse.Namespace) -> RunOptions:
    return RunOptions(cleanup=not args.no_cleanup, write_log=True if args.write_log else None,
                      log_dir=args.log_dir, debug=args.print_debug)


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
        return 128 + (self.signal or signal.SIGINT)


# ------------------------------------------------------------------------------- modes

def run_foreground(args: argparse.Namespace, out: TextIO) -> int:
    recipe = load_recipe_file(args.recipe)
    batch = Batch(recipe, run_options(args))
    view = LiveView(out)
    with Interrupt() as interrupt:
        batch.start()
        cancelling = False
        while not batch.wait(POLL_INTERVAL / 2):
            if interrupt.event.is_set() and not cancelling:
                cancelling = True
                view.message("Interrupted: cancelling the batch and ending Blender...")
                batch.cancel()
            view.show_batch(batch.snapshot())
        snapshot = batch.snapshot()
        view.show_batch(snapshot)
    for line in summary(snapshot):
        out.write(line + "\n")
    if args.print_stats:
        out.write("\n".join(stats_lines(snapshot)) + "\n")
    if not cancelling:
        wait_for_power_action(batch, out)
    if cancelling:
        return EXIT_INTERRUPTED if interrupt.signal in (None, signal.SIGINT) else interrupt.exit_code
    if batch.status == CANCELLED or batch.failed_jobs:
        return EXIT_FAILED
    return EXIT_OK


def wait_for_power_action(batch: Batch, out: TextIO) -> None:
    """Stay until the recipe's power action runs (it is announced with a grace period), or
    until Ctrl+C calls it off: leaving earlier would silently drop it."""
    pending = batch.snapshot().get("poweroff")
    if not pending:
        return
    seconds = max(0, round(pending["at"] - time.time()))
    clock = time.strftime("%H:%M:%S", time.localtime(pending["at"]))
    out.write(f"{pending['action']} in {seconds} s (at {clock}) - press Ctrl+C to call it off\n")
    out.flush()
    with Interrupt() as interrupt:
        while not batch.wait_poweroff(POLL_INTERVAL / 2):
            if interrupt.event.is_set():
                batch.cancel()
                out.write("Power action called off.\n")
                return


def run_server(args: argparse.Namespace, out: TextIO) -> int:
    from ..batch.service import BatchService
    from . import start_server

    host = args.host or "127.0.0.1"
    token = args.token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host) and not token:
        raise UsageError(f"--host {host} can be reached from other machines: it needs an access token "
                         f"(--token or ${TOKEN_ENV})")
    recipe = load_recipe_file(args.recipe) if args.recipe else None
    work_dir = Path(args.work_dir) if args.work_dir else default_work_dir()
    service = BatchService(options=run_options(args), work_dir=work_dir)
    if recipe is not None:
        service.load_recipe(recipe)
    extra: dict[str, Any] = {"max_upload": args.max_upload} if args.max_upload else {}
    try:
        handle = start_server(service, host=host, port=args.port, token=token, **extra)
    except OSError as exc:
        out.flush()
        sys.stderr.write(f"server: cannot listen on {host}:{args.port}: {exc.strerror or exc}"
                         f"{' (is a server already running? stop it with --stop)' if _in_use(exc) else ''}\n")
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
            reported = _report_batches(service.batch, reported, args, out)
    service.shutdown()
    _report_batches(service.batch, reported, args, out)
    out.write("Server stopped\n")
    out.flush()
    return EXIT_OK


def _in_use(exc: OSError) -> bool:
    import errno
    return exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1))


def _report_batches(batch: Batch | None, reported: Batch | None, args: argparse.Namespace,
                    out: TextIO) -> Batch | None:
    """Print a summary (and stats with --print-stats) once for each batch that ended."""
    if batch is None or batch is reported or batch.status not in ENDED:
        return reported
    snapshot = batch.snapshot()
    lines = summary(snapshot) + (stats_lines(snapshot) if args.print_stats else [])
    out.write("\n".join(lines) + "\n")
    out.flush()
    return batch


def inspect_recipe(args: argparse.Namespace, out: TextIO) -> int:
    recipe = load_recipe_file(args.recipe)
    options = run_options(args)
    batch = Batch(recipe, options)
    code = EXIT_OK
    if args.dry:
        print_dry_run(recipe, batch.blender_bin, args.print_debug, out)
    if args.check:
        if args.dry:
            out.write("\n")
        code = print_check(recipe, batch.blender_bin, out)
    return code


def print_dry_run(recipe: Recipe, blender_bin: str, show_scripts: bool, out: TextIO) -> None:
    enabled = recipe.enabled_jobs
    frames = sum(len(job.frames) for job in enabled)
    engines: dict[str, int] = {}
    for job in enabled:
        engines[job.engine or "(the file's)"] = engines.get(job.engine or "(the file's)", 0) + 1
    write = out.write
    write(f"Recipe: {recipe.name or '(unnamed)'} (version {recipe.version:g})\n")
    write(f"Blender: {blender_bin}{'' if find_binary(blender_bin) else '  (NOT FOUND)'}\n")
    write(f"Jobs: {len(recipe.jobs)} ({len(enabled)} enabled, {len(recipe.jobs) - len(enabled)} disabled), "
          f"{frames} frame{'s' if frames != 1 else ''} to render\n")
    write("Engines: " + (", ".join(f"{name} x{count}" for name, count in engines.items()) or "none") + "\n")
    write(f"Hooks: {sum(len(h) for h in recipe.hooks.values())} batch, "
          f"{sum(len(h) for job in enabled for h in job.hooks.values())} job\n")
    for job in recipe.jobs:
        if not job.enabled:
            write(f"\nJob {job.id} {job.display_name!r}: disabled, not rendered\n")
            continue
        span = (f"frames {job.frame_start}-{job.frame_end} ({len(job.frames)})" if job.animated
                else f"frame {job.frame_still}")
        output = output_pattern(recipe, job) or "(the file's)"
        engine = job.engine or "(the file's)"
        write(f"\nJob {job.id} {job.display_name!r}: {recipe.resolve(job.source_file)}, "
              f"scene {job.scene or '(active)'}, camera {job.camera or '(active)'}, {span}, "
              f"engine {engine}, output {output}\n")
        config = os.path.join(tempfile.gettempdir(), f"renderplus-job{job.id}-XXXXXXXX",
                              f"renderplus_job{job.id}.json")
        argv = build_argv(recipe, job, blender_bin=blender_bin, config_path=config)
        write(f"  $ {format_argv(argv)}\n")
        if show_scripts:
            write(f"  job settings {config} (read by {OVERRIDE_SCRIPT}):\n")
            text = json.dumps(override_config(recipe, job), indent=2)
            write("".join(f"    {line}\n" for line in text.splitlines()))


def print_check(recipe: Recipe, blender_bin: str, out: TextIO) -> int:
    out.write(f"Checking {len(recipe.enabled_jobs)} enabled jobs with {blender_bin}...\n")
    out.flush()
    report = check_recipe(recipe, blender_bin)
    version = f" (Blender {report.blender_version})" if report.blender_version else ""
    out.write(f"Blender: {blender_bin}{version}\n")
    for problem in report.problems:
        if problem.job is None:
            out.write(f"PROBLEM  {problem.message}\n")
    for job_id in report.checked_jobs:
        problems = [p for p in report.problems if p.job == job_id]
        name = recipe.jobs[job_id].display_name
        out.write(f"{'OK     ' if not problems else 'PROBLEM'}  job {job_id} {name!r}\n")
        for problem in problems:
            out.write(f"         - {problem.message}\n")
    count = len(report.problems)
    plural = "s" if count != 1 else ""
    out.write("All checks passed\n" if report.ok else f"{count} problem{plural} found\n")
    return EXIT_OK if report.ok else EXIT_FAILED


def list_gpus(args: argparse.Namespace, out: TextIO) -> int:
    from ..batch.gpus import GpuListError, format_devices, list_devices

    binary = find_binary(args.list_gpus)
    if binary is None:
        raise UsageError(f"--list-gpus: no Blender executable at {args.list_gpus!r}")
    try:
        devices = list_devices(binary)
    except GpuListError as exc:
        sys.stderr.write(f"server: {exc}\n")
        return EXIT_FAILED
    out.write(format_devices(devices) + "\n")
    return EXIT_OK


# ------------------------------------------------------------------------------- client flags

def _client(args: argparse.Namespace) -> ServerClient:
    return ServerClient(args.host or "127.0.0.1", args.port, args.token or os.environ.get(TOKEN_ENV))


def _fail(data: dict[str, Any], code: int) -> int:
    sys.stderr.write(f"server: {data.get('status') or f'HTTP {code}'}\n")
    return EXIT_FAILED


def poll_batch(args: argparse.Namespace, out: TextIO) -> int:
    client = _client(args)
    view = LiveView(out)
    snapshot: dict[str, Any] = {}
    etag = ""
    with Interrupt() as interrupt:
        while not interrupt.event.is_set():
            asked = {"If-None-Match": etag} if etag else None
            code, data, headers = client.request("GET", "/batch", headers=asked)
            if code == 304:
                data = snapshot
            elif code != 200:
                return _fail(data, code)
            etag = headers.get("etag", "")
            snapshot = data
            view.show_batch(snapshot)
            if snapshot.get("status") in ENDED:
                break
            interrupt.event.wait(POLL_INTERVAL)
        else:
            return EXIT_INTERRUPTED
    for line in summary(snapshot):
        out.write(line + "\n")
    if args.print_stats:
        out.write("\n".join(stats_lines(snapshot)) + "\n")
    failed = snapshot.get("status") == CANCELLED or bool(snapshot.get("failed"))
    return EXIT_FAILED if failed else EXIT_OK


def poll_job(args: argparse.Namespace, out: TextIO) -> int:
    client = _client(args)
    view = LiveView(out)
    job: dict[str, Any] = {}
    with Interrupt() as interrupt:
        while not interrupt.event.is_set():
            code, job, _ = client.request("GET", f"/batch/jobs/{args.poll_job}")
            if code != 200:
                return _fail(job, code)
            view.show_job(job)
            if job.get("status") in JOB_ENDED:
                break
            interrupt.event.wait(POLL_INTERVAL)
        else:
            return EXIT_INTERRUPTED
    out.write(f"Job {job.get('id')} {job.get('status')}\n")
    for message in job.get("messages") or []:
        out.write(f"  {message}\n")
    return EXIT_OK if job.get("status") in ("FINISHED", "DISABLED") else EXIT_FAILED


def simple_request(method: str, path: str) -> Any:
    def action(args: argparse.Namespace, out: TextIO) -> int:
        code, data, _ = _client(args).request(method, path)
        if code != 200:
            return _fail(data, code)
        out.write(f"{data.get('status')}\n")
        return EXIT_OK
    return action


def stop_server(args: argparse.Namespace, out: TextIO) -> int:
    client = _client(args)
    code, data, _ = client.request("DELETE", "/server")
    if code != 200:
        return _fail(data, code)
    out.write(f"{data.get('status')}\n")
    out.flush()
    if not client.wait_port_free(STOP_WAIT):
        sys.stderr.write(f"server: the server on {client.where} is still listening after {STOP_WAIT:g} s\n")
        return EXIT_FAILED
    out.write(f"Server on {client.where} stopped\n")
    return EXIT_OK


MODES = {
    "run": run_foreground, "serve": run_server, "inspect": inspect_recipe, "gpus": list_gpus,
    "poll": poll_batch, "poll-job": poll_job, "cancel": simple_request("DELETE", "/batch"),
    "cancel-job": simple_request("DELETE", "/batch/jobs/current"), "stop": stop_server,
}


def configure_logging(args: argparse.Namespace, mode: str) -> None:
    level = logging.DEBUG if args.print_debug else logging.INFO if mode == "serve" else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        mode = choose_mode(args)
        configure_logging(args, mode)
        return MODES[mode](args, out)
    except UsageError as exc:
        sys.stderr.write(f"{parser.prog}: error: {exc}\n")
        return EXIT_USAGE
    except RecipeError as exc:
        sys.stderr.write(f"{parser.prog}: {exc}\n")
        return EXIT_USAGE
    except ClientError as exc:
        sys.stderr.write(f"{parser.prog}: {exc}\n")
        return EXIT_FAILED
    except ImportError as exc:  # Bottle missing: say what to install
        sys.stderr.write(f"{parser.prog}: {exc}\n")
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into head & co
        return EXIT_OK

