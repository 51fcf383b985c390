"""Claims: which live process owns what (a batch, the queue), decided inside one transaction.

Two Render+ processes may share a store (the add-on and a standalone server in the same state
folder). Whatever only one of them may run is *claimed* here under a subject, a string naming
what is owned (``"batch:12"``, ``"queue"``), so the same rows serve batches and anything later
that needs one owner. Each function runs on a connection already inside ``BEGIN IMMEDIATE``
(``BatchStore`` calls them within ``transaction()``): the recorded owner is read, judged alive
or dead, and replaced in one step that no other process can interleave with.

A claim is held by a *claimant*: a process (pid, boot id, start ticks: a pid alone is reused)
plus a token, so two claimants of one process (two services, two threads) are still told
apart. A released claim either disappears (free for anybody) or stays reserved for a named
successor's token until a deadline: a deliberate hand-over, which no third process can snatch.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from .records import Owner

_COLUMNS = "subject, token, pid, boot_id, start_ticks, label, host, since, reserved_until"


@dataclass(frozen=True)
class Claimant:
    """Who asks for a claim: this process's identity, a token of its own, and a label and host
    for people ("the Blender add-on" on "studio-7")."""

    owner: Owner
    token: str
    label: str = ""
    host: str = ""


@dataclass(frozen=True)
class Claim:
    """A subject's recorded owner. ``owner`` None: released and reserved for the claimant whose
    token is ``token`` until ``reserved_until`` (a hand-over)."""

    subject: str
    token: str
    owner: Owner | None
    label: str
    host: str
    since: float
    reserved_until: float | None = None

    def held(self) -> bool:
        """Owned by a process that still runs."""
        return self.owner is not None and self.owner.alive()

    def reserved(self, now: float | None = None) -> bool:
        """Handed over to a successor that has not taken it yet, and still waited for."""
        return (self.owner is None and self.reserved_until is not None
                and self.reserved_until > (time.time() if now is None else now))

    def busy(self) -> bool:
        """Nobody else may take it now: held by a live process, or reserved for a successor."""
        return self.held() or self.reserved()

    def belongs_to(self, claimant: Claimant) -> bool:
        """Held (or reserved) for this very claimant."""
        return self.token == claimant.token and (self.owner is None or self.owner == claimant.owner)


@dataclass(frozen=True)
class Taken:
    """What ``take`` decided: ``won``, and the claim as it stands now (the winner's, or the
    other owner's that refused it)."""

    won: bool
    claim: Claim


class ClaimRefused(Exception):
    """Another live process owns the subject (or it is reserved for a successor); ``str()`` is
    the sentence for people, ``claim`` says by whom and since when."""

    def __init__(self, claim: Claim, sentence: str) -> None:
        super().__init__(sentence)
        self.claim = claim


def read(conn: sqlite3.Connection, subject: str) -> Claim | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM claims WHERE subject = ?", (subject,)).fetchone()
    return _claim(row) if row is not None else None


def read_all(conn: sqlite3.Connection, prefix: str = "") -> list[Claim]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM claims WHERE substr(subject, 1, ?) = ? "
                        "ORDER BY subject", (len(prefix), prefix)).fetchall()
    return [_claim(row) for row in rows]


def take(conn: sqlite3.Connection, subject: str, claimant: Claimant) -> Taken:
    """Own ``subject`` unless another live claimant holds it or it is reserved for another."""
    found = read(conn, subject)
    if found is not None:
        if found.belongs_to(claimant) and found.owner is not None:
            return Taken(True, found)                  # already ours: keep the first "since"
        if found.busy() and not found.belongs_to(claimant):
            return Taken(False, found)
    claim = Claim(subject, claimant.token, claimant.owner, claimant.label, claimant.host,
                  time.time())
    owner = claimant.owner
    conn.execute(f"INSERT OR REPLACE INTO claims ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (subject, claim.token, owner.pid, owner.boot_id, owner.start_ticks, claim.label,
                  claim.host, claim.since, None))
    return Taken(True, claim)


def release(conn: sqlite3.Connection, subject: str, claimant: Claimant,
            successor: str | None = None, wait: float = 60.0) -> bool:
    """Give ``subject`` up: to nobody (deleted), or reserved for the claimant whose token is
    ``successor`` for ``wait`` seconds. False when ``claimant`` did not hold it."""
    found = read(conn, subject)
    if found is None or found.owner is None or not found.belongs_to(claimant):
        return False
    if successor is None:
        conn.execute("DELETE FROM claims WHERE subject = ?", (subject,))
    else:
        conn.execute("UPDATE claims SET token = ?, pid = NULL, boot_id = NULL, start_ticks = NULL, "
                     "since = ?, reserved_until = ? WHERE subject = ?",
                     (successor, time.time(), time.time() + wait, subject))
    return True


def release_all(conn: sqlite3.Connection, claimant: Claimant) -> int:
    """Give up every claim ``claimant`` holds (a clean stop); how many there were."""
    owner = claimant.owner
    cursor = conn.execute("DELETE FROM claims WHERE token = ? AND pid = ? AND boot_id IS ? "
                          "AND start_ticks IS ?",
                          (claimant.token, owner.pid, owner.boot_id, owner.start_ticks))
    return cursor.rowcount


def _claim(row: tuple[Any, ...]) -> Claim:
    subject, token, pid, boot, ticks, label, host, since, reserved_until = row
    owner = Owner(int(pid), boot, ticks) if pid is not None else None
    return Claim(str(subject), str(token), owner, str(label), str(host), float(since),
                 float(reserved_until) if reserved_until is not None else None)
