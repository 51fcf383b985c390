"""``--queue RECIPE``, ``--queue-list`` and ``--pause [now|frame|job]``: the queue and the pause
of a running server (docs/api.md, Client flags; The queue; Pause).

Clients like ``--poll`` (``client``): the same host, port and token rules, one sentence and
exit 1 when the server refuses or does not answer. ``--queue`` checks the recipe here first (an
invalid one is exit 2 with every problem, as ``--recipe``) and sends it with its relative paths
made absolute against the recipe's folder, as ``--recipe`` would resolve them: the server would
otherwise resolve them against its own work folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..batch.pause import PAUSE_WHEN
from .client import ServerClient, client_connection, fail, no_such_route, refuse_other_flags
from .common import EXIT_FAILED, EXIT_OK, Mode, UsageError, given, load_recipe_file, write_warnings

if TYPE_CHECKING:
    from ..batch.recipe import Recipe

QUEUE_FLAGS = ("queue", "queue_list", "pause")
JOB_PATH_KEYS = ("blend_file", "filename", "output")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the queue and the pause of a running server (Render+'s additions)")
    group.add_argument("--queue", metavar="RECIPE",
                       help="Queue the recipe behind the running batch (it starts at once when "
                            "nothing runs and the queue is not held)")
    group.add_argument("--queue-list", action="store_true",
                       help="List the queued batches and whether the queue is held")
    group.add_argument("--pause", nargs="?", const="frame", choices=PAUSE_WHEN, metavar="WHEN",
                       help="Pause the running batch: now, after the frame (the default) or "
                            "after the job; --resume continues it")


def _asked(args: argparse.Namespace) -> bool:
    return bool(given(args, *QUEUE_FLAGS))


def _check(args: argparse.Namespace) -> None:
    refuse_other_flags(args)


def run_queue_client(args: argparse.Namespace, out: TextIO) -> int:
    if args.queue:
        recipe = load_recipe_file(args.queue)
        write_warnings(recipe, sys.stderr)
        return queue_recipe(client_connection(args), args.queue, recipe, out)
    if args.queue_list:
        return list_queue(client_connection(args), out)
    return pause(client_connection(args), args.pause, out)


def queue_recipe(client: ServerClient, path: str, recipe: Recipe, out: TextIO) -> int:
    body = json.dumps(body_for_server(path, recipe)).encode("utf-8")
    code, data, _ = client.request("POST", "/queue", body, {"Content-Type": "application/json"})
    if code != 201:
        return refused(client, "POST /queue", code, data)
    out.write(f"{data.get('status')} (queue id {data.get('id')})\n")
    return EXIT_OK


def body_for_server(path: str, recipe: Recipe) -> dict[str, Any]:
    """The recipe file's JSON as written, its relative file paths made absolute (the .blend,
    outputs, Blender binaries given as paths, the feed and the sound file)."""
    try:
        data = json.loads(Path(path).read_bytes())
    except (OSError, ValueError) as exc:  # it was readable a moment ago
        raise UsageError(f"cannot read the recipe {path}: {exc}") from None
    _absolute(data, ("blender_bin",), recipe, binary=True)
    _absolute(data.get("settings", {}).get("rss"), ("path",), recipe)
    _absolute(data.get("notifications", {}).get("sound"), ("file",), recipe)
    for job in data.get("jobs") or ():
        _absolute(job, JOB_PATH_KEYS, recipe)
        _absolute(job, ("blender_bin",), recipe, binary=True)
    return data


def _absolute(section: Any, keys: tuple[str, ...], recipe: Recipe, *, binary: bool = False) -> None:
    """Make ``section[key]`` absolute for each of ``keys`` that holds a relative path. A binary
    named without a folder (``blender``) is looked up on the server's PATH: left as it is."""
    if not isinstance(section, dict):
        return
    for key in keys:
        value = section.get(key)
        if not isinstance(value, str) or not value or os.path.isabs(os.path.expanduser(value)):
            continue
        if binary and os.sep not in value and not (os.altsep and os.altsep in value):
            continue
        section[key] = recipe.resolve(value)


def list_queue(client: ServerClient, out: TextIO) -> int:
    code, data, _ = client.request("GET", "/queue")
    if code != 200:
        return refused(client, "GET /queue", code, data)
    batches = [entry for entry in data.get("batches") or () if isinstance(entry, dict)]
    if batches:
        out.write(f"{'pos':>3}  {'id':>5}  {'added':<19}  {'jobs':>4}  {'starts':<9}  "
                  f"{'ends':<9}  name\n")
    for entry in batches:
        added = entry.get("added")
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(added)) \
            if isinstance(added, int | float) else "?"
        out.write(f"{entry.get('position', '?'):>3}  {entry.get('id', '?'):>5}  {when:<19}  "
                  f"{entry.get('jobs', '?'):>4}  {_clock(entry.get('estimated_start')):<9}  "
                  f"{_clock(entry.get('estimated_end')):<9}  {entry.get('name', '')}\n")
    out.write(f"{data.get('status')}\n")
    end = data.get("estimated_end")
    if isinstance(end, int | float):
        out.write(f"Everything is done about {_clock(end)}\n")
    return EXIT_OK


def _clock(moment: object) -> str:
    """An estimated moment as a person reads it (``Fri 06:40``, local time); ``-``: unknown."""
    if not isinstance(moment, int | float) or isinstance(moment, bool):
        return "-"
    return time.strftime("%a %H:%M", time.localtime(moment))


def pause(client: ServerClient, when: str, out: TextIO) -> int:
    body = json.dumps({"when": when}).encode()
    code, data, _ = client.request("POST", "/batch/pause", body, {"Content-Type": "application/json"})
    if code != 200:
        return refused(client, "POST /batch/pause", code, data)
    out.write(f"{data.get('status')}\n")
    return EXIT_OK


def refused(client: ServerClient, route: str, code: int, data: dict[str, Any]) -> int:
    """The server's sentence (and each problem it lists) on stderr, exit 1; a server without the
    route is an older Render+, said so."""
    if no_such_route(code, data):
        sys.stderr.write(f"server: the server on {client.where} has no {route} (it answered HTTP "
                         f"{code}): it is an older Render+ without the queue and the pause\n")
        return EXIT_FAILED
    status = fail(data, code)
    for issue in data.get("errors") or ():
        if isinstance(issue, dict):
            sys.stderr.write(f"  - {issue.get('path')}: {issue.get('message')}\n")
    return status


MODES = (Mode("queue", 19, _asked, _check, run_queue_client),)
