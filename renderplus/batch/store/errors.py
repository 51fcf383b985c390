"""What can go wrong with the store, in sentences a user can act on.

SQLite reports a locked database, a full disk, a read-only folder and a damaged file as
``sqlite3`` exceptions whose text names no file and suggests nothing; ``store_error`` turns
them (and the ``OSError``s of making the folder) into one ``StoreError`` naming the store's
path and what to do. ``check_local_filesystem`` refuses folders on network filesystems before
SQLite is asked to open them: WAL keeps its index in shared memory, which only works between
processes of one machine, so a store on NFS/SMB could be corrupted by a second host.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

MOUNTS_FILE = Path("/proc/self/mounts")

# Filesystems that share files between machines: WAL's shared-memory index cannot work there.
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "9p", "ceph", "glusterfs", "lustre",
    "gpfs", "beegfs", "fuse.sshfs", "fuse.glusterfs", "fuse.cephfs", "fuse.s3fs", "fuse.rclone",
})


class StoreError(Exception):
    """The store cannot do what was asked; ``str()`` is a sentence for the user."""


def store_error(exc: BaseException, path: Path, busy_timeout: float) -> StoreError:
    """The ``StoreError`` for an ``sqlite3.Error`` or ``OSError`` met while using ``path``."""
    if isinstance(exc, OSError):
        return _os_error(exc, path)
    name = getattr(exc, "sqlite_errorname", "") or ""   # Python 3.11+
    text = str(exc).lower()
    if name.startswith("SQLITE_BUSY") or name.startswith("SQLITE_LOCKED") or "locked" in text:
        return StoreError(
            f"The Render+ store {path} is locked: another Render+ (a server, the command line "
            f"or Blender) has kept it busy for more than {busy_timeout:g} s. Stop that one, or "
            f"give this one its own folder (--work-dir).")
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return _disk_full(path)
    if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return _read_only(path)
    if (name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT"))
            or "not a database" in text or "malformed" in text):
        return not_a_store(path)
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        if path.parent.is_dir() and not os.access(path.parent, os.W_OK):
            return _read_only(path)
        return StoreError(
            f"Cannot open the Render+ store {path}: the folder {path.parent} is missing, not "
            f"writable, or not a folder.")
    if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
        return StoreError(
            f"A disk error stopped the Render+ store {path} ({exc}); the last change was not "
            f"saved. Check the disk (full, removed, or failing).")
    return StoreError(f"The Render+ store {path} failed: {exc}.")


def not_a_store(path: Path, detail: str = "") -> StoreError:
    why = f" ({detail})" if detail else ""
    return StoreError(
        f"{path} is not a Render+ store, or is damaged{why}; move it away and Render+ will "
        f"start a new one there.")


def _disk_full(path: Path) -> StoreError:
    return StoreError(
        f"The disk holding the Render+ store {path} is full: the last change was not saved "
        f"(the store keeps its state from before it). Free some space.")


def _read_only(path: Path) -> StoreError:
    return StoreError(
        f"The Render+ store {path} cannot be written: its folder {path.parent} is read-only. "
        f"Give Render+ a writable folder (--work-dir) or make this one writable.")


def _os_error(exc: OSError, path: Path) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _disk_full(path)
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return _read_only(path)
    return StoreError(f"Cannot use the Render+ store folder {path.parent}: {exc.strerror or exc}.")


# ------------------------------------------------------------------ where the folder lives

def filesystem_type(folder: Path, mounts_text: str | None = None) -> str | None:
    """The fstype of the mount that holds ``folder`` (the longest mount point that is a prefix
    of its real path), or None when the mount table cannot be read (not Linux)."""
    if mounts_text is None:
        try:
            mounts_text = MOUNTS_FILE.read_text()
        except OSError:
            return None
    real = _existing_real_path(folder)
    best, best_type = "", None
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape(fields[1])
        if _is_under(real, point) and len(point) >= len(best):
            best, best_type = point, fields[2]
    return best_type


def check_local_filesystem(folder: Path, mounts_text: str | None = None) -> None:
    """StoreError when ``folder`` is on a network filesystem, where WAL does not work."""
    fstype = filesystem_type(folder, mounts_text)
    if fstype in NETWORK_FILESYSTEMS:
        raise StoreError(
            f"The Render+ store cannot live in {folder}: it is on a network filesystem "
            f"({fstype}), where SQLite's write-ahead log does not work and the store could be "
            f"damaged. Give Render+ a folder on a local disk (--work-dir); uploads may still "
            f"live on shared storage.")


def _existing_real_path(folder: Path) -> str:
    """The real path of ``folder``, or of its nearest existing parent (it may not exist yet)."""
    path = Path(os.path.abspath(folder))
    missing: list[str] = []
    while not path.exists() and path != path.parent:
        missing.append(path.name)
        path = path.parent
    real = Path(os.path.realpath(path))
    for name in reversed(missing):
        real = real / name
    return str(real)


def _is_under(path: str, point: str) -> bool:
    return point == "/" or path == point or path.startswith(point.rstrip("/") + "/")


def _unescape(field: str) -> str:
    """Mount points in /proc/self/mounts write space, tab, newline and backslash as octal."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field
