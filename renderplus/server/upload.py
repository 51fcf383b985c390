"""Receiving a .blend over HTTP (docs/api.md, Uploads) without ever holding it in memory.

A .blend can be gigabytes, so the body is copied from the socket to a temporary file beside its
destination in 1 MiB chunks, the size limit is enforced while copying (and up front from
Content-Length), the Blender signature is checked on the first bytes before anything big is
written (``upload_signature``), and only a complete, checked file is given its name -- a failed
or cut upload never leaves a half file under a name a recipe could render, and an upload never
replaces another one (the second ``a.blend`` becomes ``a-2.blend``). ``multipart/form-data`` (field ``file``)
is parsed here as a stream for the same reason; Bottle's parser would spool the body twice.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Protocol

from .upload_signature import BlendSignature

CHUNK = 1024 * 1024
MAX_PART_HEADERS = 8 * 1024  # one part's header block; browsers and curl send a few hundred bytes
MAX_SAME_NAME = 1000          # a.blend, a-2.blend, ... a-1000.blend
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers on top of the file itself
MAX_NAME = 120
PART_PREFIX, PART_SUFFIX = ".upload-", ".part"  # an upload being written (swept at start)
NO_SPACE = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG})
NOT_WRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class UploadError(Exception):
    """An upload refused; ``code`` is the HTTP status, ``str()`` the sentence for the client."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class StoredFile:
    path: Path
    name: str
    size: int


def safe_blend_name(raw: str) -> str:
    """A file name safe to create in the work folder: the basename, ASCII letters, digits,
    ``._-`` only, no leading dot, ending ``.blend``. UploadError(400) when nothing usable is left."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", raw or ""))[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot or ext.lower() != "blend":
        raise UploadError(400, f"Not a .blend file name: {raw!r} (the name must end in .blend)")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:MAX_NAME]
    if not stem:
        raise UploadError(400, f"Unusable file name: {raw!r}")
    if stem.split(".")[0].upper() in WINDOWS_RESERVED:
        stem = "_" + stem
    return stem + ".blend"


def store_stream(chunks: Iterator[bytes], folder: Path, name: str, limit: int) -> StoredFile:
    """Write ``chunks`` to ``folder/name`` (or the next free ``name-N.blend``) if they form a
    .blend within ``limit`` bytes."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, temp_name = tempfile.mkstemp(prefix=PART_PREFIX, suffix=PART_SUFFIX, dir=folder)
    except OSError as exc:
        raise write_error(exc, folder) from None
    temp = Path(temp_name)
    size = 0
    signature = BlendSignature()
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadError(413, f"File too large: the limit is {limit} bytes")
                signature.feed(chunk)
                if signature.problem:
                    raise UploadError(400, f"{name} is {signature.problem}")
                out.write(chunk)
        problem = signature.finish()
        if problem:
            raise UploadError(400, f"{name} is {problem}")
        target = place_without_overwriting(temp, folder, name, size)
        return StoredFile(path=target.resolve(), name=target.name, size=size)
    except OSError as exc:
        if isinstance(exc, TimeoutError):
            raise UploadError(408, "The upload stalled: no data for too long") from None
        raise write_error(exc, folder) from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def write_error(exc: OSError, folder: Path) -> UploadError:
    """The answer for a file system error while storing an upload (docs/api.md, Uploads).

    507 only when space runs out (the same upload may pass once space is freed); 503 when the
    work folder cannot be written at all (read-only, no permission: the server's set-up must
    change, no retry helps); 500 with the system's sentence for anything else."""
    reason = exc.strerror or str(exc)
    if exc.errno in NO_SPACE:
        return UploadError(507, f"Cannot store the upload: the disk of the work folder {folder} is "
                                f"full ({reason})")
    if exc.errno in NOT_WRITABLE:
        return UploadError(503, f"Cannot store the upload: the work folder {folder} cannot be "
                                f"written ({reason}); uploads need a writable --work-dir")
    return UploadError(500, f"Cannot store the upload in {folder}: {reason}")


