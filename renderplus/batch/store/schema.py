"""The store's tables, and the one path from any older version of them to this one.

``MIGRATIONS[n]`` takes a store from version ``n - 1`` to ``n`` (version 0 is an empty file).
A later Render+ that needs a new column appends the next ``MIGRATIONS[n]``; ``migrate`` applies every
missing step, each in its own transaction with the new version number, so an interrupted
upgrade leaves a store of the previous version, never half of one. A store written by a newer
Render+ is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .errors import StoreError, not_a_store

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE schema_version (
               id INTEGER PRIMARY KEY CHECK (id = 1),
               version INTEGER NOT NULL)""",
        """CREATE TABLE batches (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               name TEXT NOT NULL,
               recipe_json TEXT NOT NULL,
               base_dir TEXT NOT NULL,
               status TEXT NOT NULL,
               created REAL NOT NULL,
               started REAL,
               finished REAL,
               messages TEXT NOT NULL DEFAULT '[]',
               owner_pid INTEGER,
               owner_boot_id TEXT,
               owner_start_ticks INTEGER)""",
        "CREATE INDEX batches_by_status ON batches (status)",
        """CREATE TABLE jobs (
               batch_id INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
               job_id INTEGER NOT NULL,
               name TEXT NOT NULL,
               source_file TEXT NOT NULL,
               status TEXT NOT NULL,
               started REAL,
               finished REAL,
               messages TEXT NOT NULL DEFAULT '[]',
               attempts INTEGER NOT NULL DEFAULT 0,
               handle TEXT,
               peak_mem_mb REAL,
               rendertime REAL,
               PRIMARY KEY (batch_id, job_id)) WITHOUT ROWID""",
        "CREATE INDEX jobs_by_source ON jobs (source_file, name, batch_id)",
        """CREATE TABLE frames (
               batch_id INTEGER NOT NULL,
               job_id INTEGER NOT NULL,
               frame INTEGER NOT NULL,
               path TEXT NOT NULL,
               size INTEGER NOT NULL,
               mtime_ns INTEGER NOT NULL,
               inode INTEGER NOT NULL,
               PRIMARY KEY (batch_id, job_id, frame, path),
               FOREIGN KEY (batch_id, job_id) REFERENCES jobs (batch_id, job_id)
                   ON DELETE CASCADE) WITHOUT ROWID""",
    ),
    # Claims: one live owner per batch (and per anything else one process must own, such as a
    # queue), keyed by what is owned; see store/claims.py. A batch RUNNING under a recorded
    # owner becomes that owner's claim, so an upgrade never hands a live run to another process.
    2: (
        """CREATE TABLE claims (
               subject TEXT PRIMARY KEY,
               token TEXT NOT NULL,
               pid INTEGER,
               boot_id TEXT,
               start_ticks INTEGER,
               label TEXT NOT NULL DEFAULT '',
               host TEXT NOT NULL DEFAULT '',
               since REAL NOT NULL,
               reserved_until REAL)""",
        """INSERT INTO claims (subject, token, pid, boot_id, start_ticks, since)
           SELECT 'batch:' || id, 'before-claims', owner_pid, owner_boot_id, owner_start_ticks,
                  coalesce(started, created)
           FROM batches WHERE status = 'RUNNING' AND owner_pid IS NOT NULL""",
    ),
    3: (  # the process groups this Render+ runs, so a later one ends those a kill left (groups.py)
        """CREATE TABLE process_groups (
               marker TEXT PRIMARY KEY,
               pgid INTEGER,
               what TEXT NOT NULL,
               started REAL NOT NULL,
               owner_pid INTEGER,
               owner_boot_id TEXT,
               owner_start_ticks INTEGER) WITHOUT ROWID""",
    ),
    # The queue of batches behind the current one (store/queue_table.py): the recipe as the
    # store keeps every recipe (secrets redacted; batch/secrets.py keeps those), its place
    # (0 = next; NULL once taken out to start) and the stored batch it became; whether it is held.
    4: (
        """CREATE TABLE queued_batches (
               id INTEGER PRIMARY KEY AUTOINCREMENT,
               name TEXT NOT NULL,
               recipe_json TEXT NOT NULL,
               base_dir TEXT NOT NULL,
               jobs INTEGER NOT NULL,
               position INTEGER,
               added REAL NOT NULL,
               batch_id INTEGER)""",
        """CREATE TABLE queue_state (
               id INTEGER PRIMARY KEY CHECK (id = 1),
               held INTEGER NOT NULL DEFAULT 0)""",
    ),
    # The run order is data (docs/engine-api.md): the ids of the jobs still to start, as a JSON
    # list, written when the batch starts and at every edit; NULL: the recipe's order.
    5: ("ALTER TABLE batches ADD COLUMN run_order TEXT",),
    # History that predicts (store/run_history.py): one row per Blender run of a job, with what
    # its cost depends on and its start-up, and each frame's own render time. ``rendering``:
    # the seconds a batch rendered (jobs.rendertime counts the same way), not the downtime.
    6: (
        """CREATE TABLE job_runs (
               id TEXT PRIMARY KEY,
               batch_id INTEGER NOT NULL,
               job_id INTEGER NOT NULL,
               source_file TEXT NOT NULL,
               scene TEXT NOT NULL DEFAULT '',
               camera TEXT NOT NULL DEFAULT '',
               engine TEXT NOT NULL DEFAULT '',
               device TEXT NOT NULL DEFAULT '',
               threads INTEGER NOT NULL DEFAULT 0,
               blender TEXT NOT NULL DEFAULT '',
               width INTEGER,
               height INTEGER,
               percentage INTEGER,
               border REAL,
               samples INTEGER,
               frames INTEGER NOT NULL DEFAULT 0,
               shape TEXT NOT NULL DEFAULT '{}',
               started REAL NOT NULL,
               startup REAL,
               ended REAL,
               status TEXT)""",
        "CREATE INDEX job_runs_by_source ON job_runs (source_file, started)",
        """CREATE TABLE frame_times (
               run_id TEXT NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
               frame INTEGER NOT NULL,
               seconds REAL NOT NULL,
               at REAL NOT NULL,
               PRIMARY KEY (run_id, frame)) WITHOUT ROWID""",
        "ALTER TABLE batches ADD COLUMN rendering REAL",
    ),
    # When to render (batch/schedule.py): a started batch WAITING for its start keeps the epoch
    # time it starts at; a batch its window paused says so ('window'; NULL: paused by hand), so
    # a restarted Render+ starts the one and continues the other by itself.
    7: ("ALTER TABLE batches ADD COLUMN start_at REAL",
        "ALTER TABLE batches ADD COLUMN paused_by TEXT"),
}

