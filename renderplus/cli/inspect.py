"""``--dry``, ``--check`` (with ``--recipe``) and ``--list-gpus``: look before rendering.

Nothing renders. ``--dry`` prints each job's Blender command line; ``--check`` asks Blender what
the files hold and which engines it has (``batch/preflight/``); ``--list-gpus`` asks a Blender
which GPUs it can render with. Which Blender a job uses comes from ``choose_blender``, the one
function that decides it, without building a batch. The recipe's warnings (unknown keys and the
like) come first, because a typo in a key silently renders something else.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from typing import TYPE_CHECKING, TextIO

from .check_estimate import print_estimate
from .client import CLIENT_FLAGS
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    Mode,
    UsageError,
    given,
    load_recipe_file,
    work_folder,
    write_warnings,
)

if TYPE_CHECKING:
    from ..batch.options import RunOptions
    from ..batch.recipe import Recipe

THE_FILES = "(the file's)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("looking before rendering (nothing renders)")
    group.add_argument("--dry", action="store_true", help="Dry Run (only print stats and commands).")
    group.add_argument("--check", action="store_true", help="Check if commands and files are OK.")
    group.add_argument("--list-gpus", metavar="LIST_GPUS",
                       help="List available GPUs (needs a Blender binary file)")


# ------------------------------------------------------------------------------ --dry / --check

def _inspect_asked(args: argparse.Namespace) -> bool:
    return bool(args.dry or args.check)


def _inspect_check(args: argparse.Namespace) -> None:
    if args.serve:
        raise UsageError("--dry and --check run nothing: they cannot be combined with --serve")
    if not args.recipe:
        raise UsageError(f"{'--dry' if args.dry else '--check'} needs --recipe RECIPE")


def inspect_recipe(args: argparse.Namespace, out: TextIO) -> int:
    from ..batch.options import choose_blender
    from .run import run_options

    recipe = load_recipe_file(args.recipe)
    write_warnings(recipe, out)
    options = run_options(args)
    blender_bin = choose_blender(recipe, options.blender_bin, candidates=options.blenders)
    code = EXIT_OK
    if args.dry:
        print_dry_run(recipe, blender_bin, args.print_debug, out, options)
    if args.check:
        if args.dry:
            out.write("\n")
        code = print_check(recipe, blender_bin, out, options)
        print_estimate(recipe, work_folder(args), out)
        if args.farm:
            code = max(code, print_farm_check(args, recipe, out))
    return code


def print_farm_check(args: argparse.Namespace, recipe: Recipe, out: TextIO) -> int:
    """Does the farm answer, what does it offer, and can its nodes see every asset."""
    from .farm import farm_choice

    blends = sorted({recipe.resolve(job.source_file) for job in recipe.enabled_jobs})
    result = farm_choice(args).check(blends)
    out.write("".join(line + "\n" for line in result.lines()))
    return EXIT_OK if result.ok and not any(result.assets.values()) else EXIT_FAILED


def print_dry_run(recipe: Recipe, blender_bin: str, show_scripts: bool, out: TextIO,
                  options: RunOptions | None = None) -> None:
    from ..batch.options import AUTO
    from ..batch.preflight import find_binary

    enabled = recipe.enabled_jobs
    frames = sum(len(job.frames) for job in enabled)
    engines: dict[str, int] = {}
    for job in enabled:
        engines[job.engine or THE_FILES] = engines.get(job.engine or THE_FILES, 0) + 1
    write = out.write
    write(f"Recipe: {recipe.name or '(unnamed)'} (version {recipe.version:g})\n")
    if blender_bin == AUTO:
        write("Blender: auto, none chosen (each job below says why)\n")
    else:
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
        write_dry_job(recipe, job.id, show_scripts, out, options)


def write_dry_job(recipe: Recipe, job_id: int, show_scripts: bool, out: TextIO,
                  options: RunOptions | None = None) -> None:
    """One enabled job: what it renders, with which Blender ("auto": the one chosen for its
    file, or why none could be), and its command line."""
    from ..batch.blender_pick import pick_blender
    from ..batch.command import OVERRIDE_SCRIPT, build_argv, format_argv, output_pattern, override_config
    from ..batch.paths import TEMP_PREFIX

    job = recipe.jobs[job_id]
    single = job.frame_list is None and not job.animated
    span = f"frame {job.frame_still}" if single else f"frames {job.frames.to_spec()} ({len(job.frames)})"
    out.write(f"\nJob {job.id} {job.display_name!r}: {recipe.resolve(job.source_file)}, "
              f"scene {job.scene or '(active)'}, camera {job.camera or '(active)'}, {span}, "
              f"engine {job.engine or THE_FILES}, output {output_pattern(recipe, job) or THE_FILES}\n")
    config = os.path.join(tempfile.gettempdir(), f"{TEMP_PREFIX}{os.getpid()}-job{job.id}-XXXXXXXX",
                          f"renderplus_job{job.id}.json")
    pick = pick_blender(recipe, options.blender_bin if options else None, job,
                        candidates=options.blenders if options else ())
    if pick.auto:
        out.write(f"  Blender (auto): {pick.path} {pick.version}\n" if not pick.problem
                  else f"  Blender (auto): none: {pick.problem}\n")
    out.write("".join(f"  warning: {warning}\n" for warning in pick.warnings))
    if pick.problem:
        return
    argv = build_argv(recipe, job, blender_bin=pick.path, config_path=config)
    out.write(f"  $ {format_argv(argv)}\n")
    if show_scripts:
        out.write(f"  job settings {config} (read by {OVERRIDE_SCRIPT}):\n")
        text = json.dumps(override_config(recipe, job), indent=2)
        out.write("".join(f"    {line}\n" for line in text.splitlines()))


def print_check(recipe: Recipe, blender_bin: str, out: TextIO, options: RunOptions | None = None) -> int:
    from ..batch.options import AUTO
    from ..batch.preflight import check_recipe

    chosen = "the Blender chosen for each file (auto)" if blender_bin == AUTO else blender_bin
    out.write(f"Checking {len(recipe.enabled_jobs)} enabled jobs with {chosen}...\n")
    out.flush()
    report = check_recipe(recipe, blender_bin, default=options.blender_bin if options else None,
                          candidates=options.blenders if options else ())
    version = f" (Blender {report.blender_version})" if report.blender_version else ""
    if blender_bin != AUTO:
        out.write(f"Blender: {blender_bin}{version}\n")
    for problem in report.problems:
        if problem.job is None:
            out.write(f"PROBLEM  {problem.message}\n")
    for job_id in report.checked_jobs:
        problems = [p for p in report.problems if p.job == job_id]
        name = recipe.jobs[job_id].display_name
        out.write(f"{'OK     ' if not problems else 'PROBLEM'}  job {job_id} {name!r}\n")
        pick = report.chosen.get(job_id)
        if pick is not None and not pick.problem:
            out.write(f"         Blender (auto): {pick.path} {pick.version}\n")
        if job_id in report.movies:
            out.write(f"         {report.movies[job_id]}\n")
        for problem in problems:
            out.write(f"         - {problem.message}\n")
        for warning in (w for w in report.warnings if w.job == job_id):
            out.write(f"         - warning: {warning.message}\n")
    count = len(report.problems)
    plural = "s" if count != 1 else ""
    out.write("All checks passed\n" if report.ok else f"{count} problem{plural} found\n")
    return EXIT_OK if report.ok else EXIT_FAILED


# ------------------------------------------------------------------------------ --list-gpus

def _gpus_asked(args: argparse.Namespace) -> bool:
    return args.list_gpus is not None


def _gpus_check(args: argparse.Namespace) -> None:
    others = given(args, *CLIENT_FLAGS, "serve", "recipe", "dry", "check")
    if others:
        raise UsageError(f"--list-gpus cannot be combined with {others[0]}")


def list_gpus(args: argparse.Namespace, out: TextIO) -> int:
    from ..batch.gpus import GpuListError, format_devices, list_devices
    from ..batch.preflight import find_binary

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


MODES = (
    Mode("gpus", 10, _gpus_asked, _gpus_check, list_gpus),
    Mode("inspect", 30, _inspect_asked, _inspect_check, inspect_recipe),
)
