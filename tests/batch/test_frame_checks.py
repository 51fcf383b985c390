"""A written frame read back whole (``blender_scripts/frame_checks.py``), on frames the real
Blender wrote: whole ones pass; cut short, flipped, empty or missing ones are named."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import pytest

from renderplus.blender_scripts import frame_checks
from renderplus.blender_scripts.frame_checks import check_file, check_settled, png_image_size, settle
from tests.batch.frame_fixtures import (
    BLACK,
    BLACK_EXR,
    BLACK_MULTILAYER,
    FILE_OUTPUT,
    FORMATS,
    NAN,
    ONE_BLACK_LAYER,
    write_frames,
)

WHOLE = [*FORMATS, FILE_OUTPUT, BLACK, BLACK_EXR, BLACK_MULTILAYER, ONE_BLACK_LAYER, NAN]


@pytest.fixture(scope="module")
def blender_frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames the real Blender wrote (a test using them is marked ``blender``: tests/tiers.py)."""
    return write_frames(tmp_path_factory.mktemp("blender_frames"))


def cut(blender_frames: Path, name: str, size: int, tmp_path: Path) -> str:
    """A copy of frame ``name`` holding only its first ``size`` bytes (negative: from its end)."""
    data = (blender_frames / name).read_bytes()
    target = tmp_path / os.path.basename(name)
    target.write_bytes(data[:size] if size >= 0 else data[:len(data) + size])
    return str(target)


def changed(blender_frames: Path, name: str, tmp_path: Path, at: int, value: int | None = None) -> str:
    """A copy of frame ``name`` with byte ``at`` flipped (or set to ``value``)."""
    data = bytearray((blender_frames / name).read_bytes())
    data[at] = data[at] ^ 0x55 if value is None else value
    target = tmp_path / os.path.basename(name)
    target.write_bytes(bytes(data))
    return str(target)


def exr_offsets(path: Path) -> tuple[int, list[int]]:
    """A single-part EXR's header end and its chunks' offsets."""
    data = path.read_bytes()
    header, end = frame_checks._read_header(memoryview(data), 8, 0)
    count = frame_checks._chunk_count(header)
    return end, list(struct.unpack_from(f"<{count}Q", data, end))


@pytest.mark.parametrize("name", WHOLE)
def test_a_whole_frame_of_every_format_passes(blender_frames: Path, name: str) -> None:
    assert check_file(str(blender_frames / name)) is None


@pytest.mark.parametrize("name", WHOLE)
def test_a_frame_cut_by_its_last_byte_is_caught(blender_frames: Path, name: str, tmp_path: Path) -> None:
    problem = check_file(cut(blender_frames, name, -1, tmp_path))
    assert problem is not None and problem.startswith(os.path.basename(name) + " is cut short")


