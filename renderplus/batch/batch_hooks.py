"""A batch's hook phases: PRE_BATCH and POST_BATCH around the jobs, PRE_JOB and POST_JOB
around each job, run where Render+ runs, one hook at a time.

Each hook's result is kept in the batch's state (the poll's ``hooks``); a failed batch hook is
a batch message, a failed job hook a message of its job (and, for PRE_JOB, the job is not
rendered: the job loop decides that from ``run_job``'s answer). A cancel ends the running hook
(``stop``); ``cancel_job`` stops it only when it belongs to that job.
"""

from __future__ import annotations

from .batchstate import BatchState
from .changes import BatchChanges
from .hooks import HookResult, HookRunner, hook_environment
from .jobstate import JobState
from .options import RunOptions, child_environment
from .view import HookRun


class BatchHooks:
    """Runs the recipe's hooks of a phase, in order, for the batch or one job."""

    def __init__(self, state: BatchState, changes: BatchChanges, options: RunOptions) -> None:
        self._state = state
        self._changes = changes
        self._options = options
        self._runner = HookRunner(changes.log.write, options.kill_grace)
        self._job: int | None = None   # the job whose hook runs now

    def run_batch(self, phase: str) -> None:
        """PRE_BATCH or POST_BATCH: a failure is reported; the batch goes on."""
        for hook in self._state.recipe.hooks.get(phase, []):
            if not hook.enabled or self._state.cancel_asked.is_set():
                continue
            result = self._runner.run(phase, hook, self._environment(phase, None))
            self._keep(phase, None, result)
            if result.returncode != 0 and not result.cancelled:
                self._changes.report(result.failure(phase))

    def run_job(self, phase: str, job: JobState) -> bool:
        """Run the enabled hooks of ``phase`` in order; False when one failed or was cancelled."""
        with self._state.lock:
            self._job = job.id
        self._runner.reset()
        try:
            for hook in job.job.hooks.get(phase, []):
                if not hook.enabled:
                    continue
                if self._state.cancel_asked.is_set() or job.cancel_requested:
                    return False
                result = self._runner.run(phase, hook, self._environment(phase, job))
                self._keep(phase, job.id, result)
                if result.cancelled:
                    return False
                if result.returncode != 0:
                    self._changes.job_message(job, result.failure(phase))
                    return False
            return True
        finally:
            with self._state.lock:
                self._job = None

    def runs_for(self, job_id: int) -> bool:
        """Whether a hook of that job runs now (call under the state's lock)."""
        return self._job == job_id

    def stop(self) -> None:
        """End the hook running now, and any the current phase would start (a cancel)."""
        self._runner.stop()

    def _environment(self, phase: str, job: JobState | None) -> dict[str, str]:
        return child_environment(self._options, hook_environment(phase, self._state.recipe, job))

    def _keep(self, phase: str, job_id: int | None, result: HookResult) -> None:
        with self._state.lock:
            self._state.hook_results.append(HookRun(phase, job_id, result.cmd, result.returncode,
                                                    result.output))
        self._state.changed()
