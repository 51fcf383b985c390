"""Which files the dashboard may serve, and opening them without following a swapped-in link.

A frame is addressed as ``(batch, job, index)``, never by a path: ``batch`` is ``current`` (the
batch the polls describe) or a stored batch's id, ``index`` a position in the job's outputs
(the poll's ``outputs`` list; for a stored batch, its recorded frame files ordered by frame and
path) or ``last``. The path served is always one Render+ itself recorded as an output, so no URL
can name ``/etc/passwd`` or a ``..`` path. What is opened is checked again at open time:

- the path is walked one component at a time from ``/``, each folder opened inside the one
  before it (``dir_fd``) with ``O_NOFOLLOW``: a folder on the way that is a symbolic link is
  followed only when the link belongs to this user or to root (an artist's own
  ``~/renders`` -> ``/mnt/nas/renders``; the system's ``/bin`` -> ``usr/bin``), the rule Linux
  itself applies to links in shared folders (``fs.protected_symlinks``). A link another user
  made -- an output folder in a shared place swapped for a link to their pictures -- is
  refused (403), so a swapped folder can never make the dashboard serve another user's image.
  The file itself, and the ``.renderplus-previews`` folder, are never followed: Render+ and
  Blender write real files there;
- the file must be a regular file owned by this user (a FIFO or a device never blocks or
  leaks: ``O_NONBLOCK``, then ``fstat``);
- a stored frame must still have the size, mtime and inode recorded when it was verified;
- the bytes must start as an image a browser shows (PNG, JPEG, WebP, GIF, BMP): whatever its
  name says, nothing else is ever sent.

Formats a browser cannot show (EXR, TIFF, ...) get a small JPEG preview beside the frame, made
by a helper Blender just after the frame is saved (docs/blender.md, Reading frames outside the
rendering Blender; ``renderplus/blender_scripts/previews.py``, whose naming rule and list of
formats a browser shows this module imports).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ..batch.view import BatchView
from ..blender_scripts.previews import BROWSER_SUFFIXES as SHOWABLE_SUFFIXES
from ..blender_scripts.previews import PREVIEW_DIR, PREVIEW_SUFFIX
from ..blender_scripts.previews import preview_path as preview_path  # the server's callers use it here

MAX_INDEX_DIGITS = 9
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
    | getattr(os, "O_BINARY", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW


class FrameError(Exception):
    """A frame that cannot be served; ``code`` is the HTTP status, ``str()`` the sentence."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Recorded:
    """What the store recorded of a frame file: a served file must still be this one."""

    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True)
class FrameRef:
    """One output of a job, found by its address; ``recorded`` only for stored batches."""

    path: str
    recorded: Recorded | None = None

    @property
    def showable(self) -> bool:
        return os.path.splitext(self.path)[1].lower() in SHOWABLE_SUFFIXES


@dataclass
class OpenedImage:
    """An open image file, checked; the caller sends ``file`` and closes it."""

    file: IO[bytes]
    content_type: str
    size: int
    etag: str


