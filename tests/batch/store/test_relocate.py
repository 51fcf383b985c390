"""Moving the add-on's old store into the one state folder (``store.relocate``): once, whole
(its uncheckpointed changes and its secrets too), never while another process has it open,
never over a store already there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from renderplus.batch.secrets import SECRETS_FOLDER
from renderplus.batch.store import STORE_FILE, BatchStore, NewJob
from renderplus.batch.store.relocate import move_store
from renderplus.batch.view import BatchStatus


def stored_batch(folder: Path, name: str = "night") -> int:
    """A store in ``folder`` with one batch, left open by the caller's process until closed."""
    with BatchStore.open(folder) as store:
        return store.create_batch(name, "{}", "/shots", None, [NewJob(0, "beauty", "/a.blend")],
                                  status=BatchStatus.PAUSED)


def test_the_store_moves_with_its_batches_and_secrets(tmp_path: Path) -> None:
    old, new = tmp_path / "blender" / "state", tmp_path / "xdg" / "renderplus"
    batch_id = stored_batch(old)
    (old / SECRETS_FOLDER).mkdir(mode=0o700)
    (old / SECRETS_FOLDER / f"{batch_id}.json").write_text("{}")
    done = move_store(old, new)
    assert done.moved and str(new) in done.sentence
    assert not (old / STORE_FILE).exists() and (old / "MOVED.txt").read_text().count(str(new)) == 1
    assert (new / SECRETS_FOLDER / f"{batch_id}.json").exists()
    with BatchStore.open(new) as store:
        latest = store.latest()
        assert latest is not None and latest.id == batch_id and latest.status is BatchStatus.PAUSED
    assert move_store(old, new).moved is False and move_store(old, new).sentence == ""  # once


def test_changes_still_in_the_write_ahead_log_move_too(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    stored_batch(old)
    # A process that wrote and was killed leaves its changes in the -wal file, not the store's
    script = ("import os, sys; sys.path.insert(0, sys.argv[1]);"
              "from renderplus.batch.store import BatchStore;"
              "s = BatchStore.open(sys.argv[2]); s.create_batch('late', '{}', '/', None);"
              "os._exit(0)")
    subprocess.run([sys.executable, "-c", script, str(Path(__file__).parents[3]), str(old)], check=True)
    assert (old / (STORE_FILE + "-wal")).exists()
    assert move_store(old, new).moved
    with BatchStore.open(new) as store:
        latest = store.latest()
        assert latest is not None and latest.name == "late"


def test_a_store_in_use_is_left_where_it_is(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    stored_batch(old)
    with BatchStore.open(old):             # another Render+ runs on the old store
        left = move_store(old, new)
    assert not left.moved and "another process has it open" in left.sentence
    assert (old / STORE_FILE).exists() and not (new / STORE_FILE).exists()
    assert move_store(old, new).moved      # once it is closed


def test_an_existing_store_in_the_new_folder_is_never_replaced(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    stored_batch(old, "old one")
    stored_batch(new, "new one")
    left = move_store(old, new)
    assert not left.moved and str(old) in left.sentence and "not shown" in left.sentence
    with BatchStore.open(new) as store:
        latest = store.latest()
        assert latest is not None and latest.name == "new one"
    assert (old / STORE_FILE).exists()
