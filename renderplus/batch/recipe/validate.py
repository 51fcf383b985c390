"""Parse and validate a recipe: every problem at once, each with the path of its field.

``parse_recipe`` decodes text safely (``jsontext``), scans every value for what no field may
hold, then reads each record from its field table (``fields``/``model``): scalar kinds through
``Checker``, the kinds with their own rules here, and the checks that span fields last
(``_AFTER``). Unknown keys are reported as warnings, with the nearest known key, and kept in
``extra`` where the record has one; duplicate keys are errors.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from ..frames import FrameSet, FrameSpecError
from ..schedule import WINDOW_KEYS, ScheduleError, Window, parse_start_at, parse_window, window_problems
from .checker import Checker
from .crosscheck import AFTER as _AFTER
from .crosscheck import check_after
from .errors import RecipeError, ValidationIssue, join_path, kind_of, show
from .fields import FieldRule, keys_of, rules_of
from .jsontext import decode_recipe_text, scan_values
from .model import (
    CYCLES_DEVICES,
    IMAGE_FORMATS,
    MAX_FPS,
    MAX_JOBS,
    RECIPE_VERSION,
    SUPPORTED_VERSIONS,
    CustomOverride,
    Hook,
    Job,
    Recipe,
)
from .weburl import REDACTED_URL, web_url_problem

_REQUIRED = {"version": f"is required (this server reads version {RECIPE_VERSION})",
             "jobs": "is required (a list of render jobs)"}


def parse_recipe(source: str | bytes | Mapping[str, Any], *, base_dir: str | None = None) -> Recipe:
    """Parse and validate a recipe from JSON text or a dict; raise RecipeError listing all problems.

    The recipe's ``warnings`` list what was accepted but looks like a mistake (unknown keys).
    """
    if isinstance(source, bytes | str):
        data, suspicious = decode_recipe_text(source)
    else:
        data, suspicious = source, True
    if not isinstance(data, Mapping):
        raise RecipeError([ValidationIssue("", f"recipe must be a JSON object (got {kind_of(data)})")])
    found = scan_values(data) if suspicious else []
    check = Checker()
    recipe = read_record(check, Recipe, data, "")
    recipe.base_dir = base_dir
    flagged = {issue.path for issue in found}
    errors = found + [e for e in check.errors if e.path not in flagged]
    if errors:
        raise RecipeError(errors)
    recipe.warnings = check.final_warnings()
    return recipe


def parse_jobs(source: str | bytes | Mapping[str, Any] | Sequence[Any], *, first_id: int = 0,
               limit: int = MAX_JOBS, existing: Sequence[Job] = ()) -> list[Job]:
    """Jobs to add to a batch (docs/engine-api.md, Changing a running batch): one job object or a list of
    them, validated as a recipe's jobs; raise RecipeError listing every problem, paths starting
    ``jobs[0]``, ``jobs[1]``... in the order given. The jobs get the ids ``first_id``,
    ``first_id + 1``...: an ``id`` given must be that one. ``limit``: how many jobs the batch
    may take (``MAX_JOBS`` less those it has). ``existing``: the batch's jobs (ids 0 to
    ``first_id - 1``), which an added job's ``after`` may name besides the other added ones."""
    if isinstance(source, bytes | str):
        data, suspicious = decode_recipe_text(source)
    else:
        data, suspicious = source, True
    items = [data] if isinstance(data, Mapping) else data
    if not isinstance(items, list | tuple) or isinstance(items, str | bytes):
        raise RecipeError([ValidationIssue("jobs", f"must be a job object or a list of jobs "
                                                   f"(got {kind_of(data)})")])
    if not items:
        raise RecipeError([ValidationIssue("jobs", "must hold at least one job")])
    if len(items) > limit:
        raise RecipeError([ValidationIssue("jobs", f"at most {limit} more job(s) fit in this "
                                                   f"batch (got {len(items)})")])
    found = scan_values({"jobs": list(items)}) if suspicious else []
    check = Checker()
    jobs = []
    for index, raw in enumerate(items):
        path, job_id = f"jobs[{index}]", first_id + index
        if not isinstance(raw, Mapping):
            check.error(path, f"must be an object (got {kind_of(raw)})")
            continue
        given = raw.get("id", job_id)
        if isinstance(given, bool) or not isinstance(given, int | float) or given != job_id:
            check.error(f"{path}.id", f"is given by the batch: leave it out (this job gets "
                                      f"{job_id}, got {show(given)})")
        job = read_record(check, Job, raw, path)
        job.id = job_id
        jobs.append(job)
    check_after(check, [*existing, *jobs], {job.id: f"jobs[{job.id - first_id}]" for job in jobs},
                first_id + len(items))
    flagged = {issue.path for issue in found}
    errors = found + [e for e in check.errors if e.path not in flagged]
    if errors:
        raise RecipeError(errors)
    return jobs


