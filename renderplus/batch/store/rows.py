"""Rows to records and back: how a batch, a job, messages and an owner are spelled in SQL.

Messages are JSON lists of strings and a job's handle is ``JobHandle.to_json()`` as JSON text;
statuses are the enums' values. A row that does not decode raises ValueError/KeyError/TypeError,
which the store reports as a damaged store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from ..executors.base import JobHandle
from ..view import BatchStatus, JobStatus
from . import claims
from .records import Owner, StoredBatch, StoredJob

_BATCH_COLUMNS = ("id, name, recipe_json, base_dir, status, created, started, finished, messages, "
                  "owner_pid, owner_boot_id, owner_start_ticks, run_order, rendering, start_at, "
                  "paused_by")
_JOB_COLUMNS = ("job_id, name, source_file, status, started, finished, messages, attempts, handle, "
                "peak_mem_mb, rendertime")


def load_batch(conn: sqlite3.Connection, batch_id: int) -> StoredBatch | None:
    """One batch with its jobs and their frame counts, or None when there is no such batch."""
    row = conn.execute(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,)).fetchone()
    if row is None:
        return None
    done = dict(conn.execute("SELECT job_id, count(DISTINCT frame) FROM frames "
                             "WHERE batch_id = ? GROUP BY job_id", (batch_id,)).fetchall())
    jobs = tuple(StoredJob(
        job_id=job[0], name=job[1], source_file=job[2], status=JobStatus(job[3]), started=job[4],
        finished=job[5], messages=decode_messages(job[6]), attempts=job[7],
        handle=JobHandle.from_json(json.loads(job[8])) if job[8] is not None else None,
        peak_mem_mb=job[9], rendertime=job[10], frames_done=done.get(job[0], 0))
        for job in conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE batch_id = ? "
                                "ORDER BY job_id", (batch_id,)))
    owner = Owner(row[9], row[10], row[11]) if row[9] is not None else None
    return StoredBatch(id=row[0], name=row[1], recipe_json=row[2], base_dir=row[3],
                       status=BatchStatus(row[4]), created=row[5], started=row[6],
                       finished=row[7], messages=decode_messages(row[8]), owner=owner, jobs=jobs,
                       claim=claims.read(conn, f"batch:{batch_id}"),
                       run_order=decode_order(row[12]), rendering=row[13], start_at=row[14],
                       paused_by=str(row[15]) if row[15] is not None else None)


def decode_messages(text: str) -> tuple[str, ...]:
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError("messages are not a list")
    return tuple(str(message) for message in value)


def decode_order(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    value = json.loads(text)
    if not isinstance(value, list) or not all(isinstance(i, int) for i in value):
        raise ValueError("the run order is not a list of job ids")
    return tuple(value)


def order_json(order: Sequence[int] | None) -> str | None:
    return None if order is None else json.dumps([int(job_id) for job_id in order])


def messages_json(messages: Sequence[str]) -> str:
    if isinstance(messages, str):
        raise TypeError("messages must be a sequence of strings, not one string")
    return json.dumps([str(message) for message in messages])


def owner_columns(owner: Owner | None) -> tuple[int | None, str | None, int | None]:
    return (owner.pid, owner.boot_id, owner.start_ticks) if owner else (None, None, None)
