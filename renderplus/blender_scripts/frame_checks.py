"""Is a written frame whole? Read it back completely and say what is wrong with it, if anything.

``check_file(path)`` returns None for a whole file, else one short sentence naming the problem
("frame_0003.exr is cut short: chunk 41 of 68 ends past the end of the file (1,204,311 of
1,530,000 bytes)"). It reads the file's structure, not its pixels' meaning: a uniformly black
frame or one holding NaNs is whole here (``pixel_checks.py`` looks at pixels, inside Blender).
What each format's check reads (docs/blender.md, Checking a frame whole):

- PNG: every chunk's length and CRC-32, all IDAT data inflated to exactly the size the IHDR's
  width, height, bit depth, colour type and interlacing imply, and the IEND chunk.
- JPEG: SOI, every marker segment's length, each scan's entropy-coded data running to a marker,
  and the EOI.
- OpenEXR: magic and version flags (single or multi-part, scanline, tiled, deep), every header's
  attributes parsed to its end, the chunk count (``chunkCount``, or derived from the data window,
  compression and tiles), the offset table complete, every chunk inside the file with its
  declared data ending inside it; ZIP, ZIPS, RLE and uncompressed scanline chunks are inflated or
  expanded and compared with the size of their lines' channels: every layer of a multilayer EXR.
  PIZ, PXR24, B44 and DWA chunks are checked for their place and size only.
- TIFF, WebP, JPEG 2000, Cineon/DPX, BMP, uncompressed TGA: the sizes their headers declare fit
  in the file; Radiance HDR: every scanline's run-length data walked to its end; anything else
  (an RLE TGA, IRIS...): not empty, else trusted.

A missing or empty file is a problem too. ``settle`` waits, bounded, for a frame that is missing
or still growing (a network disk that shows it late); ``check_settled`` checks once, and only when
that fails waits and checks again while the file keeps changing (at most ``WAIT_FOR_LATE``; one
unchanged for ``QUIET`` is judged as it is). The waits take a clock and a sleep, so tests pass
time without sleeping. ``exr_layers`` names a multilayer EXR's view layers for the pixel checks.
Standard library only: this runs in Render+'s Python and in Blender's (a farm node's
``check_frames.py``); no bpy.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import struct
import time
import zlib
from collections.abc import Callable

WAIT_FOR_LATE = 10.0   # seconds a missing or growing frame is waited for (a late network disk)
POLL = 0.25            # seconds between two looks at it
QUIET = 1.0            # seconds it must stay unchanged to count as written

PARALLEL_INFLATE = 4         # threads inflating a large EXR's chunks at once
PARALLEL_FROM = 1_000_000    # compressed bytes from which threads pay off

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXR_MAGIC = b"\x76\x2f\x31\x01"


class Broken(Exception):
    """What is wrong with a file: the sentence after its name."""


def check_file(path: str) -> str | None:
    """None when the frame at ``path`` is whole, else a short sentence naming the problem."""
    name = os.path.basename(path)
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except FileNotFoundError:
        return f"{name} is missing"
    except IsADirectoryError:
        return f"{name} is a folder, not a frame"
    except OSError as exc:
        return f"{name} cannot be read: {exc.strerror or exc}"
    if not data:
        return f"{name} is empty (0 bytes)"
    try:
        _checker(data, name)(memoryview(data))
    except Broken as problem:
        return f"{name} {problem}"
    except (struct.error, IndexError, ValueError, OverflowError) as exc:  # a field past the end
        return f"{name} is damaged: {exc}"
    return None


def settle(path: str, *, timeout: float = WAIT_FOR_LATE, poll: float = POLL,
           quiet: float = QUIET, clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> bool:
    """Wait until ``path`` exists, is not empty and has not changed (size, modification time)
    for ``quiet`` seconds, looking every ``poll`` seconds; False when ``timeout`` passes first."""
    deadline = clock() + timeout
    last: tuple[int, int] | None = None
    since = clock()
    while True:
        seen = _look(path)
        now = clock()
        if seen != last:
            last, since = seen, now
        elif seen is not None and seen[0] > 0 and now - since >= quiet:
            return True
        if now >= deadline:
            return False
        sleep(poll)


def check_settled(path: str, *, timeout: float = WAIT_FOR_LATE, poll: float = POLL,
                  quiet: float = QUIET, clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep) -> str | None:
    """``check_file``; when it finds a problem, wait for the file to settle (``settle``) and
    check again, as long as it keeps changing: a whole frame costs one check, a late or growing
    one at most ``timeout`` more, one that stays broken ``quiet`` more."""
    deadline = clock() + timeout
    while True:
        checked = _look(path)
        problem = check_file(path)
        if problem is None:
            return None
        remaining = deadline - clock()
        if remaining <= 0:
            return problem
        settled = settle(path, timeout=remaining, poll=poll, quiet=quiet, clock=clock,
                         sleep=sleep)
        if _look(path) == checked:   # it did not change since that check: that is the frame
            return problem
        if not settled:
            return check_file(path)


def _look(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def _checker(data: bytes, name: str) -> Callable[[memoryview], None]:
    head = data[:12]
    if head.startswith(PNG_SIGNATURE):
        return check_png
    if head.startswith(b"\xff\xd8"):
        return check_jpeg
    if head.startswith(EXR_MAGIC):
        return check_exr
    if head[:4] in (b"II*\0", b"MM\0*"):
        return check_tiff
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return check_riff
    if head == b"\0\0\0\x0cjP  \r\n\x87\n":
        return check_jp2
    if head.startswith(b"\xff\x4f\xff\x51"):
        return check_j2k
    if head[:4] in (b"SDPX", b"XPDS"):
        return check_dpx
    if head[:4] in (b"\x80\x2a\x5f\xd7", b"\xd7\x5f\x2a\x80"):
        return check_cineon
    if head[:2] == b"BM":
        return check_bmp
    if head[:2] == b"#?":
        return check_radiance
    suffix = os.path.splitext(name)[1].lower()
    if suffix in (".tga", ".targa"):   # TGA has no magic number
        return check_tga
    if suffix in _SUFFIX_FORMATS:
        return _not_what_its_name_says
    return _trusted


_SUFFIX_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".exr": "OpenEXR",
                   ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WebP", ".jp2": "JPEG 2000",
                   ".j2c": "JPEG 2000", ".dpx": "DPX", ".cin": "Cineon", ".bmp": "BMP",
                   ".hdr": "Radiance HDR"}


def _not_what_its_name_says(view: memoryview) -> None:
    if len(view) < 12:
        raise Broken(f"is cut short: it holds only {len(view)} bytes")
    raise Broken("is damaged: it does not start the way its format's files do")


def _trusted(view: memoryview) -> None:
    """A format without a simple check (IRIS, ...): not empty will do."""


def _cut(what: str, end: int, size: int) -> Broken:
    return Broken(f"is cut short: {what} ends past the end of the file ({size:,} of {end:,} bytes)")


# PNG -----------------------------------------------------------------------------------------

_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
          (0, 1, 1, 2))   # (x start, y start, x step, y step) of the seven passes


def png_image_size(width: int, height: int, depth: int, colour: int, interlace: int) -> int:
    """The bytes IDAT inflates to: each row's filter byte and its packed samples, per pass."""
    bits = _PNG_CHANNELS[colour] * depth
    if not interlace:
        return height * (1 + (width * bits + 7) // 8)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        columns, rows = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if columns > 0 and rows > 0:
            total += rows * (1 + (columns * bits + 7) // 8)
    return total


def check_png(view: memoryview) -> None:
    size = len(view)
    at, index, expected = 8, 0, -1
    inflater = _Inflater()
    while True:
        index += 1
        if at + 8 > size:
            raise _cut(f"chunk {index}'s header", at + 8, size) if at < size else \
                Broken("is cut short: it has no IEND chunk")
        length = int.from_bytes(view[at:at + 4], "big")
        kind = bytes(view[at + 4:at + 8])
        label = kind.decode("latin-1")
        end = at + 12 + length
        if end > size:
            raise _cut(f"chunk {index} ({label})", end, size)
        body = view[at + 8:at + 8 + length]
        if zlib.crc32(body, zlib.crc32(kind)) != int.from_bytes(view[end - 4:end], "big"):
            raise Broken(f"is damaged: chunk {index} ({label}) fails its CRC check")
        if index == 1:
            if kind != b"IHDR" or length != 13:
                raise Broken("is damaged: it does not start with an IHDR chunk")
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            if colour not in _PNG_CHANNELS or not width or not height:
                raise Broken(f"is damaged: its IHDR is impossible ({width}x{height}, "
                             f"colour type {colour})")
            expected = png_image_size(width, height, depth, colour, interlace)
        elif kind == b"IDAT":
            inflater.feed(body, expected, f"chunk {index} (IDAT)")
        elif kind == b"IEND":
            break
        at = end
    if not inflater.finished or inflater.produced != expected:
        raise Broken(f"is damaged: its image data inflates to {inflater.produced:,} bytes, "
                     f"not {expected:,}")


class _Inflater:
    """A zlib stream fed in pieces; counts what it produces, never more than ``limit``."""

    def __init__(self) -> None:
        self._stream = zlib.decompressobj()
        self.produced = 0

    @property
    def finished(self) -> bool:
        return self._stream.eof

    def feed(self, data: memoryview | bytes, limit: int, where: str) -> None:
        try:
            pending: bytes | memoryview = data
            while pending and not self._stream.eof:
                out = self._stream.decompress(pending, max(1, limit - self.produced + 1))
                self.produced += len(out)
                if self.produced > limit:
                    raise Broken(f"is damaged: its image data inflates past {limit:,} bytes "
                                 f"(in {where})")
                pending = self._stream.unconsumed_tail
        except zlib.error as exc:
            raise Broken(f"is damaged: its compressed data does not inflate ({where}: "
                         f"{exc})") from None


# JPEG ----------------------------------------------------------------------------------------

_NEXT_MARKER = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]")   # not stuffing, not a restart marker


def check_jpeg(view: memoryview) -> None:
    data = view.obj if isinstance(view.obj, bytes) else bytes(view)
    size = len(data)
    at, frame_seen, segment = 2, False, 0
    while True:
        if at + 2 > size:
            raise Broken("is cut short: it ends before its EOI marker")
        if data[at] != 0xFF:
            raise Broken(f"is damaged: no marker where one belongs (byte {at:,})")
        marker = data[at + 1]
        if marker == 0xFF:   # fill byte
            at += 1
            continue
        if marker == 0xD9:
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            at += 2
            continue
        segment += 1
        if at + 4 > size:
            raise _cut(f"segment {segment}", at + 4, size)
        length = int.from_bytes(data[at + 2:at + 4], "big")
        end = at + 2 + length
        if length < 2 or end > size:
            raise _cut(f"segment {segment} (marker FF{marker:02X})", end, size)
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                      0xCF):
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            if not width or not height:
                raise Broken(f"is damaged: its frame header says {width}x{height}")
            frame_seen = True
        at = end
        if marker == 0xDA:   # a scan: entropy-coded data runs to the next real marker
            found = _NEXT_MARKER.search(data, at)
            if found is None:
                raise Broken("is cut short: its image data ends before its EOI marker")
            at = found.end() - 2
    if not frame_seen:
        raise Broken("is damaged: it has no frame header (SOF)")