def image_type(head: bytes) -> str | None:
    """The content type of an image a browser shows, from its first bytes; None otherwise."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:2] == b"BM" and len(head) >= 26:
        return "image/bmp"
    return None


def parse_index(text: str) -> int | None:
    """``"12"`` -> 12, ``"last"`` -> None; FrameError(400) for anything else."""
    if text == "last":
        return None
    if text.isascii() and text.isdigit() and len(text) <= MAX_INDEX_DIGITS:
        return int(text)
    raise FrameError(400, f"Wrong frame index {text[:40]!r}: a number from 0 or 'last'")


def parse_id(text: str, what: str) -> int:
    if text.isascii() and text.isdigit() and len(text) <= MAX_INDEX_DIGITS:
        return int(text)
    raise FrameError(400, f"Wrong {what} {text[:40]!r}: a number from 0 is expected")


class FrameCatalog:
    """Finds a job's output by its address, in the current batch or in the durable store.

    ``current`` gives the poll's view (or None); ``store`` gives a ``BatchStore`` or None
    (no store: only ``current`` is served)."""

    def __init__(self, current: Callable[[], BatchView | None],
                 store: Callable[[], Any] | None = None) -> None:
        self.current = current
        self.store = store or (lambda: None)

    def find(self, batch: str, job: str, index: str) -> FrameRef:
        position = parse_index(index)
        job_id = parse_id(job, "job id")
        if batch == "current":
            refs = self._current_outputs(job_id)
        else:
            refs = self._stored_outputs(parse_id(batch, "batch id ('current' or a stored batch's id)"),
                                        job_id)
        if not refs:
            raise FrameError(404, f"Job {job_id} has written no frame yet")
        if position is None:
            return refs[-1]
        if position >= len(refs):
            raise FrameError(404, f"Job {job_id} has no output {position} (it has {len(refs)}: "
                                  f"0-{len(refs) - 1})")
        return refs[position]

    def _current_outputs(self, job_id: int) -> list[FrameRef]:
        view = self.current()
        if view is None:
            raise FrameError(404, "No batch has been run")
        try:
            job = view.job(job_id)
        except IndexError:
            raise FrameError(404, f"No job {job_id} in the current batch") from None
        return [FrameRef(path) for path in job.outputs]

    def _stored_outputs(self, batch_id: int, job_id: int) -> list[FrameRef]:
        store = self.store()
        if store is None:
            raise FrameError(404, f"No stored batch {batch_id}: this server keeps no batch store")
        from ..batch.store import StoreError  # the store's sqlite is needed only here
        try:
            frames = store.frames(batch_id, job_id)
        except StoreError as exc:
            raise FrameError(503, str(exc)) from None
        if not frames:
            raise FrameError(404, f"Stored batch {batch_id} has no frames of job {job_id}")
        return [FrameRef(item.path, Recorded(item.size, item.mtime_ns, item.inode))
                for frame in sorted(frames) for item in frames[frame].files]


def open_folder(path: str, name: str) -> int:
    """A descriptor of ``path``'s folder, walked from ``/`` following only links of this user or
    root (the module docstring); FrameError(404) when gone, (403) at another user's link."""
    if not os.path.isabs(path):
        raise FrameError(404, f"{name}: recorded without a folder, so it cannot be found")
    folder = os.path.dirname(path)
    if os.open not in os.supports_dir_fd:  # Windows: no dir_fd (nor links made without privileges)
        try:
            return os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:
            raise FrameError(404, f"{name}: its folder is gone") from None
    parts = [part for part in folder.split(os.sep) if part]
    fd = os.open(os.sep, _DIR_FLAGS)
    try:
        for part in parts:
            inner = _open_step(fd, part, name)
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_step(fd: int, part: str, name: str) -> int:
    """Open the folder ``part`` inside ``fd``; a link on the way only when it is trusted."""
    try:
        return os.open(part, _DIR_FLAGS, dir_fd=fd)
    except FileNotFoundError:
        raise FrameError(404, f"{name}: its folder is gone") from None
    except OSError as exc:  # ELOOP or ENOTDIR: a link (or a file) where a folder was
        failure = exc
    try:
        link = os.stat(part, dir_fd=fd, follow_symlinks=False)
    except OSError:
        link = None
    if link is None or not stat.S_ISLNK(link.st_mode):
        raise FrameError(404 if failure.errno == errno.ENOTDIR else 403,
                         f"{name}: its folder cannot be opened ({failure.strerror or failure})")
    if link.st_uid not in _trusted_link_owners():
        raise FrameError(403, f"{name}: not served: the folder {part!r} on its path is a "
                              "symbolic link made by another user (docs/api.md, Routes)")
    try:
        inner = os.open(part, _DIR_FLAGS & ~_NOFOLLOW, dir_fd=fd)
    except OSError as exc:
        raise FrameError(404, f"{name}: its folder cannot be opened ({exc.strerror or exc})") from None
    again = os.stat(part, dir_fd=fd, follow_symlinks=False)
    if (again.st_ino, again.st_dev) != (link.st_ino, link.st_dev):  # swapped while we looked
        os.close(inner)
        raise FrameError(403, f"{name}: not served: the folder {part!r} on its path changed "
                              "while it was opened")
    return inner


