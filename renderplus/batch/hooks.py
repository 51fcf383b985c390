"""Running a batch's hooks (shell commands by design) as owned, bounded children.

A hook runs in its own process group, started from the spawner thread so it dies with Render+
(its shell passes the TERM on to the whole group); one that ignores the TERM is killed after the
grace, and a restarted Render+ ends it through its recorded marker (``process_groups``). What
is kept of its output is bounded (the last lines, each cut); the log gets every line. A hook
ended by a cancel reports ``cancelled`` so the runner can mark its job CANCELLED, not FAILED.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import spawner
from .exit_status import ExitStatus
from .process import OwnedProcess
from .recipe import Hook, Recipe

if TYPE_CHECKING:
    from .jobstate import JobState

KEPT_LINES = 40          # of a hook's output, kept for the poll (the log has all of it)
KEPT_LINE_CHARS = 500
KEPT_OUTPUT_CHARS = 4000


MAX_ENV_LIST = 32 * 1024   # a longer RENDERPLUS_OUTPUTS goes to hooks as a file only


@dataclass(frozen=True)
class HookResult:
    cmd: str
    returncode: int
    output: str
    last_line: str
    cancelled: bool
    started: bool = True   # False: the hook could not run at all (``output`` says why)

    def failure(self, phase: str) -> str:
        """The sentence for a failed hook: phase, how it ended (its exit code, or the signal
        that killed it: the shell Render+ runs it in reports that as 128+N), command, its last
        line."""
        if not self.started:
            return f"{phase} hook could not run: {self.cmd} -> {self.output}"
        how = ExitStatus.of(self.returncode).describe(wrapper="its shell")
        message = f"{phase} hook failed ({how}): {self.cmd}"
        return message + (f" -> {self.last_line}" if self.last_line else "")


def hook_environment(phase: str, recipe: Recipe, job_state: JobState | None) -> dict[str, str]:
    """What a hook sees about its batch and job. The outputs reach it as a file, one path a
    line (``RENDERPLUS_OUTPUTS_FILE``); ``RENDERPLUS_OUTPUTS`` joins them only while short, so a
    long animation never passes the 128 KiB limit of an environment."""
    extra = {"RENDERPLUS_HOOK": phase, "RENDERPLUS_BATCH": recipe.name}
    if job_state is not None:
        job = job_state.job
        saved = job_state.progress.saved_files if job_state.progress else []
        outputs = os.pathsep.join(saved)
        extra.update({
            "RENDERPLUS_JOB_ID": str(job.id),
            "RENDERPLUS_JOB_NAME": job.display_name,
            "RENDERPLUS_JOB_STATUS": job_state.status.value,
            "RENDERPLUS_BLEND_FILE": recipe.resolve(job.source_file),
            "RENDERPLUS_OUTPUTS": outputs if len(outputs) <= MAX_ENV_LIST else "",
            "RENDERPLUS_OUTPUTS_FILE": job_state.outputs_file or "",
        })
    return extra


class HookRunner:
    """Runs one hook at a time; ``stop()`` (any thread) ends the one running."""

    def __init__(self, log_line: Callable[[str], None], kill_grace: float) -> None:
        self._log_line = log_line
        self._kill_grace = kill_grace
        self._lock = threading.Lock()
        self._process: OwnedProcess | None = None
        self._stopping = False

    def run(self, phase: str, hook: Hook, env: Mapping[str, str]) -> HookResult:
        self._log_line(f"[{phase}] $ {hook.cmd}")
        kept: deque[str] = deque(maxlen=KEPT_LINES)
        try:
            process = spawner.spawn(hook.cmd, env=env)
        except OSError as exc:
            return HookResult(hook.cmd, -1, f"cannot run: {exc.strerror or exc}", "", False,
                              started=False)
        with self._lock:
            self._process = process
            stop_now = self._stopping
        if stop_now:
            process.terminate(self._kill_grace)
        try:
            for line in process.lines():
                self._log_line(f"[{phase}] {line}")
                kept.append(line if len(line) <= KEPT_LINE_CHARS else line[:KEPT_LINE_CHARS] + " [...]")
            code = process.wait()
        finally:
            with self._lock:
                self._process = None
        output = "\n".join(kept)[-KEPT_OUTPUT_CHARS:]
        return HookResult(hook.cmd, code, output, kept[-1] if kept else "", process.terminated)

    def stop(self) -> None:
        """End the running hook (and refuse to leave the next one running)."""
        with self._lock:
            self._stopping = True
            process = self._process
        if process is not None:
            process.terminate(self._kill_grace)

    def reset(self) -> None:
        with self._lock:
            self._stopping = False