# OpenEXR -------------------------------------------------------------------------------------

_LINES_PER_CHUNK = {0: 1, 1: 1, 2: 1, 3: 16, 4: 32, 5: 16, 6: 32, 7: 32, 8: 32, 9: 256}
_COMPRESSION = {0: "NONE", 1: "RLE", 2: "ZIPS", 3: "ZIP", 4: "PIZ", 5: "PXR24", 6: "B44",
                7: "B44A", 8: "DWAA", 9: "DWAB"}
_PIXEL_BYTES = {0: 4, 1: 2, 2: 4}   # UINT, HALF, FLOAT
_TILED, _LONG_NAMES, _DEEP, _MULTIPART = 0x200, 0x400, 0x800, 0x1000


class _Channel:
    __slots__ = ("bytes", "name", "x_sampling", "y_sampling")

    def __init__(self, name: str, pixel_bytes: int, x_sampling: int, y_sampling: int) -> None:
        self.name, self.bytes = name, pixel_bytes
        self.x_sampling, self.y_sampling = max(1, x_sampling), max(1, y_sampling)


class _Part:
    """What a chunk check needs of one part's header."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.attributes: dict[str, tuple[str, bytes]] = {}
        self.channels: list[_Channel] = []
        self.kind = "scanlineimage"

    def value(self, name: str) -> bytes | None:
        found = self.attributes.get(name)
        return found[1] if found else None

    @property
    def compression(self) -> int:
        value = self.value("compression")
        return value[0] if value else 0

    @property
    def data_window(self) -> tuple[int, int, int, int]:
        value = self.value("dataWindow")
        if value is None or len(value) != 16:
            raise Broken(f"is damaged: part {self.number} has no data window")
        x0, y0, x1, y1 = struct.unpack("<iiii", value)
        if x1 < x0 or y1 < y0:
            raise Broken(f"is damaged: part {self.number}'s data window is empty")
        return x0, y0, x1, y1


def _exr_parts(view: memoryview) -> tuple[list[_Part], bool, int]:
    """Every part's header, whether the file is multi-part, and where the offset tables start."""
    size = len(view)
    if size < 8:
        raise _cut("its header", 8, size)
    flags = int.from_bytes(view[4:8], "little")
    if flags & 0xFF != 2:
        raise Broken(f"is damaged: unknown OpenEXR version {flags & 0xFF}")
    multipart = bool(flags & _MULTIPART)
    at = 8
    parts: list[_Part] = []
    while True:
        part, at = _read_header(view, at, len(parts))
        parts.append(part)
        if not multipart:
            break
        if at >= size:
            raise _cut("its headers", at + 1, size)
        if view[at] == 0:   # the empty header that ends the list
            at += 1
            break
    if not multipart:
        parts[0].kind = ("deeptile" if flags & _TILED else "deepscanline") if flags & _DEEP \
            else "tiledimage" if flags & _TILED else "scanlineimage"
    return parts, multipart, at