@pytest.mark.parametrize("name", WHOLE)
def test_a_frame_cut_in_half_is_caught(blender_frames: Path, name: str, tmp_path: Path) -> None:
    size = (blender_frames / name).stat().st_size
    problem = check_file(cut(blender_frames, name, size // 2, tmp_path))
    assert problem is not None and " is cut short" in problem


@pytest.mark.parametrize("name", ["multilayer.exr", "frame.exr", FILE_OUTPUT, "multilayer_piz.exr"])
def test_an_exr_cut_in_its_header_its_offset_table_or_a_chunk_says_where(
        blender_frames: Path, name: str, tmp_path: Path) -> None:
    header_end, offsets = exr_offsets(blender_frames / name)
    base = os.path.basename(name)
    size = (blender_frames / name).stat().st_size
    for inside_header in (40, header_end - 3):
        problem = check_file(cut(blender_frames, name, inside_header, tmp_path))
        assert problem is not None and problem.startswith(f"{base} is cut short: ")
        assert "header" in problem
    assert check_file(cut(blender_frames, name, header_end + 4, tmp_path)) == (
        f"{base} is cut short: its offset table ends past the end of the file "
        f"({header_end + 4:,} of {header_end + 8 * len(offsets):,} bytes)")
    middle = len(offsets) // 2 + 1   # the chunk a cut in its middle leaves unfinished
    end_of_middle = offsets[middle] if middle < len(offsets) else size
    at = (offsets[middle - 1] + end_of_middle) // 2
    assert check_file(cut(blender_frames, name, at, tmp_path)) == (
        f"{base} is cut short: chunk {middle} of {len(offsets)} ends past the end of the file "
        f"({at:,} of {end_of_middle:,} bytes)")


def test_an_exr_whose_offset_table_was_never_filled_in_is_caught(blender_frames: Path,
                                                                 tmp_path: Path) -> None:
    header_end, offsets = exr_offsets(blender_frames / "multilayer.exr")
    data = bytearray((blender_frames / "multilayer.exr").read_bytes())
    data[header_end + 8:header_end + 16] = bytes(8)   # OpenEXR fills it in as it closes the file
    (tmp_path / "open.exr").write_bytes(bytes(data))
    assert check_file(str(tmp_path / "open.exr")) == \
        f"open.exr is cut short: chunk 2 of {len(offsets)} was never written (its offset is 0)"


@pytest.mark.parametrize("name", ["multilayer.exr", "frame.exr", "frame_zips.exr", FILE_OUTPUT])
def test_a_flipped_byte_in_an_exr_chunk_does_not_inflate(blender_frames: Path, name: str,
                                                         tmp_path: Path) -> None:
    _end, offsets = exr_offsets(blender_frames / name)
    length = int.from_bytes((blender_frames / name).read_bytes()[offsets[1] + 4:offsets[1] + 8], "little")
    problem = check_file(changed(blender_frames, name, tmp_path, offsets[1] + 8 + length // 2))
    assert problem is not None
    assert problem.startswith(f"{os.path.basename(name)} is damaged: chunk 2 of {len(offsets)} ")
    assert "inflate" in problem or "expands to" in problem


def test_a_flipped_count_in_rle_data_expands_to_the_wrong_size(blender_frames: Path, tmp_path: Path) -> None:
    _end, offsets = exr_offsets(blender_frames / "frame_rle.exr")
    data = (blender_frames / "frame_rle.exr").read_bytes()
    first = offsets[0] + 8                             # the chunk's first run's count
    count = data[first] - 256 if data[first] > 127 else data[first]
    problem = check_file(changed(blender_frames, "frame_rle.exr", tmp_path, first,
                                 (count + 1) % 256 if count >= 0 else (count - 1) % 256))
    assert problem is not None and problem.startswith("frame_rle.exr is damaged: chunk 1 of ")


def test_a_flipped_byte_in_a_png_fails_its_crc(blender_frames: Path, tmp_path: Path) -> None:
    data = (blender_frames / "frame.png").read_bytes()
    problem = check_file(changed(blender_frames, "frame.png", tmp_path, data.index(b"IDAT") + 30))
    assert problem is not None and problem.startswith("frame.png is damaged: chunk ")
    assert problem.endswith("(IDAT) fails its CRC check")


def test_png_image_data_that_does_not_inflate_is_caught_even_with_a_good_crc(
        blender_frames: Path, tmp_path: Path) -> None:
    data = bytearray((blender_frames / "frame.png").read_bytes())
    start = data.index(b"IDAT")
    length = int.from_bytes(data[start - 4:start], "big")
    data[start + 4 + length // 2] ^= 0xFF
    crc = zlib.crc32(bytes(data[start:start + 4 + length]))
    data[start + 4 + length:start + 8 + length] = crc.to_bytes(4, "big")
    (tmp_path / "f.png").write_bytes(bytes(data))
    problem = check_file(str(tmp_path / "f.png"))
    assert problem is not None and problem.startswith("f.png is damaged: ")
    assert "inflate" in problem


def test_a_png_without_iend_is_cut_short(blender_frames: Path, tmp_path: Path) -> None:
    assert check_file(cut(blender_frames, "frame.png", -12, tmp_path)) == \
        "frame.png is cut short: it has no IEND chunk"


def test_a_jpeg_cut_inside_its_scan_is_caught(blender_frames: Path, tmp_path: Path) -> None:
    data = (blender_frames / "frame.jpg").read_bytes()
    scan = data.index(b"\xff\xda")
    assert check_file(cut(blender_frames, "frame.jpg", scan + 40, tmp_path)) == \
        "frame.jpg is cut short: its image data ends before its EOI marker"


def test_an_empty_a_missing_and_a_folder_frame_are_named(tmp_path: Path) -> None:
    (tmp_path / "f_0001.exr").write_bytes(b"")
    (tmp_path / "f_0003.png").mkdir()
    assert check_file(str(tmp_path / "f_0001.exr")) == "f_0001.exr is empty (0 bytes)"
    assert check_file(str(tmp_path / "f_0002.exr")) == "f_0002.exr is missing"
    assert check_file(str(tmp_path / "f_0003.png")) == "f_0003.png is a folder, not a frame"


def test_an_unknown_format_is_trusted_when_not_empty(tmp_path: Path) -> None:
    (tmp_path / "f.rgb").write_bytes(b"\x01\xda whatever")
    assert check_file(str(tmp_path / "f.rgb")) is None


def test_the_png_image_size_follows_depth_colour_and_interlacing() -> None:
    assert png_image_size(64, 48, 8, 6, 0) == 48 * (1 + 64 * 4)
    assert png_image_size(3, 1, 1, 0, 0) == 2                       # 3 bits: one byte, one filter
    assert png_image_size(1, 1, 16, 2, 1) == 1 + 6                  # Adam7: only the first pass
    assert png_image_size(8, 8, 8, 0, 1) == sum(rows * (1 + cols) for cols, rows in (
        (1, 1), (1, 1), (2, 1), (2, 2), (4, 2), (4, 4), (8, 4)))


def test_a_tiled_exr_counts_the_tiles_of_all_its_levels() -> None:
    def count(width: int, height: int, tile: int, mode: int) -> int:
        part = frame_checks._Part(0)
        part.attributes["tiles"] = ("tiledesc", struct.pack("<IIB", tile, tile, mode))
        return frame_checks._tile_count(part, width, height)

    assert count(100, 50, 32, 0) == 4 * 2
    # mipmap, rounding down: 100x50, 50x25, 25x12, 12x6, 6x3, 3x1, 1x1
    assert count(100, 50, 32, 1) == 8 + 2 + 1 + 1 + 1 + 1 + 1
    # ripmap: x levels 100, 50, 25, 12, 6, 3, 1 (4+2+1+1+1+1+1 tiles); y levels 50..1 (2+1*5)
    assert count(100, 50, 32, 2) == 11 * 7
    # rounding up: 100 -> 50 -> 25 -> 13 -> 7 -> 4 -> 2 -> 1
    assert count(100, 100, 64, 0x11) == 4 + 1 + 1 + 1 + 1 + 1 + 1 + 1


class FakeDisk:
    """A clock and a sleep that make a frame appear (or grow) as time passes, with no waiting."""

    def __init__(self, path: Path, writes: dict[float, bytes]) -> None:
        self.path, self.writes, self.now, self.sleeps = path, dict(writes), 0.0, 0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds
        for when in sorted(self.writes):
            if when <= self.now:
                content = self.writes.pop(when)
                with open(self.path, "ab") as stream:
                    stream.write(content)
                os.utime(self.path, ns=(int(self.now * 1e9), int(self.now * 1e9)))


def test_settle_waits_for_a_late_frame_then_for_it_to_stop_growing(blender_frames: Path,
                                                                   tmp_path: Path) -> None:
    data = (blender_frames / "frame.exr").read_bytes()
    target = tmp_path / "late.exr"
    disk = FakeDisk(target, {1.0: data[:1000], 1.5: data[1000:]})
    assert settle(str(target), timeout=10, poll=0.25, quiet=1.0, clock=disk.clock,
                  sleep=disk.sleep)
    assert disk.now == 2.5 and check_file(str(target)) is None   # a quiet second after the last write


def test_settle_gives_up_after_its_timeout(tmp_path: Path) -> None:
    disk = FakeDisk(tmp_path / "never.exr", {})
    assert not settle(str(tmp_path / "never.exr"), timeout=2, poll=0.5, clock=disk.clock,
                      sleep=disk.sleep)
    assert disk.now == 2.0


def test_check_settled_costs_a_whole_frame_no_wait_and_rechecks_a_late_one(
        blender_frames: Path, tmp_path: Path) -> None:
    disk = FakeDisk(tmp_path / "x", {})
    assert check_settled(str(blender_frames / "frame.png"), clock=disk.clock, sleep=disk.sleep) is None
    assert disk.sleeps == 0
    data = (blender_frames / "frame.png").read_bytes()
    target = tmp_path / "late.png"
    target.write_bytes(data[:100])
    late = FakeDisk(target, {0.5: data[100:1000], 1.75: data[1000:]})   # paused a while
    assert check_settled(str(target), poll=0.25, quiet=1.0, clock=late.clock,
                         sleep=late.sleep) is None
    gone = FakeDisk(tmp_path / "gone.png", {})
    assert check_settled(str(tmp_path / "gone.png"), timeout=3, clock=gone.clock,
                         sleep=gone.sleep) == "gone.png is missing"
    assert gone.now == 3.0


def test_check_settled_stops_waiting_for_a_broken_frame_once_it_stays_unchanged(
        blender_frames: Path, tmp_path: Path) -> None:
    target = Path(cut(blender_frames, "frame.exr", 2000, tmp_path))
    disk = FakeDisk(target, {})
    problem = check_settled(str(target), timeout=10, poll=0.25, quiet=1.0, clock=disk.clock,
                            sleep=disk.sleep)
    assert problem is not None and problem.startswith("frame.exr is cut short: chunk 2 of 3")
    assert disk.now == 1.0


@pytest.mark.parametrize("name", WHOLE)
def test_every_truncation_point_of_a_small_frame_is_caught(blender_frames: Path, name: str,
                                                           tmp_path: Path) -> None:
    """Prefixes of the frame (about 150 of them): a frame is never whole before its last byte."""
    data = (blender_frames / name).read_bytes()
    target = tmp_path / os.path.basename(name)
    missed = []
    for size in [*range(1, 40), *range(40, len(data), max(1, len(data) // 110))]:
        target.write_bytes(data[:size])
        if check_file(str(target)) is None:
            missed.append(size)
    assert missed == []


def exr_attribute(name: str, kind: str, value: bytes) -> bytes:
    return name.encode() + b"\0" + kind.encode() + b"\0" + struct.pack("<i", len(value)) + value


def exr_header(*, width: int, height: int, tiled: bool, part: str | None = None,
               chunks: int | None = None) -> bytes:
    """A minimal OpenEXR header: one HALF channel "Y", no compression."""
    attributes = [
        exr_attribute("channels", "chlist", b"Y\0" + struct.pack("<iB3xii", 1, 0, 1, 1) + b"\0"),
        exr_attribute("compression", "compression", b"\0"),
        exr_attribute("dataWindow", "box2i", struct.pack("<iiii", 0, 0, width - 1, height - 1)),
    ]
    if tiled:
        attributes.append(exr_attribute("tiles", "tiledesc", struct.pack("<IIB", 4, 4, 0)))
    if part is not None:
        kind = b"tiledimage" if tiled else b"scanlineimage"
        attributes += [exr_attribute("name", "string", part.encode()),
                       exr_attribute("type", "string", kind),
                       exr_attribute("chunkCount", "int", struct.pack("<i", chunks or 0))]
    return b"".join(attributes) + b"\0"


def test_a_tiled_exr_is_read_tile_by_tile(tmp_path: Path) -> None:
    """Blender writes no tiled EXR: a minimal one, 8x8 in 4x4 tiles."""
    head = b"\x76\x2f\x31\x01" + struct.pack("<I", 2 | 0x200) + exr_header(width=8, height=8,
                                                                            tiled=True)
    tiles = [struct.pack("<iiiii", x, y, 0, 0, 32) + bytes(32) for y in range(2) for x in range(2)]
    table_end = len(head) + 8 * len(tiles)
    offsets = [table_end + sum(len(t) for t in tiles[:i]) for i in range(len(tiles))]
    data = head + struct.pack("<4Q", *offsets) + b"".join(tiles)
    (tmp_path / "tiled.exr").write_bytes(data)
    assert check_file(str(tmp_path / "tiled.exr")) is None
    (tmp_path / "tiled.exr").write_bytes(data[:-10])
    assert check_file(str(tmp_path / "tiled.exr")) == (
        f"tiled.exr is cut short: chunk 4 of 4 ends past the end of the file "
        f"({len(data) - 10:,} of {len(data):,} bytes)")


def test_a_multipart_exr_checks_each_part_and_names_it(tmp_path: Path) -> None:
    parts = [exr_header(width=4, height=2, tiled=False, part=name, chunks=2) for name in "ab"]
    head = b"\x76\x2f\x31\x01" + struct.pack("<I", 2 | 0x1000) + b"".join(parts) + b"\0"
    chunks = [struct.pack("<iii", number, y, 8) + bytes(8) for number in range(2) for y in range(2)]
    table_end = len(head) + 8 * len(chunks)
    offsets = [table_end + sum(len(c) for c in chunks[:i]) for i in range(len(chunks))]
    data = head + struct.pack("<4Q", *offsets) + b"".join(chunks)
    (tmp_path / "parts.exr").write_bytes(data)
    assert check_file(str(tmp_path / "parts.exr")) is None
    (tmp_path / "parts.exr").write_bytes(data[:-1])
    assert check_file(str(tmp_path / "parts.exr")) == (
        f"parts.exr is cut short: chunk 2 of 2 (part 2 of 2) ends past the end of the file "
        f"({len(data) - 1:,} of {len(data):,} bytes)")
    wrong = bytearray(data)
    wrong[offsets[3]] = 0   # the last chunk claims part 1
    (tmp_path / "parts.exr").write_bytes(bytes(wrong))
    assert check_file(str(tmp_path / "parts.exr")) == \
        "parts.exr is damaged: chunk 2 of 2 (part 2 of 2) does not belong to its part"


@pytest.mark.parametrize(("name", "whole"), [
    ("frame.png", True), ("frame.exr", True), ("frame_rle.exr", True), ("frame_none.exr", True),
    ("frame_zips.exr", True), ("multilayer.exr", True), (FILE_OUTPUT, True),
    ("multilayer_piz.exr", False), ("multilayer_dwaa.exr", False), ("frame.jpg", False),
    ("frame.tif", False)])
def test_what_the_structural_check_reads_whole_needs_no_decode_by_blender(
        blender_frames: Path, name: str, whole: bool) -> None:
    assert frame_checks.decoded_whole(str(blender_frames / name)) is whole


def test_a_file_it_cannot_read_is_not_called_read_whole(tmp_path: Path) -> None:
    broken = tmp_path / "cut.exr"
    broken.write_bytes(b"\x76\x2f\x31\x01\x02")
    assert not frame_checks.decoded_whole(str(broken))
    assert not frame_checks.decoded_whole(str(tmp_path / "missing.exr"))


def bmp(width: int, height: int, declared_size: int | None = None) -> bytes:
    """A 24-bit uncompressed BMP; ``declared_size``: its file-size field (else the true size)."""
    row = (width * 3 + 3) // 4 * 4
    pixels = bytes(row * height)
    size = 54 + len(pixels)
    header = b"BM" + struct.pack("<IHHI", declared_size or size, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def test_a_bmp_is_judged_by_its_rows_not_its_size_field(tmp_path: Path) -> None:
    """Blender 3.4 writes a 24-bit BMP's file-size field as if it held 4 bytes a pixel (seen on a
    32x24 frame: 3,126 declared, 2,358 written, every row there)."""
    overstated = tmp_path / "overstated.bmp"
    overstated.write_bytes(bmp(32, 24, declared_size=54 + 32 * 24 * 4))
    assert check_file(str(overstated)) is None
    cut = tmp_path / "cut.bmp"
    cut.write_bytes(bmp(33, 17)[:-100])
    assert check_file(str(cut)) == ("cut.bmp is cut short: the image its header declares ends past "
                                    "the end of the file (1,654 of 1,754 bytes)")