def sweep_partial_uploads(folder: Path, older_than: float) -> list[Path]:
    """Remove the ``.upload-*.part`` files a crashed server left in ``folder``.

    Called at server start, when this server runs no upload; ``older_than`` (epoch seconds)
    spares a part another process on the same folder is still writing (its mtime moves with
    every chunk). Only regular files of this user are removed, never a link's target."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    uid = getattr(os, "geteuid", lambda: None)()
    for entry in entries:
        if not (entry.name.startswith(PART_PREFIX) and entry.name.endswith(PART_SUFFIX)):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or (uid is not None and info.st_uid != uid) \
                    or info.st_mtime >= older_than:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def place_without_overwriting(temp: Path, folder: Path, name: str, size: int) -> Path:
    """Give the finished ``temp`` the first free name of ``name``, ``name-2.blend``, ...

    Two uploads that clean to the same name (``a.blend``, ``-a.blend``, ``a .blend``) never
    replace each other, even at the same instant: a name is taken with a hard link (or an
    O_EXCL create), which fails when it exists. A file already there with exactly these bytes
    is reused, so sending the same file twice gives the same path.
    """
    stem = name.removesuffix(".blend")
    for number in range(1, MAX_SAME_NAME + 1):
        target = folder / (name if number == 1 else f"{stem}-{number}.blend")
        try:
            _take_name(temp, target)
            return target
        except FileExistsError:
            if _same_content(temp, target, size):
                return target
    raise UploadError(409, f"{MAX_SAME_NAME} different uploads are already named like {name}: "
                           "rename the file")


def _take_name(temp: Path, target: Path) -> None:
    try:
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: reserve the name, then move in
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.replace(temp, target)


def _same_content(first: Path, second: Path, size: int) -> bool:
    try:
        facts = os.lstat(second)
        if not stat.S_ISREG(facts.st_mode) or facts.st_size != size:
            return False
        with open(first, "rb") as one, open(second, "rb") as other:
            while True:
                block = one.read(CHUNK)
                if block != other.read(CHUNK):
                    return False
                if not block:
                    return True
    except OSError:
        return False


def raw_chunks(stream: Readable, length: int) -> Iterator[bytes]:
    """The body as chunks; UploadError(400) when the client sent less than it announced."""
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            raise UploadError(400, f"Upload cut short: {length - remaining} of {length} bytes received")
        remaining -= len(chunk)
        yield chunk


class MultipartReader:
    """Reads ``multipart/form-data`` parts one after another from a stream of known length.

    ``parts()`` yields ``(headers, body_chunks)``; a part's chunks must be consumed (or the
    part skipped by not touching them) before asking for the next part.
    """

    def __init__(self, stream: Readable, length: int, boundary: bytes) -> None:
        self._chunks = raw_chunks(stream, length)
        self._buffer = b""
        self._eof = False
        self._delimiter = b"--" + boundary
        self._separator = b"\r\n" + self._delimiter

    def _fill(self) -> bool:
        if self._eof:
            return False
        try:
            self._buffer += next(self._chunks)
        except StopIteration:
            self._eof = True
            return False
        return True

    def drain(self) -> None:
        """Read and drop the rest of the body (the client gets its answer, not a reset)."""
        for _ in self._chunks:
            pass
        self._buffer, self._eof = b"", True

    def _bad(self, what: str) -> UploadError:
        return UploadError(400, f"Malformed multipart body: {what}")

    def parts(self) -> Iterator[tuple[Message, Iterator[bytes]]]:
        # The preamble, up to the first delimiter.
        while True:
            index = self._buffer.find(self._delimiter)
            if index >= 0:
                self._buffer = self._buffer[index + len(self._delimiter):]
                break
            self._buffer = self._buffer[-len(self._delimiter):]
            if not self._fill():
                raise self._bad("no boundary found")
        while True:
            while len(self._buffer) < 2 and self._fill():
                pass
            if self._buffer.startswith(b"--"):
                return  # the closing delimiter
            while b"\r\n\r\n" not in self._buffer[:MAX_PART_HEADERS + 4]:
                if len(self._buffer) > MAX_PART_HEADERS:
                    raise self._bad(f"a part's headers are longer than {MAX_PART_HEADERS} bytes")
                if not self._fill():
                    raise self._bad("part headers cut short")
            block, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
            headers = BytesHeaderParser().parsebytes(block.lstrip(b" \t").removeprefix(b"\r\n") + b"\r\n\r\n")
            body = self._body()
            yield headers, body
            for _ in body:  # skip what the caller left unread
                pass

    def _body(self) -> Iterator[bytes]:
        keep = len(self._separator)
        while True:
            index = self._buffer.find(self._separator)
            if index >= 0:
                if index:
                    yield self._buffer[:index]
                self._buffer = self._buffer[index + len(self._separator):]
                return
            if len(self._buffer) > keep:
                out, self._buffer = self._buffer[:-keep], self._buffer[-keep:]
                yield out
            if not self._fill():
                raise self._bad("the file part is cut short (no closing boundary)")


def multipart_boundary(content_type: str) -> bytes:
    message = Message()
    message["content-type"] = content_type
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not boundary or len(boundary) > 200:
        raise UploadError(400, "multipart/form-data without a valid boundary")
    return boundary.encode("latin-1", "replace")


def receive_multipart(stream: Readable, length: int, content_type: str, folder: Path,
                      limit: int, field: str = "file") -> StoredFile:
    """Store the ``field`` part of a multipart body as a .blend in ``folder``."""
    reader = MultipartReader(stream, length, multipart_boundary(content_type))
    for headers, body in reader.parts():
        if headers.get_param("name", header="content-disposition") != field:
            continue
        filename = headers.get_filename()
        if not filename:
            raise UploadError(400, f"The '{field}' part has no file name")
        stored = store_stream(body, folder, safe_blend_name(filename), limit)
        reader.drain()
        return stored
    raise UploadError(400, f"No '{field}' field in the multipart body")