def check_exr(view: memoryview) -> None:
    size = len(view)
    parts, multipart, at = _exr_parts(view)
    tables = []
    for part in parts:
        count = _chunk_count(part)
        end = at + 8 * count
        if end > size:
            raise _cut(f"its offset table{_of_part(part, parts)}", end, size)
        tables.append(struct.unpack_from(f"<{count}Q", view, at))
        at = end
    for part, offsets in zip(parts, tables):
        _check_chunks(view, part, offsets, multipart, _of_part(part, parts))


# Scanline compressions whose every chunk ``check_exr`` inflates or expands and measures.
_EXPANDED = (0, 1, 2, 3)   # NONE, RLE, ZIPS, ZIP


def decoded_whole(path: str) -> bool:
    """Whether ``check_file`` reads the frame's pixel data whole by itself (a PNG; a scanline
    OpenEXR in NONE, RLE, ZIPS or ZIP: every layer's data inflated and measured), so that a
    decode by a Blender adds nothing to it. False for any other file, or one it cannot read."""
    lower = path.lower()
    if lower.endswith(".png"):
        return True
    if not lower.endswith(".exr"):
        return False
    try:
        with open(path, "rb") as stream:
            data = stream.read()
        parts, _, _ = _exr_parts(memoryview(data))
    except (OSError, Broken, struct.error, IndexError, ValueError, OverflowError):
        return False
    return all(part.kind == "scanlineimage" and part.compression in _EXPANDED for part in parts)


