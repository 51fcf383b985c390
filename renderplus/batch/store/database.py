"""``BatchStore``: one SQLite file (WAL) holding every batch, its jobs and their frames.

Threads: the runner's thread writes, the server's request threads read the history. The store
keeps two connections, each opened with ``check_same_thread=False`` and used under its own
lock: a *writer* for every change and a *reader* for queries. In WAL mode a reader never waits
for the writer (it reads the last committed state), so a slow history page cannot delay the
runner's next state change, and a thousand request threads cost two connections, not one each.
A query made while the same thread holds ``transaction()`` reads through the writer, so it sees
that transaction's own changes.

Every change is one ``BEGIN IMMEDIATE`` ... ``COMMIT``: a kill at any moment leaves the store
at the last committed change (tested with SIGKILL). ``transaction()`` groups several changes
into one (the frames a job wrote and the job's fields, together or not at all).

``synchronous=NORMAL`` is the default: in WAL mode a commit is in the log before ``COMMIT``
returns and survives the process being killed; only a power loss or kernel crash can drop the
last few commits (never corrupt the file), and a frame record lost that way only means the
frame is rendered again on resume. FULL adds an fsync per change: about 5-10x the cost
(bench/bench_store.py), for no gain a resume would notice.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, Final, TypeVar

from ..executors.base import JobHandle
from ..paths import state_dir
from ..view import BatchStatus, JobStatus
from . import claims
from .claims import Claim, Claimant, Taken
from .connection import connect, private_files
from .errors import StoreError, check_local_filesystem, store_error
from .records import BatchSummary, FrameFile, NewJob, Owner, PastRun, StoredBatch, StoredFrame
from .rows import load_batch, messages_json, order_json, owner_columns
from .schema import migrate

STORE_FILE = "renderplus.db"
DEFAULT_BUSY_TIMEOUT = 5.0      # seconds another Render+ may hold the write lock before we give up
SYNCHRONOUS_MODES = ("NORMAL", "FULL")
_T = TypeVar("_T")


class _Unset(Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""The default of ``update_batch``/``update_job`` fields: "leave as it is" (None clears)."""


