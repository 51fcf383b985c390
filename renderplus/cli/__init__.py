"""``python3 server``: the command line (docs/api.md, Command line), one module per family of modes.

- ``run``: ``--recipe R`` renders here, in the foreground, with live bars (``bars``).
- ``inspect``: ``--dry`` / ``--check`` (with ``--recipe``) and ``--list-gpus``: nothing renders.
- ``serve``: ``--serve``, the REST API (``renderplus.server``).
- ``client``: ``--poll``, ``--poll-job``, ``--cancel``, ``--cancel-job``, ``--stop`` talk to a
  running server; ``queue_client``: ``--queue RECIPE``, ``--queue-list``, ``--pause [WHEN]`` too.
- ``history``: ``--resume`` (through the running server when one answers, else the interrupted
  batch in the foreground) and ``--history``.

Each module adds its own flags (``add_arguments``) and names its modes (``MODES``: whether the
flags ask for it, which combinations it refuses, and the function that runs it); ``common``
holds the flags several families read. ``main`` builds the parser from the modules, picks the
one mode asked and maps every failure to an exit status (docs/api.md, Exit status): 0 done,
1 failed, 130 cancelled with Ctrl+C, 2 usage errors and invalid recipes, each with one sentence
on stderr. Only the standard library is imported up front: the engine and Bottle load with the
mode.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from . import client, common, farm, history, inspect, queue_client, run, serve
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Mode, UsageError

PROG = "server"
FAMILIES = (common, run, inspect, serve, client, queue_client, history, farm)
MODES: tuple[Mode, ...] = tuple(sorted(inspect.MODES + client.MODES + queue_client.MODES + serve.MODES
                                       + run.MODES + history.MODES, key=lambda mode: mode.priority))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """Usage errors: one line naming the problem (not the whole usage text), exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from ..server.version import SERVER_NAME, VERSION

    parser = _Parser(prog=PROG, description="Render+ Batch rendering server.")
    for family in FAMILIES:
        family.add_arguments(parser)
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION} ({SERVER_NAME})")
    return parser


def choose_mode(args: argparse.Namespace) -> Mode:
    """The one thing this run does; UsageError for combinations that mean nothing."""
    for mode in MODES:
        if mode.asked(args):
            mode.check(args)
            return mode
    raise UsageError("nothing to do: give --recipe, --serve, --resume, a client flag (--poll, "
                     "--queue, --pause, --stop...), --history or --list-gpus")


def configure_logging(args: argparse.Namespace, mode: Mode) -> None:
    level = logging.DEBUG if args.print_debug else getattr(logging, mode.log_level)
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _never_crash_on_output() -> None:
    """A job name a console cannot encode is escaped, never a UnicodeEncodeError mid-run."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    from ..batch.recipe import RecipeError

    if out is None:
        _never_crash_on_output()
        out = sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        mode = choose_mode(args)
        configure_logging(args, mode)
        return mode.run(args, out)
    except UsageError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return EXIT_USAGE
    except RecipeError as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return EXIT_USAGE
    except client.ClientError as exc:
        sys.stderr.write(f"{PROG}: {exc}\n")
        return EXIT_FAILED
    except ImportError as exc:  # Bottle missing: say what to install
        sys.stderr.write(f"{PROG}: {exc}\n")
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into head & co
        return EXIT_OK


__all__ = ["MODES", "build_parser", "choose_mode", "main"]
