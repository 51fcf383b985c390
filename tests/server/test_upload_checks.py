"""Issue 9, uploads: what lies behind a gzip/zstd magic, names that never overwrite, part headers."""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle
from renderplus.server.upload import MAX_PART_HEADERS, UploadError, store_stream
from renderplus.server.upload_signature import BlendSignature, zstd_frame_problem

from .helpers import call
from .test_upload import PLAIN, ZSTD, leftovers, upload_raw

MAGIC = b"\x28\xb5\x2f\xfd"
GARBAGE = bytes((index * 151 + 7) % 256 for index in range(20000))


def gzip_start(content: bytes) -> bytes:
    """A gzip header and deflate data for ``content`` that a decoder can read, but no end."""
    packer = zlib.compressobj(wbits=31)
    return packer.compress(content) + packer.flush(zlib.Z_SYNC_FLUSH)


def zstd_frame(descriptor: int, *fields: bytes) -> bytes:
    return MAGIC + bytes([descriptor]) + b"".join(fields)


def block(kind: int, size: int, last: bool = True) -> bytes:
    return ((size << 3) | (kind << 1) | int(last)).to_bytes(3, "little")


def verdict(content: bytes, chunk: int = 1000) -> str | None:
    signature = BlendSignature()
    for start in range(0, len(content), chunk):
        signature.feed(content[start:start + chunk])
    return signature.finish()


# ------------------------------------------------------------------------------------- gzip

@pytest.mark.parametrize("content, why", [
    (gzip_start(PLAIN[:100]) + GARBAGE, "not a valid gzip stream"),
    (gzip_start(PLAIN[:100]), "cut short"),
    (gzip.compress(PLAIN)[:-200], "cut short"),
    (gzip.compress(b"PLENDER-v304" + PLAIN), "does not hold a Blender file"),
], ids=["garbage-after-blender-header", "stream-without-end", "truncated", "other-content"])
def test_broken_gzip_uploads_answer_400(server: ServerHandle, service: BatchService,
                                        content: bytes, why: str) -> None:
    code, data = upload_raw(server.port, "packed.blend", content)
    assert code == 400, data
    assert why in str(data["status"]) and "packed.blend is a gzip file" in str(data["status"])
    assert not (service.work_dir / "packed.blend").exists()
    assert leftovers(service.work_dir) == []


def test_a_gzip_blend_bigger_than_the_probe_is_accepted_whole(server: ServerHandle) -> None:
    content = gzip.compress(PLAIN + bytes(range(256)) * 40000, compresslevel=1)  # ~10 MB inside
    code, data = upload_raw(server.port, "big.blend", content)
    assert code == 201
    assert Path(str(data["path"])).read_bytes() == content


def test_gzip_probe_never_inflates_more_than_a_few_kib() -> None:
    signature = BlendSignature()
    signature.feed(gzip.compress(b"BLENDER-v304" + b"\0" * 50_000_000, compresslevel=1))
    assert signature.decided and signature.problem is None
    assert len(signature._inflated) <= 4096


@pytest.mark.parametrize("chunk", [1, 2, 3, 4096, 1 << 20])
def test_good_compressed_blends_pass_whatever_the_chunking(chunk: int) -> None:
    for content in (gzip.compress(PLAIN), gzip.compress(PLAIN * 50), ZSTD, PLAIN):
        assert verdict(content, chunk) is None, content[:4]


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=3000), st.integers(1, 700))
def test_gzip_garbage_is_never_accepted(tail: bytes, chunk: int) -> None:
    assert verdict(b"\x1f\x8b" + tail, chunk) is not None


# ------------------------------------------------------------------------------------- zstd

@pytest.mark.parametrize("content, why", [
    (MAGIC, "cut short"),
    (MAGIC + b"\x00" * 500, "does not hold a Blender file"),  # an empty raw block
    (zstd_frame(0x28, b"\xc8", block(0, 200), PLAIN[:200]), "reserved bit"),
    (zstd_frame(0x00, b"\xf8", block(2, 100), GARBAGE[:200]), "impossible window"),
    (zstd_frame(0x01, b"\x58", b"\x07", block(2, 100), GARBAGE[:200]), "needs a dictionary"),
    (zstd_frame(0x20, b"\x03", block(0, 3), b"BLE"), "holds only 3 bytes"),
    (zstd_frame(0xa0, (60000).to_bytes(4, "little"), block(3, 100), GARBAGE[:200]), "reserved block type"),
    (zstd_frame(0xa0, (60000).to_bytes(4, "little"), block(0, 60001), PLAIN), "more than the frame allows"),
    (zstd_frame(0x00, b"\x58", block(2, 200_000), GARBAGE[:200]), "more than the frame allows"),
    (zstd_frame(0x20, b"\xc8", block(1, 200), b"B"), "does not hold a Blender file"),
    (zstd_frame(0x20, b"\xc8", block(0, 200), GARBAGE[:200]), "does not hold a Blender file"),
    (zstd_frame(0xa0, (60000).to_bytes(4, "little"), block(2, 100), b"\x01", GARBAGE[:99]),
     "does not hold a Blender file"),  # RLE literals
    (zstd_frame(0xa0, (60000).to_bytes(4, "little"), block(2, 100), b"\x03", GARBAGE[:99]),
     "Huffman table that does not exist"),  # treeless literals in the first block
    (zstd_frame(0xa0, (60000).to_bytes(4, "little"), block(2, 100), b"\x50", GARBAGE[:99]),
     "does not hold a Blender file"),  # raw literals that are not BLENDER
], ids=["magic-only", "zeros", "reserved-bit", "window", "dictionary", "tiny-frame", "block-type",
        "raw-block-over-frame", "block-over-128k", "rle-block", "raw-block-garbage", "rle-literals",
        "treeless-literals", "raw-literals-garbage"])