class BatchStore:
    """The durable store of batches. Make one with ``BatchStore.open()``; every method raises
    ``StoreError`` (a sentence) when the database cannot do what was asked."""

    def __init__(self, path: Path, writer: sqlite3.Connection, reader: sqlite3.Connection,
                 busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._writer: sqlite3.Connection | None = writer
        self._reader: sqlite3.Connection | None = reader
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._tx_thread: int | None = None

    # ------------------------------------------------------------------------ opening

    @classmethod
    def open(cls, folder: Path | str | None = None, *, synchronous: str = "NORMAL",
             busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> BatchStore:
        """Open (creating or upgrading it) ``folder/renderplus.db``; folder default
        ``state_dir()``. ``synchronous``: NORMAL (default) or FULL (an fsync per change)."""
        if synchronous.upper() not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, "
                             f"not {synchronous!r}")
        folder = Path(folder) if folder is not None else state_dir()
        path = folder / STORE_FILE
        check_local_filesystem(folder)
        writer = reader = None
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            private_files(path)
            writer = connect(path, synchronous.upper(), busy_timeout)
            migrate(writer, path)
            reader = connect(path, synchronous.upper(), busy_timeout)
            reader.execute("PRAGMA query_only = ON")
        except (sqlite3.Error, OSError) as exc:
            for conn in (reader, writer):
                if conn is not None:
                    conn.close()
            raise store_error(exc, path, busy_timeout) from exc
        except StoreError:
            if writer is not None:
                writer.close()
            raise
        return cls(path, writer, reader, busy_timeout)

    def close(self) -> None:
        """Close the store (idempotent); later calls raise StoreError."""
        with self._write_lock, self._read_lock:
            for conn in (self._reader, self._writer):
                if conn is not None:
                    # the last one checkpoints the log into the file; if that fails, the log
                    # stays valid and the next open replays it
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
            self._reader = self._writer = None

    def __enter__(self) -> BatchStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------ writing

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make the changes inside one transaction: all of them are saved, or none. Nests
        (an inner ``transaction()`` joins the outer one)."""
        if self._tx_thread == threading.get_ident():
            yield
            return
        with self._write_lock:
            conn = self._live(self._writer)
            self._guarded(lambda: conn.execute("BEGIN IMMEDIATE"))
            self._tx_thread = threading.get_ident()
            try:
                yield
                self._guarded(lambda: conn.execute("COMMIT"))
            except BaseException:
                if conn.in_transaction:
                    # SQLite may have rolled it back itself already (e.g. a full disk)
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            finally:
                self._tx_thread = None

    def create_batch(self, name: str, recipe_json: str, base_dir: str, owner: Owner | None,
                     jobs: Iterable[NewJob] = (), status: BatchStatus = BatchStatus.WAITING) -> int:
        """Record a new batch and its jobs; returns its id (increasing, never reused)."""
        with self.transaction():
            conn = self._live(self._writer)
            cursor = self._guarded(lambda: conn.execute(
                "INSERT INTO batches (name, recipe_json, base_dir, status, created, owner_pid, "
                "owner_boot_id, owner_start_ticks) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, recipe_json, base_dir, BatchStatus(status).value, time.time(),
                 *owner_columns(owner))))
            batch_id = int(cursor.lastrowid or 0)
            rows = [(batch_id, job.job_id, job.name, job.source_file, JobStatus(job.status).value)
                    for job in jobs]
            self._guarded(lambda: conn.executemany(
                "INSERT INTO jobs (batch_id, job_id, name, source_file, status) "
                "VALUES (?, ?, ?, ?, ?)", rows))
        return batch_id

    def update_batch(self, batch_id: int, *,
                     status: BatchStatus | _Unset = UNSET,
                     started: float | _Unset | None = UNSET,
                     finished: float | _Unset | None = UNSET,
                     messages: Sequence[str] | _Unset = UNSET,
                     owner: Owner | _Unset | None = UNSET,
                     run_order: Sequence[int] | _Unset | None = UNSET,
                     rendering: float | _Unset | None = UNSET,
                     start_at: float | _Unset | None = UNSET,
                     paused_by: str | _Unset | None = UNSET) -> None:
        """Change only the given fields of a batch (None clears a time, the owner, the run
        order: the recipe's then, or who paused it)."""
        values: dict[str, Any] = {}
        _put_value(values, "rendering", rendering)
        _put_value(values, "start_at", start_at)
        if paused_by is not UNSET:
            values["paused_by"] = paused_by
        if run_order is not UNSET:
            values["run_order"] = order_json(run_order)
        if status is not UNSET:
            values["status"] = BatchStatus(status).value
        _put_value(values, "started", started)
        _put_value(values, "finished", finished)
        if messages is not UNSET:
            values["messages"] = messages_json(messages)
        if owner is not UNSET:
            values.update(zip(("owner_pid", "owner_boot_id", "owner_start_ticks"),
                              owner_columns(owner), strict=True))
        self._update("batches", "id = ?", (batch_id,), values, f"no batch {batch_id}")

    def add_jobs(self, batch_id: int, jobs: Iterable[NewJob], recipe_json: str) -> None:
        """Record jobs added to a batch (edits) and its recipe with them, in one transaction."""
        with self.transaction():
            conn = self._live(self._writer)
            rows = [(batch_id, job.job_id, job.name, job.source_file, JobStatus(job.status).value)
                    for job in jobs]
            self._guarded(lambda: conn.executemany(
                "INSERT INTO jobs (batch_id, job_id, name, source_file, status) "
                "VALUES (?, ?, ?, ?, ?)", rows))
            self._update("batches", "id = ?", (batch_id,), {"recipe_json": recipe_json},
                         f"no batch {batch_id}")

    def update_job(self, batch_id: int, job_id: int, *,
                   status: JobStatus | _Unset = UNSET,
                   started: float | _Unset | None = UNSET,
                   finished: float | _Unset | None = UNSET,
                   messages: Sequence[str] | _Unset = UNSET,
                   attempts: int | _Unset = UNSET,
                   handle: JobHandle | _Unset | None = UNSET,
                   peak_mem_mb: float | _Unset | None = UNSET,
                   rendertime: float | _Unset | None = UNSET) -> None:
        """Change only the given fields of a job (None clears a time, the handle, a figure)."""
        values: dict[str, Any] = {}
        if status is not UNSET:
            values["status"] = JobStatus(status).value
        for column, value in (("started", started), ("finished", finished),
                              ("peak_mem_mb", peak_mem_mb), ("rendertime", rendertime)):
            _put_value(values, column, value)
        if messages is not UNSET:
            values["messages"] = messages_json(messages)
        if attempts is not UNSET:
            values["attempts"] = int(attempts)
        if handle is not UNSET:
            values["handle"] = json.dumps(handle.to_json()) if handle is not None else None
        self._update("jobs", "batch_id = ? AND job_id = ?", (batch_id, job_id), values,
                     f"no job {job_id} in batch {batch_id}")

    def add_frame(self, batch_id: int, job_id: int, frame: int, path: str, size: int,
                  mtime_ns: int, inode: int) -> None:
        """Record one file of a frame as written and verified. A frame may have several files
        (File Output nodes); the same path again replaces its record (a re-render)."""
        with self.transaction():
            conn = self._live(self._writer)
            try:
                conn.execute("INSERT OR REPLACE INTO frames VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (batch_id, job_id, frame, path, size, mtime_ns, inode))
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"The Render+ store {self.path} has no job {job_id} in batch "
                                 f"{batch_id} to record frame {frame} of.") from exc
            except (sqlite3.Error, OSError) as exc:
                raise store_error(exc, self.path, self.busy_timeout) from exc

    def forget_frames(self, batch_id: int, job_id: int, frames: Iterable[int] | None = None) -> int:
        """Drop the records of ``frames`` (all the job's when None): files found missing or
        changed, or a movie that restarts whole. Returns how many files were forgotten."""
        with self.transaction():
            conn = self._live(self._writer)
            if frames is None:
                cursor = self._guarded(lambda: conn.execute(
                    "DELETE FROM frames WHERE batch_id = ? AND job_id = ?", (batch_id, job_id)))
                return cursor.rowcount
            rows = [(batch_id, job_id, frame) for frame in frames]
            before = conn.total_changes
            self._guarded(lambda: conn.executemany(
                "DELETE FROM frames WHERE batch_id = ? AND job_id = ? AND frame = ?", rows))
            return conn.total_changes - before

    # ------------------------------------------------------------------------ claims

    def take_claim(self, subject: str, claimant: Claimant) -> Taken:
        """Own ``subject`` atomically (store/claims.py): won, or refused by its live owner."""
        with self.transaction():
            conn = self._live(self._writer)
            return self._guarded(lambda: claims.take(conn, subject, claimant))

    def release_claim(self, subject: str, claimant: Claimant, successor: str | None = None,
                      wait: float = 60.0) -> bool:
        """Give ``subject`` up, to nobody or reserved for the ``successor`` token for ``wait`` s."""
        with self.transaction():
            conn = self._live(self._writer)
            return self._guarded(lambda: claims.release(conn, subject, claimant, successor, wait))

    def release_claims(self, claimant: Claimant) -> int:
        """Give up every claim of ``claimant`` (a clean stop)."""
        with self.transaction():
            conn = self._live(self._writer)
            return self._guarded(lambda: claims.release_all(conn, claimant))

    def claim(self, subject: str) -> Claim | None:
        """The recorded owner of ``subject`` (alive or not), or None when nobody claimed it."""
        return self._read(lambda conn: claims.read(conn, subject))

    def write(self, action: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``action`` on the writer in one transaction (joins an open one): the queue's
        table (``queue_table``) keeps its SQL in its own module, as claims do."""
        with self.transaction():
            conn = self._live(self._writer)
            return self._decoded(lambda: action(conn))

    # ------------------------------------------------------------------------ reading

    def read(self, query: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``query`` on one consistent snapshot (``write``'s reading twin)."""
        return self._read(query)

    def frames(self, batch_id: int, job_id: int) -> dict[int, StoredFrame]:
        """The job's recorded frames, by frame number."""
        def query(conn: sqlite3.Connection) -> dict[int, StoredFrame]:
            files: dict[int, list[FrameFile]] = {}
            for frame, *rest in conn.execute(
                    "SELECT frame, path, size, mtime_ns, inode FROM frames "
                    "WHERE batch_id = ? AND job_id = ? ORDER BY frame, path", (batch_id, job_id)):
                files.setdefault(frame, []).append(FrameFile(*rest))
            return {frame: StoredFrame(frame, tuple(found)) for frame, found in files.items()}
        return self._read(query)

    def load(self, batch_id: int) -> StoredBatch:
        """Everything recorded of one batch; StoreError when there is no such batch."""
        found = self._read(lambda conn: load_batch(conn, batch_id))
        if found is None:
            raise StoreError(f"The Render+ store {self.path} has no batch {batch_id}.")
        return found

    def latest(self) -> StoredBatch | None:
        """The batch created last, or None when the store is empty."""
        def query(conn: sqlite3.Connection) -> StoredBatch | None:
            row = conn.execute("SELECT max(id) FROM batches").fetchone()
            return load_batch(conn, row[0]) if row[0] is not None else None
        return self._read(query)

    def interrupted(self) -> list[StoredBatch]:
        """Batches still RUNNING that no live process owns (nor waits to take over), oldest first."""
        def query(conn: sqlite3.Connection) -> list[StoredBatch]:
            ids = [row[0] for row in conn.execute(
                "SELECT id FROM batches WHERE status = ? ORDER BY id", (BatchStatus.RUNNING.value,))]
            return [batch for batch in (load_batch(conn, i) for i in ids)
                    if batch is not None and batch.interrupted]
        return self._read(query)

    def history(self, limit: int = 50, offset: int = 0) -> list[BatchSummary]:
        """Past and present batches, newest first, one page."""
        _check_page(limit, offset)
        return self._read(lambda conn: [BatchSummary(
            row[0], row[1], BatchStatus(row[2]), *row[3:]) for row in conn.execute(
                "SELECT b.id, b.name, b.status, b.created, b.started, b.finished, "
                "(SELECT count(*) FROM jobs j WHERE j.batch_id = b.id), "
                "(SELECT count(*) FROM jobs j WHERE j.batch_id = b.id AND j.status = 'FAILED') "
                "FROM batches b ORDER BY b.id DESC LIMIT ? OFFSET ?", (limit, offset))])

    def job_history(self, source_file: str, job_name: str, limit: int = 5,
                    exclude_batch: int | None = None) -> list[PastRun]:
        """Ended runs (FINISHED or FAILED) of the job named ``job_name`` of ``source_file`` in
        earlier batches, newest first: their render times and memory peaks."""
        _check_page(limit, 0)
        return self._read(lambda conn: [PastRun(
            row[0], row[1], JobStatus(row[2]), *row[3:]) for row in conn.execute(
                "SELECT j.batch_id, j.job_id, j.status, j.finished, j.rendertime, j.peak_mem_mb, "
                "(SELECT count(DISTINCT f.frame) FROM frames f "
                " WHERE f.batch_id = j.batch_id AND f.job_id = j.job_id) "
                "FROM jobs j WHERE j.source_file = ? AND j.name = ? "
                "AND j.status IN ('FINISHED', 'FAILED') AND j.batch_id IS NOT ? "
                "ORDER BY j.batch_id DESC, j.job_id DESC LIMIT ?",
                (source_file, job_name, exclude_batch, limit))])

    # ------------------------------------------------------------------------ plumbing

    def _live(self, conn: sqlite3.Connection | None) -> sqlite3.Connection:
        if conn is None:
            raise StoreError(f"The Render+ store {self.path} is closed.")
        return conn

    def _guarded(self, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except (sqlite3.Error, OSError) as exc:
            raise store_error(exc, self.path, self.busy_timeout) from exc

    def _update(self, table: str, where: str, key: tuple[int, ...], values: dict[str, Any],
                missing: str) -> None:
        with self.transaction():
            conn = self._live(self._writer)
            if values:
                sets = ", ".join(f"{column} = ?" for column in values)
                sql = f"UPDATE {table} SET {sets} WHERE {where}"
                cursor = self._guarded(lambda: conn.execute(sql, (*values.values(), *key)))
                found = cursor.rowcount > 0
            else:
                found = self._guarded(lambda: conn.execute(
                    f"SELECT 1 FROM {table} WHERE {where}", key).fetchone()) is not None
            if not found:
                raise StoreError(f"The Render+ store {self.path} has {missing}.")

    def _read(self, query: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run ``query`` on one consistent snapshot: the reader's, or this thread's open
        transaction's."""
        if self._tx_thread == threading.get_ident():
            return self._decoded(lambda: query(self._live(self._writer)))
        with self._read_lock:
            conn = self._live(self._reader)
            self._guarded(lambda: conn.execute("BEGIN"))
            try:
                return self._decoded(lambda: query(conn))
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def _decoded(self, action: Callable[[], _T]) -> _T:
        """sqlite errors become StoreErrors; rows that do not decode mean a damaged store."""
        try:
            return self._guarded(action)
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{self.path} holds a record Render+ cannot read ({exc}); move it "
                             f"away and Render+ will start a new store there.") from exc


# ---------------------------------------------------------------------------- helpers

def _put_value(values: dict[str, Any], column: str, value: float | _Unset | None) -> None:
    """Set a time or figure column when the caller gave it (None clears it)."""
    if value is not UNSET:
        values[column] = float(value) if value is not None else None


def _check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (got {limit}, {offset})")