def exr_layers(path: str) -> tuple[int, int, list[str]]:
    """An OpenEXR file's (first part's) data window size and its layers' names, in file order,
    as Blender names them: the channel "ViewLayer.Combined.R" is pass "Combined" of layer
    "ViewLayer" (what precedes the last two dots). Raises ValueError for a file it cannot read."""
    with open(path, "rb") as stream:
        head = stream.read(1 << 20)
    if not head.startswith(EXR_MAGIC):
        raise ValueError(f"{os.path.basename(path)} is not an OpenEXR file")
    try:
        part, _end = _read_header(memoryview(head), 8, 0)
    except Broken as problem:
        raise ValueError(f"{os.path.basename(path)} {problem}") from None
    x0, y0, x1, y1 = part.data_window
    layers: list[str] = []
    for channel in part.channels:
        if channel.name.count(".") >= 2:
            layer = channel.name.rsplit(".", 2)[0]
            if layer not in layers:
                layers.append(layer)
    return x1 - x0 + 1, y1 - y0 + 1, layers


def _of_part(part: _Part, parts: list[_Part]) -> str:
    return f" (part {part.number + 1} of {len(parts)})" if len(parts) > 1 else ""


def _read_header(view: memoryview, at: int, number: int) -> tuple[_Part, int]:
    size = len(view)
    part = _Part(number)
    while True:
        if at >= size:
            raise Broken(f"is cut short: it ends inside its header ({size:,} bytes)")
        if view[at] == 0:
            at += 1
            break
        name, at = _string(view, at)
        kind, at = _string(view, at)
        if at + 4 > size:
            raise Broken(f"is cut short: it ends inside its header ({size:,} bytes)")
        length = int.from_bytes(view[at:at + 4], "little", signed=True)
        at += 4
        if length < 0 or at + length > size:
            raise _cut(f"its header (attribute {name!r})", at + max(length, 0), size)
        part.attributes[name] = (kind, bytes(view[at:at + length]))
        at += length
    channels = part.value("channels")
    if channels is None:
        raise Broken(f"is damaged: part {number + 1} has no channel list")
    part.channels = _channel_list(channels)
    declared = part.value("type")
    if declared:
        part.kind = declared.rstrip(b"\0").decode("latin-1")
    part.data_window  # noqa: B018  (raises when it is missing or empty)
    return part, at