def _trusted_link_owners() -> set[int]:
    """Whose links are followed: this user's and root's."""
    return {0, os.geteuid()}


def open_image(path: str, recorded: Recorded | None = None) -> OpenedImage:
    """Open ``path`` as described in the module docstring; FrameError says why not."""
    name = os.path.basename(path)
    folder_fd = open_folder(path, name)
    try:
        return _open_in(folder_fd, os.path.dirname(path), name, recorded)
    finally:
        os.close(folder_fd)


def open_preview(frame_path: str) -> OpenedImage:
    """The JPEG preview of ``frame_path``: no other user's link on the way (``open_folder``), not
    older than the frame itself (a preview of an earlier render would show the wrong picture)."""
    folder, name = os.path.split(frame_path)
    folder_fd = open_folder(frame_path, name)
    try:
        return _open_preview_in(folder_fd, folder, name)
    finally:
        os.close(folder_fd)


def _open_preview_in(folder_fd: int, folder: str, name: str) -> OpenedImage:
    dir_fd = folder_fd if os.stat in os.supports_dir_fd else None
    try:
        frame_mtime = os.stat(name if dir_fd is not None else os.path.join(folder, name),
                              dir_fd=dir_fd, follow_symlinks=False).st_mtime_ns
    except OSError:
        raise FrameError(404, f"{name}: the frame is gone") from None
    missing = FrameError(404, f"No preview of {name} yet: Render+ makes one after each frame "
                              "in a format browsers cannot show (EXR, TIFF...)")
    try:
        if dir_fd is not None:
            previews_fd = os.open(PREVIEW_DIR, _DIR_FLAGS, dir_fd=dir_fd)
        else:
            previews_fd = os.open(os.path.join(folder, PREVIEW_DIR), _DIR_FLAGS)
    except OSError:
        raise missing from None
    try:
        opened = _open_in(previews_fd, os.path.join(folder, PREVIEW_DIR), name + PREVIEW_SUFFIX, None)
    except FrameError as exc:
        raise missing if exc.code == 404 else exc from None
    finally:
        os.close(previews_fd)
    if os.fstat(opened.file.fileno()).st_mtime_ns < frame_mtime:
        opened.file.close()
        raise missing
    return opened


def _open_in(folder_fd: int, folder: str, name: str, recorded: Recorded | None) -> OpenedImage:
    """Open ``name`` inside the folder already open as ``folder_fd`` (its path: ``folder``)."""
    try:
        if os.open in os.supports_dir_fd:
            fd = os.open(name, _OPEN_FLAGS, dir_fd=folder_fd)
        else:  # Windows: no dir_fd (and no symbolic links made without privileges)
            fd = os.open(os.path.join(folder, name), _OPEN_FLAGS)
    except FileNotFoundError:
        raise FrameError(404, f"{name}: the file is gone") from None
    except OSError as exc:  # ELOOP: the output was replaced by a symbolic link
        raise FrameError(403, f"{name}: not served ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        _check_file(name, info, recorded)  # before reading: a FIFO or a folder is never read
    except BaseException:
        os.close(fd)
        raise
    file = os.fdopen(fd, "rb")
    try:
        content_type = image_type(file.read(32))
        if content_type is None:
            raise FrameError(415, f"{name}: not an image a browser can show (PNG, JPEG, WebP, GIF, BMP)")
        file.seek(0)
    except BaseException:
        file.close()
        raise
    etag = f'"{info.st_ino:x}-{info.st_size:x}-{info.st_mtime_ns:x}"'
    return OpenedImage(file, content_type, info.st_size, etag)


def _check_file(name: str, info: os.stat_result, recorded: Recorded | None) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise FrameError(403, f"{name}: not a regular file")
    uid = getattr(os, "geteuid", lambda: None)()
    if uid is not None and info.st_uid != uid:
        raise FrameError(403, f"{name}: owned by another user, so Render+ did not write it")
    if recorded is not None and (info.st_size, info.st_mtime_ns, info.st_ino) != (
            recorded.size, recorded.mtime_ns, recorded.inode):
        raise FrameError(410, f"{name} changed since Render+ recorded it (rendered again or replaced)")