def test_malformed_zstd_uploads_answer_400(server: ServerHandle, service: BatchService,
                                           content: bytes, why: str) -> None:
    code, data = upload_raw(server.port, "packed.blend", content)
    assert code == 400, data
    assert why in str(data["status"]) and "packed.blend is a zstd file" in str(data["status"])
    assert leftovers(service.work_dir) == []


def test_plausible_zstd_frames_pass() -> None:
    raw_literals = zstd_frame(0xa0, (60000).to_bytes(4, "little"), block(2, 100),
                              bytes([(20 << 3) | 0]), PLAIN[:20], GARBAGE[:80])
    huffman = zstd_frame(0xa0, (66804).to_bytes(4, "little"), block(2, 1624), b"\x06", GARBAGE[:200])
    windowed = zstd_frame(0x00, b"\x58", block(2, 1624), b"\x06", GARBAGE[:200])
    for content in (ZSTD, raw_literals, huffman, windowed):
        assert zstd_frame_problem(content) is None, content[:16]
        assert verdict(content, chunk=5) is None


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=80))
def test_zstd_header_check_never_crashes(tail: bytes) -> None:
    problem = zstd_frame_problem(MAGIC + tail)
    assert problem is None or problem.startswith("a zstd file")


# ------------------------------------------------------------------------------------- names

def test_names_that_clean_alike_never_overwrite_each_other(server: ServerHandle,
                                                           service: BatchService) -> None:
    stored = []
    for index, name in enumerate(["a.blend", "-a.blend", "a .blend"]):
        content = PLAIN + bytes([index])
        code, data = upload_raw(server.port, name, content)
        assert code == 201
        stored.append((Path(str(data["path"])), content, data["name"]))
    assert [name for _, _, name in stored] == ["a.blend", "a-2.blend", "a-3.blend"]
    for path, content, _ in stored:
        assert path.parent == service.work_dir.resolve()
        assert path.read_bytes() == content


def test_the_same_bytes_uploaded_twice_reuse_the_first_file(server: ServerHandle,
                                                           service: BatchService) -> None:
    first = upload_raw(server.port, "same.blend", PLAIN)[1]["path"]
    assert upload_raw(server.port, "same.blend", PLAIN + b"x")[1]["name"] == "same-2.blend"
    assert upload_raw(server.port, "same.blend", PLAIN)[1]["path"] == first
    assert sorted(p.name for p in service.work_dir.iterdir()) == ["same-2.blend", "same.blend"]


def test_concurrent_uploads_of_one_name_all_survive(server: ServerHandle, service: BatchService) -> None:
    contents = [PLAIN * 20 + bytes([index]) for index in range(6)]
    answers: list[tuple[int, dict[str, object]]] = []
    start = threading.Barrier(len(contents))

    def send(content: bytes) -> None:
        start.wait()
        answers.append(upload_raw(server.port, "race.blend", content))

    threads = [threading.Thread(target=send, args=(content,)) for content in contents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(code for code, _ in answers) == [201] * len(contents)
    paths = {Path(str(data["path"])) for _, data in answers}
    assert len(paths) == len(contents)
    assert sorted(path.read_bytes() for path in paths) == sorted(contents)


def test_store_stream_racing_at_the_naming_step(tmp_path: Path) -> None:
    """Both writers finish at the same instant: one name each, and equal bytes share one."""
    gate = threading.Barrier(4)
    results: dict[int, Path] = {}

    def chunks(content: bytes) -> Iterator[bytes]:
        yield content[:100]
        gate.wait()
        yield content[100:]

    def store(index: int, content: bytes) -> None:
        results[index] = store_stream(chunks(content), tmp_path, "r.blend", 10**6).path

    contents = [PLAIN + b"1", PLAIN + b"2", PLAIN + b"3", PLAIN + b"3"]
    threads = [threading.Thread(target=store, args=item) for item in enumerate(contents)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(set(results.values())) in (3, 4)  # the two equal ones may share a file
    for index, content in enumerate(contents):
        assert results[index].read_bytes() == content
    assert leftovers(tmp_path) == []


def test_too_many_uploads_of_one_name_answer_409(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("renderplus.server.upload.MAX_SAME_NAME", 2)
    for index in range(2):
        store_stream(iter([PLAIN + bytes([index])]), tmp_path, "m.blend", 10**6)
    with pytest.raises(UploadError) as caught:
        store_stream(iter([PLAIN + b"\x09"]), tmp_path, "m.blend", 10**6)
    assert caught.value.code == 409 and "rename the file" in str(caught.value)
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------------------ part headers

@pytest.mark.parametrize("padding", [40 * 1024, MAX_PART_HEADERS])
def test_a_huge_part_header_block_answers_400(server: ServerHandle, padding: int) -> None:
    body = (b"--b42\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.blend\"\r\n"
            b"X-Padding: " + b"p" * padding + b"\r\n\r\n" + PLAIN + b"\r\n--b42--\r\n")
    answer = call(server.port, "POST", "/batch/file", body, content_type="multipart/form-data; boundary=b42")
    assert answer.code == 400
    assert f"longer than {MAX_PART_HEADERS} bytes" in answer.data["status"]


def test_ordinary_part_headers_still_pass(server: ServerHandle) -> None:
    body = (b"--b42\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.blend\"\r\n"
            b"X-Padding: " + b"p" * 4000 + b"\r\n\r\n" + PLAIN + b"\r\n--b42--\r\n")
    answer = call(server.port, "POST", "/batch/file", body, content_type="multipart/form-data; boundary=b42")
    assert answer.code == 201
