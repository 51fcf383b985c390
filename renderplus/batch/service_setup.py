"""What a ``BatchService`` is built from: its folder, its store, and options that read the
store's history (moved out of ``service`` to keep that module about the batch slot)."""

from __future__ import annotations

import os
from pathlib import Path

from .options import RunOptions
from .paths import state_dir
from .store import BatchStore, StoreError


def default_work_dir() -> Path:
    """The per-user state folder: uploads, the store and the logs (never /tmp, which a reboot
    empties, and never a folder shared between the users of a machine)."""
    return state_dir()


def open_store(folder: str | os.PathLike[str] | None) -> tuple[BatchStore | None, str | None]:
    """The durable store in ``folder`` (default: the state folder), or None and why not."""
    try:
        return BatchStore.open(Path(folder) if folder else None), None
    except StoreError as exc:
        return None, str(exc)


def with_memory_history(options: RunOptions, store: BatchStore | None) -> RunOptions:
    """Let the memory gate know what each job needed last time (the store's history)."""
    if store is None or options.memory_needed_mb is not None:
        return options

    def needed(source_file: str, job_name: str) -> float:
        try:
            runs = store.job_history(source_file, job_name, limit=1)
        except StoreError:
            return 0.0
        return float(runs[0].peak_mem_mb or 0.0) if runs else 0.0

    return options.with_changes(memory_needed_mb=needed)