SCHEMA_VERSION = max(MIGRATIONS)


def stored_version(conn: sqlite3.Connection, path: Path) -> int:
    """The store's schema version: 0 for a new empty file; StoreError for a database that is
    not a Render+ store (other tables, no version row)."""
    tables = {row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    if not tables:
        return 0
    if "schema_version" not in tables:
        raise not_a_store(path, "it is an SQLite database of something else")
    row = conn.execute("SELECT version FROM schema_version WHERE id = 1").fetchone()
    if row is None or not isinstance(row[0], int):
        raise not_a_store(path, "it has no schema version")
    return int(row[0])


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the store to ``SCHEMA_VERSION``; returns the version it was at.

    ``conn`` is in autocommit mode; each step is one ``BEGIN IMMEDIATE`` transaction that
    re-reads the version, so two Render+ opening a new store at once apply a step once."""
    first = stored_version(conn, path)
    if first == SCHEMA_VERSION:
        return first       # the usual case: no write lock, so opening never waits for a writer
    if first > SCHEMA_VERSION:
        raise StoreError(
            f"The Render+ store {path} was written by a newer Render+ (schema version {first}; "
            f"this one knows up to {SCHEMA_VERSION}). Update Render+, or give this one another "
            f"folder (--work-dir).")
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = stored_version(conn, path)
            if version >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                return first
            for statement in MIGRATIONS[version + 1]:
                conn.execute(statement)
            conn.execute("INSERT OR REPLACE INTO schema_version (id, version) VALUES (1, ?)",
                         (version + 1,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
