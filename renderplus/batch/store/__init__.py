"""The durable batch store: every batch, its jobs and their verified frames, in one SQLite file.

``BatchStore.open(folder=None)`` opens ``state_dir()/renderplus.db`` (or ``folder/renderplus.db``,
the server's ``--work-dir``) in WAL mode with foreign keys on; the runner writes each state
change as one transaction before pollers see it, so a kill, a crash or a reboot leaves the
store at a state the batch really reached, from which a later Render+ rebuilds the batch view
and resumes it. It also keeps the history of past batches (``history``) and the render times
and memory peaks of past runs of a job (``job_history``). Every failure is a ``StoreError``
whose text says what to do: locked by another Render+, disk full, read-only folder, a file
that is not a store, a network filesystem.

Layout: ``database`` (``BatchStore``), ``records`` (the frozen rows it takes and gives),
``rows`` (their SQL spelling), ``schema`` (tables and migrations), ``errors`` (``StoreError``,
the sentences, the local-filesystem check), ``writer`` (``StoreWriter``: one batch's changes as
a running batch writes them, a failing store reported once and then left alone), ``groups``
(the live process groups of this Render+, and ending those a dead one left running),
``run_history`` (each Blender run of a job and its frames' own render times, for estimates).
"""

from .database import DEFAULT_BUSY_TIMEOUT, STORE_FILE, UNSET, BatchStore
from .errors import StoreError, check_local_filesystem, filesystem_type
from .records import BatchSummary, FrameFile, NewJob, Owner, PastRun, StoredBatch, StoredFrame, StoredJob
from .schema import SCHEMA_VERSION
from .writer import StoreWriter

__all__ = [
    "DEFAULT_BUSY_TIMEOUT", "SCHEMA_VERSION", "STORE_FILE", "UNSET", "BatchStore", "BatchSummary",
    "FrameFile", "NewJob", "Owner", "PastRun", "StoreError", "StoreWriter", "StoredBatch",
    "StoredFrame", "StoredJob", "check_local_filesystem", "filesystem_type",
]
