"""Slurm behind the farm executor, through its command-line tools.

``sbatch``, ``scontrol``, ``scancel`` and ``sinfo`` are Slurm's stable interface (its REST API
changes with every release, and ``sacct`` needs a database daemon a small site may not run).
A Render+ job is one job array: task ``i`` runs chunk ``i``'s command line from a batch script
in the job's staging folder and writes its output to ``task-i.log`` there, which Render+ reads
as it grows. ``scontrol show job -o`` gives every array task's state and exit code while the
job stays in the controller's memory (``MinJobAge``).

A job with a movie (recipe key ``encode``) gets a second job, ``encode-job.sh``, queued with
``--dependency=afterok:ARRAY`` and ``--kill-on-invalid-dep=yes``: it starts only once every
array task completed, and Slurm cancels it (``DependencyNeverSatisfied``) when one did not. Its
output goes to ``encode.log`` in the staging folder.

A task with a check (``FarmTask.check_argv``: the recipe's ``validate``) runs it right after its
Blender, in the same task: it reads the frame markers Blender wrote into the task's own log and
adds one ``frame_checked`` marker per file. The task's exit status stays Blender's (a bad frame
is the job loop's to render again); a check script missing on the node is skipped, and the
frames it would have judged are checked by Render+ itself.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .base import (
    ENCODE_INDEX,
    FarmError,
    FarmInfo,
    FarmJobSpec,
    FarmJobStatus,
    FarmTask,
    TaskState,
    TaskStatus,
    UnknownFarmJob,
)

NAME = "slurm"
COMMAND_TIMEOUT = 30.0
_FIELD = re.compile(r"(?:^| )(JobId|ArrayTaskId|JobState|Reason|ExitCode|Partition|StartTime)=(\S*)")
_CANCEL_LINE = re.compile(r"\*\*\* (?:JOB|STEP) \S+ ON \S+ CANCELLED AT [^*]*\*\*\*")
_QUEUED = {"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING", "RESV_DEL_HOLD"}
# ``scontrol hold`` of an array whose tasks partly run or ended: per task, these are no error
_HOLD_OK = ("No error", "already finished", "no longer pending", "already completing")
_RUNNING = {"RUNNING", "COMPLETING", "SUSPENDED", "STAGE_OUT", "SIGNALING", "RESIZING", "STOPPED"}


class SlurmEngine:
    """A Slurm cluster. ``partition``: where jobs go (None: the cluster's default);
    ``blender``: the Blender path on the nodes (None: the job's own path, which the nodes must
    then see); ``conf``: a ``slurm.conf`` for the tools (``SLURM_CONF``), None: the system's;
    ``sbatch_args``: extra options for every job (``--cpus-per-task=8``, ``--gres=gpu:1``);
    ``ffmpeg``: the FFmpeg on the nodes that makes a job's movie."""

    name = NAME
    runs_frame_checks = True    # a task's script runs the node's frame check after Blender

    def __init__(self, partition: str | None = None, *, blender: str | None = None,
                 conf: str | None = None, sbatch_args: Sequence[str] = (),
                 ffmpeg: str = "ffmpeg") -> None:
        self.partition = partition or None
        self.blender = blender
        self.ffmpeg = ffmpeg
        self.conf = conf
        self.sbatch_args = tuple(sbatch_args)

    def where(self) -> str:
        return f"Slurm partition '{self.partition}'" if self.partition else "Slurm's default partition"

    # ------------------------------------------------------------------ the interface

    def submit(self, spec: FarmJobSpec) -> str:
        if not spec.tasks:
            raise FarmError("a farm job needs at least one task")
        script = os.path.join(spec.folder, "farm-job.sh")
        with open(script, "w", encoding="utf-8") as stream:
            stream.write(batch_script(spec))
        os.chmod(script, 0o755)
        argv = ["sbatch", "--parsable", f"--array=0-{len(spec.tasks) - 1}",
                f"--job-name={spec.name}", f"--chdir={spec.folder}",
                f"--output={os.path.join(spec.folder, 'task-%a.log')}", "--export=ALL"]
        if self.partition:
            argv.append(f"--partition={self.partition}")
        argv += [*self.sbatch_args, script]
        out = self._run(argv, env=spec.env)
        farm_id = out.strip().split(";")[0]
        if not farm_id.isdigit():
            raise FarmError(f"sbatch answered {out.strip()!r}, not a job id")
        return farm_id

    def submit_encode(self, spec: FarmJobSpec, farm_id: str) -> str:
        """A second job that runs the encode once every task of the array completed."""
        if spec.encode is None:
            raise FarmError("the job has no encode to queue")
        script = os.path.join(spec.folder, "encode-job.sh")
        with open(script, "w", encoding="utf-8") as stream:
            stream.write(encode_script(spec))
        os.chmod(script, 0o755)
        argv = encode_sbatch_argv(spec, farm_id, script, self.partition, self.sbatch_args)
        out = self._run(argv, env=spec.env)
        encode_id = out.strip().split(";")[0]
        if not encode_id.isdigit():
            raise FarmError(f"sbatch answered {out.strip()!r}, not a job id")
        return encode_id

    def poll_encode(self, encode: FarmTask) -> TaskStatus:
        """The encode job's state: one job, read as a one-task array (a pending job whose
        dependency can never be satisfied is cancelled by Slurm: ``--kill-on-invalid-dep``)."""
        status = self.poll(encode.farm_id, [replace(encode, index=0)]).task(0)
        if status is None:
            raise UnknownFarmJob(f"Slurm does not know job {encode.farm_id} any more")
        return replace(status, index=ENCODE_INDEX)

    def poll(self, farm_id: str, tasks: Sequence[FarmTask]) -> FarmJobStatus:
        try:
            out = self._run(["scontrol", "show", "job", "-o", farm_id])
        except FarmError as exc:
            if "Invalid job id" in str(exc):
                raise UnknownFarmJob(f"Slurm does not know job {farm_id} any more") from exc
            raise
        by_index = {task.index: task for task in tasks}
        states: dict[int, TaskStatus] = {}
        where = ""
        for line in out.splitlines():
            fields = dict(_FIELD.findall(line))
            if "JobState" not in fields:
                continue
            state_name = fields["JobState"]
            state = _task_state(state_name)
            reason = fields.get("Reason", "")
            if state is TaskState.QUEUED and not where:
                partition = fields.get("Partition") or self.partition or "?"
                where = f"Slurm partition '{partition}'" + (
                    f" ({reason})" if reason and reason != "None" else "")
            for index in _indexes(fields.get("ArrayTaskId", "0")):
                task = by_index.get(index)
                returncode = _exit_code(fields.get("ExitCode", "")) if state.ended else None
                why = _ended_reason(state_name, reason, task) if state.ended else reason
                states[index] = TaskStatus(index, state, returncode, why,
                                           _epoch(fields.get("StartTime", "")))
        return FarmJobStatus(tuple(states[i] for i in sorted(states)), where)

    def read_log(self, farm_id: str, task: FarmTask, offset: int, *,
                 final: bool = False) -> tuple[str, int]:
        try:
            with open(task.log_path, "rb") as stream:
                stream.seek(offset)
                data = stream.read()
        except FileNotFoundError:
            return "", offset
        except OSError as exc:
            raise FarmError(f"cannot read {task.log_path}: {exc.strerror or exc}") from exc
        if not final:
            end = data.rfind(b"\n") + 1
            data = data[:end]
        return data.decode("utf-8", "replace"), offset + len(data)

    def cancel(self, farm_id: str, reason: str) -> None:
        self._run(["scancel", farm_id])

    def pause(self, farm_id: str, reason: str) -> None:
        """``scontrol hold``: the array's pending tasks stay pending (``JobHeld...``), running
        ones go on. Slurm answers an error for each task that is no longer pending; only those
        errors are expected."""
        result = self._attempt(["scontrol", "hold", farm_id])
        if result.returncode == 0:
            return
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        if not lines or not all(any(ok in line for ok in _HOLD_OK) for line in lines):
            raise FarmError(f"scontrol hold {farm_id} failed: "
                            f"{lines[-1] if lines else result.returncode}")

    def describe(self) -> FarmInfo:
        try:
            out = self._run(["sinfo", "-h", "-o", "%P|%a|%D|%T"])
            version = self._run(["sinfo", "--version"]).strip()
        except FarmError as exc:
            return FarmInfo(NAME, False, str(exc))
        partitions = []
        for line in out.splitlines():
            name, avail, nodes, state = [*line.split("|"), "", "", ""][:4]
            partitions.append(f"{name} ({avail}, {nodes} node(s) {state})")
        return FarmInfo(NAME, True, version, tuple(partitions))

    # ------------------------------------------------------------------ helpers

    def _run(self, argv: list[str], env: Mapping[str, str] | None = None) -> str:
        result = self._attempt(argv, env)
        if result.returncode != 0:
            message = (result.stderr or result.stdout).strip().splitlines()
            raise FarmError(f"{shlex.join(argv[:3])} failed: {message[-1] if message else result.returncode}")
        return result.stdout

    def _attempt(self, argv: list[str],
                 env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run one of Slurm's tools; FarmError only when it cannot run or answer at all."""
        environment = dict(env) if env else dict(os.environ)
        if self.conf:
            environment["SLURM_CONF"] = self.conf
        try:
            return subprocess.run(argv, capture_output=True, text=True, env=environment,
                                  timeout=COMMAND_TIMEOUT, check=False)
        except FileNotFoundError as exc:
            raise FarmError(f"{argv[0]} is not installed (Slurm's client tools)") from exc
        except subprocess.TimeoutExpired as exc:
            raise FarmError(f"{argv[0]} did not answer within {COMMAND_TIMEOUT:.0f} s") from exc


def batch_script(spec: FarmJobSpec) -> str:
    """The job array's script: task i runs chunk i's command line."""
    lines = ["#!/bin/bash", f"# Render+ job {spec.job_id}: one array task per frame chunk",
             'case "$SLURM_ARRAY_TASK_ID" in']
    for task in spec.tasks:
        if not task.check_argv:
            lines.append(f"  {task.index}) exec {shlex.join(task.argv)} ;;")
            continue
        script = next((arg for arg in task.check_argv if arg.endswith(".py")), "")
        lines += [f"  {task.index}) {shlex.join(task.argv)}",
                  "     status=$?",
                  f"     if [ -f {shlex.quote(script)} ]; then {shlex.join(task.check_argv)}; fi",
                  '     exit "$status" ;;']
    lines += ['  *) echo "Render+: no chunk $SLURM_ARRAY_TASK_ID in this job" >&2; exit 2 ;;',
              "esac", ""]
    return "\n".join(lines)


def encode_script(spec: FarmJobSpec) -> str:
    """The encode job's script: the encode's command line."""
    assert spec.encode is not None
    return "\n".join(["#!/bin/bash", f"# Render+ job {spec.job_id}: its movie, after every chunk",
                      f"exec {shlex.join(spec.encode.argv)}", ""])


def encode_sbatch_argv(spec: FarmJobSpec, farm_id: str, script: str, partition: str | None,
                       extra: Sequence[str] = ()) -> list[str]:
    """``sbatch`` for the encode: after every task of array ``farm_id`` completed (``afterok``
    on an array waits for all its tasks), cancelled by Slurm if one did not."""
    assert spec.encode is not None
    argv = ["sbatch", "--parsable", f"--dependency=afterok:{farm_id}", "--kill-on-invalid-dep=yes",
            f"--job-name={spec.name}-encode", f"--chdir={spec.folder}",
            f"--output={spec.encode.log_path}", "--export=ALL"]
    if partition:
        argv.append(f"--partition={partition}")
    return [*argv, *extra, script]


def _task_state(name: str) -> TaskState:
    if name in _QUEUED:
        return TaskState.QUEUED
    if name in _RUNNING:
        return TaskState.RUNNING
    if name == "COMPLETED":
        return TaskState.COMPLETED
    if name == "CANCELLED":
        return TaskState.CANCELLED
    return TaskState.FAILED  # FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, BOOT_FAIL...


def _indexes(text: str) -> list[int]:
    """``ArrayTaskId``: ``3``, or for tasks still pending together ``0-7``, ``1,3-5``, ``0-9%2``."""
    indexes: list[int] = []
    for part in text.split("%")[0].split(","):
        if "-" in part:
            first, last = part.split("-", 1)
            if first.isdigit() and last.isdigit():
                indexes += range(int(first), int(last) + 1)
        elif part.isdigit():
            indexes.append(int(part))
    return indexes


def _exit_code(text: str) -> int | None:
    """``ExitCode=2:0`` -> 2; ``0:15`` (killed by signal 15) -> -15."""
    code, _, signal = text.partition(":")
    if not code.isdigit():
        return None
    if signal.isdigit() and int(signal):
        return -int(signal)
    return int(code)


def _ended_reason(state: str, reason: str, task: FarmTask | None) -> str:
    """Why a task ended, in Slurm's words: its state, and for a cancel the line slurmstepd
    wrote into the task's output (Slurm keeps no record of who cancelled without slurmdbd)."""
    parts = [f"Slurm: {state}"] if state not in ("COMPLETED",) else []
    if reason and reason not in ("None", ""):
        parts.append(reason)
    if state == "CANCELLED" and task is not None and task.log_path:
        line = _cancel_line(task.log_path)
        if line:
            parts.append(line)
    return ", ".join(parts)


def _cancel_line(path: str) -> str:
    try:
        with open(path, "rb") as stream:
            stream.seek(max(0, os.path.getsize(path) - 4096))
            text = stream.read().decode("utf-8", "replace")
    except OSError:
        return ""
    found = _CANCEL_LINE.findall(text)
    return found[-1].strip("* ").strip() if found else ""


def _epoch(text: str) -> float | None:
    """Slurm's local ``2026-11-28T17:33:50`` (or ``Unknown``) as epoch seconds."""
    try:
        parsed = time.strptime(text, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return time.mktime(parsed)
