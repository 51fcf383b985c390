"""One live owner per batch (and per queue): take it, check it, release or hand it over.

Two Render+ processes on one store (the add-on and ``python3 -m renderplus.server`` share the
state folder) must never both run a batch: two Blenders would render the same frames into the
same files. Every start, resume and recovery takes the batch's claim in the store first
(``take``: read the owner, judge it alive by pid, boot id and start time, write the new one,
all in one ``BEGIN IMMEDIATE``); the loser gets ``ClaimRefused``, whose text says who owns it
and since when. A claim ends with its batch or a clean stop (``release``), or is handed to a
named successor (``release(..., successor=token)``: only the claimant with that token may take
it, for ``wait`` seconds); a killed owner is found dead and its claim taken over.

Subjects are strings (``batch_subject(12)``, ``QUEUE``), so the queue reuses the same claims.
See docs/engine-api.md, Ownership.
"""

from __future__ import annotations

import os
import secrets
import socket
import sys
import threading
import time

from .store import BatchStore, StoreError
from .store.claims import Claim, Claimant, ClaimRefused, Taken
from .store.records import Owner
from .view import BatchStatus

__all__ = [
    "QUEUE", "Claim", "ClaimRefused", "Claimant", "Taken", "batch_subject", "describe",
    "new_claimant", "owner_of", "refusal", "release", "running_elsewhere", "take", "this_process",
    "who",
]

QUEUE = "queue"
"""The subject of the durable queue of batches (one owner runs it)."""

_lock = threading.Lock()
_this: Claimant | None = None


def batch_subject(batch_id: int) -> str:
    """The subject under which the stored batch ``batch_id`` is owned."""
    return f"batch:{batch_id}"


def process_label() -> str:
    """What people call this process: "the Blender add-on", or the command that started it
    (without its arguments, which may hold paths or a token)."""
    if "bpy" in sys.modules:
        return "the Blender add-on"
    program = os.path.basename(sys.executable) or "python3"
    script = sys.argv[0] if sys.argv else ""
    if script.endswith(os.path.join("renderplus", "server", "__main__.py")):
        return f"{program} -m renderplus.server"
    return f"{program} {os.path.basename(script)}".strip()


def new_claimant(token: str | None = None, label: str | None = None) -> Claimant:
    """A claimant of this process with its own token (``token``: the one a predecessor named
    when it handed a claim over)."""
    return Claimant(Owner.current(), token or secrets.token_hex(8),
                    label if label is not None else process_label(), socket.gethostname())


def this_process() -> Claimant:
    """The claimant every batch of this process uses unless given another (one per process)."""
    global _this
    with _lock:
        if _this is None or _this.owner.pid != os.getpid():   # a fork is another process
            _this = new_claimant()
        return _this


def take(store: BatchStore, subject: str, claimant: Claimant | None = None,
         name: str = "") -> Claim:
    """Own ``subject`` (a no-op when ``claimant`` holds it already). Raises ``ClaimRefused``
    while another live process owns it, or it awaits another successor; StoreError when the
    store cannot be written. ``name``: the batch's name, for the sentence."""
    taken = store.take_claim(subject, claimant or this_process())
    if not taken.won:
        raise ClaimRefused(taken.claim, refusal(taken.claim, name))
    return taken.claim


def release(store: BatchStore, subject: str, claimant: Claimant | None = None, *,
            successor: str | None = None, wait: float = 60.0) -> bool:
    """Give ``subject`` up: to nobody, or to the claimant whose token is ``successor`` (who
    then ``take``s it within ``wait`` seconds; after that anybody may). False when
    ``claimant`` did not own it."""
    return store.release_claim(subject, claimant or this_process(), successor, wait)


def owner_of(store: BatchStore, subject: str) -> Claim | None:
    """The live owner of ``subject`` (or the hand-over awaiting its successor); None when it
    is free (never claimed, released, or its owner died)."""
    claim = store.claim(subject)
    return claim if claim is not None and claim.busy() else None


def running_elsewhere(store: BatchStore, claimant: Claimant | None = None) -> str | None:
    """The refusal sentence for the store's last batch when another live process than
    ``claimant`` runs it (or holds it PAUSED); None when it is not running, or ours, or the
    store cannot be read."""
    try:
        stored = store.latest()
    except StoreError:
        return None
    if stored is None or stored.status not in (BatchStatus.RUNNING, BatchStatus.PAUSED) \
            or stored.claim is None:
        return None
    if not stored.claim.busy() or stored.claim.belongs_to(claimant or this_process()):
        return None
    return refusal(stored.claim, stored.name)


def who(claim: Claim) -> str:
    """"python3 -m renderplus.server (pid 4711 on studio-7)"."""
    where = f" on {claim.host}" if claim.host else ""
    if claim.owner is None:
        return "a successor it was handed over to"
    label = claim.label or "another Render+"
    mine = " (this process)" if claim.owner.pid == os.getpid() else ""
    return f"{label} (pid {claim.owner.pid}{where}){mine}"


def refusal(claim: Claim, name: str = "") -> str:
    """The sentence a refused start, resume or take shows."""
    batch = f"The batch {name!r}" if name else "This batch"
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(claim.since))
    if claim.owner is None:
        return (f"{batch} is being handed over to another Render+ (since {since}); it cannot be "
                f"resumed here")
    return (f"{batch} is owned by {who(claim)} since {since}; it cannot be resumed here until "
            f"that process ends or hands it over")


def describe(claim: Claim) -> dict[str, object]:
    """The owner as JSON (an HTTP refusal's ``owner`` key; docs/api.md, Errors)."""
    return {"pid": claim.owner.pid if claim.owner is not None else None,
            "name": claim.label, "host": claim.host, "since": claim.since,
            "handed_over": claim.owner is None}