def read_record(check: Checker, cls: type, data: Mapping[str, Any], path: str) -> Any:
    """An instance of ``cls`` read from ``data`` by its field table (defaults for what is absent)."""
    plan = _plan(cls)
    values: dict[str, Any] = {}
    for name, key, rule, reader in plan.fields:
        value = data.get(key, _ABSENT)
        if value is _ABSENT:
            if rule.required:
                check.error(f"{path}.{key}" if path else key, _REQUIRED.get(rule.kind, "is required"))
            continue
        if value is None and rule.nullable:
            values[name] = None
            continue
        result = reader(check, rule, value, f"{path}.{key}" if path else key)  # keys are identifiers
        if result is not None:
            values[name] = result
    record = cls(**values)
    if not data.keys() <= plan.known:
        unknown = {key: value for key, value in data.items() if key not in plan.known}
        for key in unknown:
            _warn_unknown(check, str(key), keys_of(cls), path)
        if plan.keeps_extra:
            record.extra = unknown
    if plan.after is not None:
        plan.after(check, record, data, path)
    return record


_ABSENT = object()
Reader = Callable[[Checker, FieldRule, Any, str], Any]


class _Plan(NamedTuple):
    fields: tuple[tuple[str, str, FieldRule, Reader], ...]
    known: frozenset[str]
    keeps_extra: bool
    after: Callable[[Checker, Any, Mapping[str, Any], str], None] | None


@functools.cache
def _plan(cls: type) -> _Plan:
    """The field table of ``cls`` with each rule's reader looked up once."""
    fields = tuple((name, key, rule, _READERS.get(rule.kind) or getattr(Checker, f"read_{rule.kind}"))
                   for name, key, rule in rules_of(cls))
    return _Plan(fields, frozenset(keys_of(cls)), "extra" in {f.name for f in dataclasses.fields(cls)},
                 _AFTER.get(cls))


def _warn_unknown(check: Checker, key: str, known: tuple[str, ...], path: str) -> None:
    if not check.wants_warnings():
        return
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else " (not used by this version)"
    check.warn(join_path(path, key), "unknown key" + hint)


# ---------------------------------------------------------------- kinds with their own rules


def _read_object(check: Checker, rule: FieldRule, value: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        check.error(path, f"must be an object (got {kind_of(value)})")
        return None
    return read_record(check, rule.record, value, path) if rule.record else value


def _read_list(check: Checker, rule: FieldRule, value: Any, path: str) -> list[Any] | None:
    if not isinstance(value, list):
        check.error(path, f"must be a list (got {kind_of(value)})")
        return None
    items = []
    for index, raw in enumerate(value):
        before = len(check.errors)
        item = _read_object(check, rule, raw, f"{path}[{index}]")
        if item is not None and len(check.errors) == before and _keep(item):
            items.append(item)
    return items


def _keep(item: Any) -> bool:
    """An override or hook with an empty path/command is dropped, not an error (the add-on's)."""
    if isinstance(item, CustomOverride):
        return bool(item.path)
    return not isinstance(item, Hook) or bool(item.cmd)


def _read_hooks(check: Checker, rule: FieldRule, value: Any, path: str) -> dict[str, list[Hook]] | None:
    if not isinstance(value, Mapping):
        check.error(path, f"must be an object (got {kind_of(value)})")
        return None
    result: dict[str, list[Hook]] = {phase: [] for phase in rule.choices}
    hook_rule = FieldRule("list", record=Hook)
    for phase, entries in value.items():
        phase_path = join_path(path, str(phase))
        if phase not in rule.choices:
            check.error(phase_path, f"unknown hook phase (expected {', '.join(rule.choices)})")
            continue
        if not isinstance(entries, list):
            check.error(phase_path, f"must be a list of hooks (got {kind_of(entries)})")
            continue
        shorthand = [{"cmd": e} if isinstance(e, str) else e for e in entries]  # a bare command
        result[phase] = _read_list(check, hook_rule, shorthand, phase_path) or []
    return result


def _read_jobs(check: Checker, rule: FieldRule, value: Any, path: str) -> list[Job] | None:
    if not isinstance(value, list):
        check.error(path, f"must be a list of jobs (got {kind_of(value)})")
        return None
    if len(value) > MAX_JOBS:
        check.error(path, f"at most {MAX_JOBS} jobs (got {len(value)})")
        return None
    jobs = []
    for index, raw in enumerate(value):
        job_path = f"{path}[{index}]"
        if not isinstance(raw, Mapping):
            check.error(job_path, f"must be an object (got {kind_of(raw)})")
            continue
        given = raw.get("id", index)
        if isinstance(given, bool) or not isinstance(given, int | float) or given != index:
            check.error(f"{job_path}.id", f"must be the job's index in the list, {index} (got {show(given)})")
        job = read_record(check, Job, raw, job_path)
        job.id = index
        jobs.append(job)
    check_after(check, jobs, {job.id: f"{path}[{job.id}]" for job in jobs}, len(value))
    return jobs


def _read_version(check: Checker, rule: FieldRule, value: Any, path: str) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        check.error(path, f"must be a number, {RECIPE_VERSION} (got {show(value)})")
        return None
    if value not in SUPPORTED_VERSIONS:
        check.error(path, f"unsupported recipe version {show(value)}; this server reads version "
                          f"{RECIPE_VERSION}")
        return None
    return float(value)


def _read_device(check: Checker, rule: FieldRule, value: Any, path: str) -> str | None:
    text = check.read_str(rule, value, path)
    if text is None:
        return None
    base, plus, extra = text.upper().partition("+")
    if not (base in CYCLES_DEVICES[2:] and extra == "CPU" if plus else base in CYCLES_DEVICES):
        check.error(path, f"must be one of {', '.join(CYCLES_DEVICES)} (a GPU type may add '+CPU') "
                          f"(got {show(text)})")
        return None
    return text.upper()


def _read_engine(check: Checker, rule: FieldRule, value: Any, path: str) -> str | None:
    text = check.read_str(rule, value, path)
    if text and not (text.replace("_", "a").isalnum() and text.isascii()):
        check.error(path, f"must be a render engine id like CYCLES (got {show(text)})")
        return None
    return text


def _read_format(check: Checker, rule: FieldRule, value: Any, path: str) -> str | None:
    text = check.read_str(rule, value, path)
    if text and text.upper() not in IMAGE_FORMATS:
        check.error(path, f"unknown image format {show(text)} (expected one of {', '.join(IMAGE_FORMATS)})")
        return None
    return text.upper() if text is not None else None


def _read_frames(check: Checker, rule: FieldRule, value: Any, path: str) -> FrameSet | None:
    if not isinstance(value, str):
        check.error(path, f'must be a frame list like "1-10,20,30-40x2" (got {show(value)})')
        return None
    try:
        return FrameSet.parse(value)
    except FrameSpecError as exc:
        check.error(path, str(exc))
        return None


def _read_override_value(check: Checker, rule: FieldRule, value: Any, path: str) -> Any:
    plain = isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)) or (
        isinstance(value, list) and 0 < len(value) <= 16
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value))
    if not plain:
        check.error(path, f"must be a number, string, boolean or a list of 1-16 numbers (got {show(value)})")
        return None
    return value


