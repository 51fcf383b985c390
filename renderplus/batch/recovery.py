"""What a dead Render+ left running, ended by the next one that opens the same store.

Two kinds of leftovers: the Blender of a job the store still shows RUNNING (its recorded
handle names the process group; it is ended only while the group's leader is still the
recorded process, so a reused pid is never hit), and any process group the dead run recorded
that still runs (a hook that ignored SIGTERM, a Blender whose leader has died), found by the
marker in its members' environment. ``BatchService`` calls these while it holds the
interrupted batch's claim, so the leftovers of a batch another live Render+ runs are never touched.
"""

from __future__ import annotations

import logging

from . import spawner
from .executors import JobHandle
from .executors import local as local_executor
from .executors import session as session_executor
from .store import BatchStore, StoredBatch, StoreError
from .store.groups import GroupRecord, end_left_over
from .view import JobStatus

log = logging.getLogger("renderplus.batch")

ON_THIS_MACHINE = frozenset({local_executor.NAME, session_executor.NAME})


def end_orphans(stored: StoredBatch) -> list[int]:
    """End the Blenders of the batch's RUNNING jobs a dead run left on this machine; the ids
    of the jobs whose Blender was ended (farm jobs are re-attached instead)."""
    return [job.job_id for job in stored.jobs
            if job.status is JobStatus.RUNNING and job.handle is not None
            and _end_orphan(job.handle)]


def end_left_over_groups(store: BatchStore) -> list[GroupRecord]:
    """The groups a dead Render+ recorded and left running, ended; their records forgotten."""
    try:
        return end_left_over(store)
    except StoreError as exc:
        log.error("cannot read the process groups in the batch store: %s", exc)
        return []


def _end_orphan(handle: JobHandle) -> bool:
    if handle.executor not in ON_THIS_MACHINE:
        return False
    return spawner.end_recorded_group(handle.pid, handle.pgid, handle.boot_id, handle.start_ticks,
                                      handle.argv)