def _string(view: memoryview, at: int) -> tuple[str, int]:
    end = bytes(view[at:at + 256]).find(b"\0")
    if end < 0:
        if at + 256 > len(view):
            raise Broken(f"is cut short: it ends inside its header ({len(view):,} bytes)")
        raise Broken("is damaged: a header name is not terminated")
    return bytes(view[at:at + end]).decode("latin-1"), at + end + 1


def _channel_list(value: bytes) -> list[_Channel]:
    channels, at = [], 0
    while at < len(value) and value[at] != 0:
        end = value.index(b"\0", at)
        name = value[at:end].decode("latin-1")
        pixel_type, _linear, x_sampling, y_sampling = struct.unpack_from("<iB3xii", value, end + 1)
        if pixel_type not in _PIXEL_BYTES:
            raise Broken(f"is damaged: channel {name!r} has unknown pixel type {pixel_type}")
        channels.append(_Channel(name, _PIXEL_BYTES[pixel_type], x_sampling, y_sampling))
        at = end + 17
    return channels


def _chunk_count(part: _Part) -> int:
    declared = part.value("chunkCount")
    if declared is not None and len(declared) == 4:
        count = int.from_bytes(declared, "little", signed=True)
        if count < 0:
            raise Broken(f"is damaged: part {part.number + 1} declares {count} chunks")
        return count
    x0, y0, x1, y1 = part.data_window
    if part.kind.startswith("tiled") or part.kind == "deeptile":
        return _tile_count(part, x1 - x0 + 1, y1 - y0 + 1)
    lines = _LINES_PER_CHUNK.get(part.compression)
    if lines is None:
        raise Broken(f"uses compression {part.compression}, unknown here, and no chunk count")
    return -(-(y1 - y0 + 1) // lines)


def _tile_count(part: _Part, width: int, height: int) -> int:
    """Tiles in all levels: one level, a mipmap (both sides halved together) or a ripmap."""
    tiles = part.value("tiles")
    if tiles is None or len(tiles) != 9:
        raise Broken(f"is damaged: tiled part {part.number + 1} has no tile description")
    tile_w, tile_h, mode = struct.unpack("<IIB", tiles)
    if not tile_w or not tile_h:
        raise Broken(f"is damaged: its tiles are {tile_w}x{tile_h}")
    level_mode, round_up = mode & 0x0F, bool(mode >> 4)

    def level_count(extent: int) -> int:
        return ((extent - 1).bit_length() if round_up else extent.bit_length() - 1) + 1

    def level_size(extent: int, level: int) -> int:
        step = 1 << level
        return max((extent + step - 1) // step if round_up else extent // step, 1)

    def across(extent: int, tile: int) -> int:
        return -(-extent // tile)

    if level_mode == 0:
        return across(width, tile_w) * across(height, tile_h)
    if level_mode == 1:
        return sum(across(level_size(width, level), tile_w) * across(level_size(height, level),
                                                                     tile_h)
                   for level in range(level_count(max(width, height))))
    return (sum(across(level_size(width, level), tile_w) for level in range(level_count(width)))
            * sum(across(level_size(height, level), tile_h)
                  for level in range(level_count(height))))


def _check_chunks(view: memoryview, part: _Part, offsets: tuple[int, ...], multipart: bool,
                  where: str) -> None:
    size = len(view)
    total = len(offsets)
    deep, tiled = part.kind.startswith("deep"), "tile" in part.kind
    head = (4 if multipart else 0) + (16 if tiled else 4)
    compression = part.compression
    x0, y0, x1, y1 = part.data_window
    scanlines: list[tuple[memoryview, int, int, str]] = []
    for index, offset in enumerate(offsets, 1):
        label = f"chunk {index} of {total}{where}"
        if offset == 0:
            raise Broken(f"is cut short: {label} was never written (its offset is 0)")
        if offset + head + (24 if deep else 4) > size:
            raise _cut(label, offset + head + (24 if deep else 4), size)
        if multipart and int.from_bytes(view[offset:offset + 4], "little") != part.number:
            raise Broken(f"is damaged: {label} does not belong to its part")
        at = offset + head
        if deep:
            table, packed, _unpacked = struct.unpack_from("<QQQ", view, at)
            end = at + 24 + table + packed
        else:
            length = int.from_bytes(view[at:at + 4], "little", signed=True)
            end = at + 4 + length
            if length < 0:
                raise Broken(f"is damaged: {label} declares {length} bytes")
        if end > size:
            raise _cut(label, end, size)
        if deep or tiled or compression not in (0, 1, 2, 3):
            continue
        first = int.from_bytes(view[offset + head - 4:offset + head], "little", signed=True)
        lines = _LINES_PER_CHUNK[compression]
        if not y0 <= first <= y1:
            raise Broken(f"is damaged: {label} starts at line {first}, outside the image")
        expected = _lines_bytes(part.channels, x0, x1, first, min(first + lines - 1, y1))
        scanlines.append((view[at + 4:end], expected, compression, label))
    _check_scanlines(scanlines)


def _check_scanlines(chunks: list[tuple[memoryview, int, int, str]]) -> None:
    """Every chunk's data expanded and measured, the first problem (in file order) raised.
    zlib lets other threads run while it inflates: a large file's chunks are inflated by a few
    threads at once (4 at most, each holding one chunk's output)."""
    workers = min(PARALLEL_INFLATE, os.cpu_count() or 1)
    if workers > 1 and len(chunks) > 1 and sum(len(c[0]) for c in chunks) > PARALLEL_FROM:
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            problems = pool.map(_scanline_problem, chunks)
            problem = next((p for p in problems if p is not None), None)
    else:
        problem = next((p for p in map(_scanline_problem, chunks) if p is not None), None)
    if problem is not None:
        raise Broken(problem)


def _scanline_problem(chunk: tuple[memoryview, int, int, str]) -> str | None:
    try:
        _check_scanline_data(*chunk)
    except Broken as problem:
        return str(problem)
    return None


def _samples(start: int, end: int, step: int) -> int:
    """How many of start..end (inclusive) are multiples of ``step``."""
    return end // step - (start - 1) // step


def _lines_bytes(channels: list[_Channel], x0: int, x1: int, first: int, last: int) -> int:
    return sum(_samples(first, last, c.y_sampling) * _samples(x0, x1, c.x_sampling) * c.bytes
               for c in channels)


def _check_scanline_data(data: memoryview, expected: int, compression: int, label: str) -> None:
    if len(data) == expected:
        return   # stored as it is (compression would not have made it smaller)
    if compression == 0:
        raise Broken(f"is damaged: {label} holds {len(data):,} bytes, not {expected:,}")
    if compression == 1:
        produced = _rle_size(data, expected)
    else:
        try:
            stream = zlib.decompressobj()
            produced = len(stream.decompress(data, expected + 1))
            if not stream.eof and produced <= expected:
                raise Broken(f"is cut short: {label}'s compressed data ends early")
        except zlib.error as exc:
            raise Broken(f"is damaged: {label} does not inflate ({exc})") from None
    if produced != expected:
        raise Broken(f"is damaged: {label} expands to {produced:,} bytes, not {expected:,}")


def _rle_size(data: memoryview, limit: int) -> int:
    """The size OpenEXR's run-length data expands to (a negative count: that many literal
    bytes follow; else count + 1 copies of the next byte)."""
    at, produced, size = 0, 0, len(data)
    while at < size and produced <= limit:
        count = data[at] - 256 if data[at] > 127 else data[at]
        if count < 0:
            produced += -count
            at += 1 - count
        else:
            produced += count + 1
            at += 2
    if at > size:
        return -1
    return produced


# Other formats: the sizes their headers declare ------------------------------------------------

_TIFF_TYPE_BYTES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


def check_tiff(view: memoryview) -> None:
    size = len(view)
    order = "<" if view[:2] == b"II" else ">"
    if size < 8:
        raise _cut("its header", 8, size)
    at = struct.unpack_from(order + "I", view, 4)[0]
    if at + 2 > size:
        raise _cut("its first directory", at + 2, size)
    count = struct.unpack_from(order + "H", view, at)[0]
    if at + 2 + 12 * count + 4 > size:   # the entries, then the next directory's offset
        raise _cut("its first directory", at + 2 + 12 * count + 4, size)
    fields: dict[int, list[int]] = {}
    for entry in range(count):
        tag, kind, number = struct.unpack_from(order + "HHI", view, at + 2 + 12 * entry)
        width = _TIFF_TYPE_BYTES.get(kind, 1)
        where = at + 2 + 12 * entry + 8
        if number * width > 4:   # the value lies elsewhere in the file
            where = struct.unpack_from(order + "I", view, where)[0]
            if where + number * width > size:
                raise _cut(f"the value of its directory's tag {tag}", where + number * width, size)
        if tag in (273, 279, 324, 325) and kind in (3, 4):
            fields[tag] = list(struct.unpack_from(f"{order}{number}{'H' if kind == 3 else 'I'}",
                                                  view, where))
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):
        for index, (offset, length) in enumerate(zip(fields.get(offsets_tag, []),
                                                     fields.get(counts_tag, [])), 1):
            if offset + length > size:
                what = "strip" if offsets_tag == 273 else "tile"
                raise _cut(f"{what} {index} of {len(fields[offsets_tag])}", offset + length, size)


def check_tga(view: memoryview) -> None:
    """Uncompressed TGA: header, ID, colour map and width x height pixels; RLE ones trusted."""
    size = len(view)
    if size < 18:
        raise _cut("its header", 18, size)
    id_length, map_type, kind = view[0], view[1], view[2]
    map_length, map_bits = int.from_bytes(view[5:7], "little"), view[7]
    width, height = int.from_bytes(view[12:14], "little"), int.from_bytes(view[14:16], "little")
    if kind in (1, 2, 3):
        end = (18 + id_length + (map_length * ((map_bits + 7) // 8) if map_type else 0)
               + width * height * ((view[16] + 7) // 8))
        if end > size:
            raise _cut("its pixel data", end, size)


def check_radiance(view: memoryview) -> None:
    """Radiance HDR: the header, the resolution line, then each scanline's run-length data
    walked to its end (a scanline cut short or overlong says so)."""
    data = view.obj if isinstance(view.obj, bytes) else bytes(view)
    blank = data.find(b"\n\n")
    line_end = data.find(b"\n", blank + 2) if blank >= 0 else -1
    if line_end < 0:
        raise Broken("is cut short: it ends inside its header")
    fields = data[blank + 2:line_end].split()
    if len(fields) != 4 or not fields[1].isdigit() or not fields[3].isdigit():
        raise Broken("is damaged: it has no resolution line")
    height, width = int(fields[1]), int(fields[3])
    at, size = line_end + 1, len(data)
    for line in range(1, height + 1):
        if at + 4 > size:
            raise _cut(f"scanline {line:,} of {height:,}", at + 4, size)
        if not (data[at] == 2 and data[at + 1] == 2 and data[at + 2] < 128
                and 8 <= width < 32768):
            at += 4 * width   # a flat scanline (or an old-style run, rare): its plain size
            continue
        if (data[at + 2] << 8) | data[at + 3] != width:
            raise Broken(f"is damaged: scanline {line:,} of {height:,} has the wrong width")
        at += 4
        for _component in range(4):
            done = 0
            while done < width:
                if at >= size:
                    raise _cut(f"scanline {line:,} of {height:,}", at + 1, size)
                count = data[at]
                if count > 128:
                    done, at = done + count - 128, at + 2
                else:
                    done, at = done + count, at + 1 + count
            if done != width:
                raise Broken(f"is damaged: scanline {line:,} of {height:,} overruns its width")
    if at > size:
        raise _cut(f"scanline {height:,} of {height:,}", at, size)


def check_riff(view: memoryview) -> None:
    end = 8 + int.from_bytes(view[4:8], "little")
    if end > len(view):
        raise _cut("its RIFF data", end, len(view))


def check_jp2(view: memoryview) -> None:
    """JPEG 2000's boxes each inside the file, and its code stream box ending in EOC."""
    at, size, box = 0, len(view), 0
    while at < size:
        box += 1
        if at + 8 > size:
            raise _cut(f"box {box}", at + 8, size)
        length = int.from_bytes(view[at:at + 4], "big")
        kind = bytes(view[at + 4:at + 8])
        header = 8
        if length == 1:
            if at + 16 > size:
                raise _cut(f"box {box}", at + 16, size)
            length, header = int.from_bytes(view[at + 8:at + 16], "big"), 16
        if length == 0:   # the last box runs to the end of the file
            length = size - at
        if length < header or at + length > size:
            raise _cut(f"box {box} ({kind.decode('latin-1')})", at + length, size)
        if kind == b"jp2c":
            check_j2k(view[at + header:at + length])
            return
        at += length
    raise Broken("is cut short: it has no code stream (jp2c box)")


def check_j2k(view: memoryview) -> None:
    if bytes(view[-2:]) != b"\xff\xd9":
        raise Broken("is cut short: its JPEG 2000 code stream has no end marker (EOC)")


def check_dpx(view: memoryview) -> None:
    order = "<" if view[:4] == b"XPDS" else ">"
    _declared(view, struct.unpack_from(order + "I", view, 16)[0] if len(view) >= 20 else 20)


def check_cineon(view: memoryview) -> None:
    order = "<" if view[:4] == b"\xd7\x5f\x2a\x80" else ">"
    _declared(view, struct.unpack_from(order + "I", view, 20)[0] if len(view) >= 24 else 24)


def check_bmp(view: memoryview) -> None:
    """An uncompressed BMP's pixel rows, from its info header, must lie inside the file. Its
    file-size field is not trusted: Blender 3.4 writes it for 4 bytes a pixel in a 24-bit file."""
    if len(view) < 30:
        raise _cut("its header", 30, len(view))
    offset = int.from_bytes(view[10:14], "little")
    width = int.from_bytes(view[18:22], "little", signed=True)
    height = int.from_bytes(view[22:26], "little", signed=True)
    bits = int.from_bytes(view[28:30], "little")
    compression = int.from_bytes(view[30:34], "little") if len(view) >= 34 else 0
    if compression != 0 or width <= 0 or bits == 0:   # compressed or unusual: its offset only
        _declared(view, offset)
        return
    _declared(view, offset + (width * bits + 31) // 32 * 4 * abs(height))


def _declared(view: memoryview, total: int) -> None:
    if total > len(view):
        raise _cut("the image its header declares", total, len(view))