def _read_window(check: Checker, rule: FieldRule, value: Any, path: str) -> Window | None:
    """``{"start": "HH:MM", "end": "HH:MM"}``: each key's problem with its own path."""
    problems = window_problems(value)
    for key, message in problems:
        check.error(join_path(path, key) if key else path, message)
    if problems:
        return None
    for key in value.keys() - set(WINDOW_KEYS):
        _warn_unknown(check, str(key), WINDOW_KEYS, path)
    return parse_window(value)


def _read_start_at(check: Checker, rule: FieldRule, value: Any, path: str) -> float | str | None:
    """Epoch seconds or ``"HH:MM"``, kept as given: a time of day means the next such time
    when the batch starts, not when the recipe was read."""
    try:
        parse_start_at(value, 0.0)
    except ScheduleError as exc:
        check.error(path, str(exc))
        return None
    return value   # a str, int or float: parse_start_at read it


def _read_fps(check: Checker, rule: FieldRule, value: Any, path: str) -> float | None:
    """Frames per second of a movie: a number above 0 (23.976 is fine), at most ``MAX_FPS``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not math.isfinite(value)):
        check.error(path, f"must be a number of frames per second or null (got {show(value)})")
        return None
    if not 0 < value <= MAX_FPS:
        check.error(path, f"must be above 0 and at most {MAX_FPS:g} (got {show(value)})")
        return None
    return float(value)


def _read_web_url(check: Checker, rule: FieldRule, value: Any, path: str) -> str | None:
    """An http(s) address with a host, "" (none) or "***" (a stored recipe's secret, kept
    aside); a problem never repeats the address (it is a secret)."""
    if not isinstance(value, str):
        check.error(path, f"must be an http(s) address (got {kind_of(value)})")
        return None
    problem = web_url_problem(value) if value and value != REDACTED_URL else ""
    if problem:
        check.error(path, problem)
        return None
    return value


def _read_after(check: Checker, rule: FieldRule, value: Any, path: str) -> list[int] | None:
    """A list of job ids (``crosscheck.check_after`` checks them against the batch's jobs)."""
    if not isinstance(value, list):
        check.error(path, f"must be a list of job ids, e.g. [0, 2] (got {show(value)})")
        return None
    if len(value) > MAX_JOBS:
        check.error(path, f"at most {MAX_JOBS} job ids (got {len(value)})")
        return None
    ids = []
    for index, item in enumerate(value):
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < MAX_JOBS:
            check.error(f"{path}[{index}]", f"must be a job id, an integer from 0 (got {show(item)})")
            continue
        ids.append(item)
    return ids if len(ids) == len(value) else None


def _ignore(check: Checker, rule: FieldRule, value: Any, path: str) -> None:
    """The job's ``id`` is checked against its index by ``_read_jobs``."""


_READERS: dict[str, Reader] = {
    "record": _read_object, "list": _read_list, "hooks": _read_hooks, "jobs": _read_jobs,
    "version": _read_version, "device": _read_device, "engine": _read_engine,
    "format": _read_format, "frames": _read_frames, "override_value": _read_override_value,
    "index": _ignore, "after": _read_after, "window": _read_window, "start_at": _read_start_at,
    "fps": _read_fps, "web_url": _read_web_url,
}
