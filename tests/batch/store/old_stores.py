"""A store as an older Render+ wrote it: the migrations up to ``version`` and no further, so an
upgrade test does not have to know which tables and columns came later."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from renderplus.batch.store import STORE_FILE
from renderplus.batch.store.schema import MIGRATIONS


def store_at_version(folder: Path, version: int) -> sqlite3.Connection:
    """Create ``folder``'s store at schema ``version``; the open connection, to add rows."""
    conn = sqlite3.connect(folder / STORE_FILE)
    for step in range(1, version + 1):
        for statement in MIGRATIONS[step]:
            conn.execute(statement)
    conn.execute("INSERT INTO schema_version (id, version) VALUES (1, ?)", (version,))
    return conn
