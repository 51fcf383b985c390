"""POST /batch/file (docs/api.md, Uploads): multipart and raw bodies, signatures, names, limits."""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest

from renderplus.batch.service import BatchService
from renderplus.server import ServerHandle
from renderplus.server.httpd import HttpServer
from renderplus.server.upload import MultipartReader, UploadError, safe_blend_name

from .helpers import call, multipart, raw_exchange, split_response

PLAIN = b"BLENDER-v304REND" + bytes(range(256)) * 64  # the header real 3.4 files start with
# A real zstd frame (single segment, one raw block) holding the first 200 bytes of PLAIN.
ZSTD = b"\x28\xb5\x2f\xfd\x20\xc8" + ((200 << 3) | 1).to_bytes(3, "little") + PLAIN[:200]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".upload-*")) if folder.exists() else []


def upload_raw(port: int, name: str, content: bytes) -> tuple[int, dict[str, object]]:
    query = quote(name, safe="%")  # escapes already in ``name`` go through as they are
    answer = call(port, "POST", f"/batch/file?name={query}", content, content_type="application/octet-stream")
    return answer.code, answer.data


def test_raw_upload_is_stored_in_the_work_folder(server: ServerHandle, service: BatchService) -> None:
    code, data = upload_raw(server.port, "shot%2010.blend", PLAIN)
    assert code == 201
    stored = Path(str(data["path"]))
    assert stored == (service.work_dir / "shot_10.blend").resolve()
    assert stored.read_bytes() == PLAIN
    assert data["size"] == len(PLAIN) and data["name"] == "shot_10.blend"
    assert leftovers(service.work_dir) == []


def test_multipart_upload_is_stored(server: ServerHandle, service: BatchService) -> None:
    body, content_type = multipart({"note": (None, b"hello"), "file": ("scene.blend", PLAIN)})
    answer = call(server.port, "POST", "/batch/file", body, content_type=content_type)
    assert answer.code == 201
    assert Path(answer.data["path"]).read_bytes() == PLAIN


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_multipart_upload_from_curl(server: ServerHandle, tmp_path: Path) -> None:
    source = tmp_path / "from curl.blend"
    source.write_bytes(PLAIN * 40)  # over a megabyte: curl sends it in many pieces
    result = subprocess.run(["curl", "-s", "-S", "-F", f"file=@{source}", "-H", "Expect:",
                             "-H", f"Authorization: Bearer {server.token}",
                             f"http://127.0.0.1:{server.port}/batch/file"],
                            capture_output=True, timeout=60, check=True)
    import json
    data = json.loads(result.stdout)
    assert Path(data["path"]).name == "from_curl.blend"
    assert Path(data["path"]).read_bytes() == PLAIN * 40


@pytest.mark.parametrize("content", [gzip.compress(PLAIN), ZSTD], ids=["gzip", "zstd"])
def test_compressed_blend_files_are_accepted(server: ServerHandle, content: bytes) -> None:
    code, data = upload_raw(server.port, "packed.blend", content)
    assert code == 201
    assert Path(str(data["path"])).read_bytes() == content


@pytest.mark.parametrize("content, why", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "no BLENDER signature"),
    (gzip.compress(b"just some text" * 10), "does not hold a Blender file"),
    (b"\x1f\x8b" + b"garbage" * 10, "not a valid gzip stream"),
    (b"", "empty"),
    (b"BLEND", "no BLENDER signature"),
])
def test_files_that_are_not_blends_answer_400(server: ServerHandle, service: BatchService,
                                               content: bytes, why: str) -> None:
    code, data = upload_raw(server.port, "fake.blend", content)
    assert code == 400
    assert why in str(data["status"])
    assert not (service.work_dir / "fake.blend").exists()
    assert leftovers(service.work_dir) == []


@pytest.mark.parametrize("name, stored", [
    ("../../x.blend", "x.blend"),
    ("..%2F..%2Fx.blend", "x.blend"),
    ("..\\..\\windows.blend", "windows.blend"),
    ("/etc/cron.d/evil.blend", "evil.blend"),
    (".hidden.blend", "hidden.blend"),
    ("CON.blend", "_CON.blend"),
    ("shot 01 (final).BLEND", "shot_01_final.blend"),
])
def test_names_are_sanitised_into_the_work_folder(server: ServerHandle, service: BatchService,
                                                  name: str, stored: str) -> None:
    code, data = upload_raw(server.port, name, PLAIN)
    assert code == 201
    path = Path(str(data["path"]))
    assert path.name == stored
    assert path.parent == service.work_dir.resolve()


def test_multipart_file_name_with_a_path_is_sanitised(server: ServerHandle, service: BatchService) -> None:
    body, content_type = multipart({"file": ("../../../etc/passwd.blend", PLAIN)})
    answer = call(server.port, "POST", "/batch/file", body, content_type=content_type)
    assert answer.code == 201
    assert Path(answer.data["path"]) == (service.work_dir / "passwd.blend").resolve()


@pytest.mark.parametrize("name", ["evil.txt", "noextension", "x.blend.png", "..blend", "%00.blend", ".blend"])
def test_names_that_are_not_blends_answer_400(server: ServerHandle, service: BatchService, name: str) -> None:
    code, data = upload_raw(server.port, name, PLAIN)
    assert code == 400
    assert data["status"]
    assert not any(service.work_dir.glob("*")) if service.work_dir.exists() else True


def test_raw_upload_without_a_name_answers_400(server: ServerHandle) -> None:
    answer = call(server.port, "POST", "/batch/file", PLAIN, content_type="application/octet-stream")
    assert answer.code == 400 and "?name=" in answer.data["status"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_other_content_types_answer_400(server: ServerHandle, content_type: str | None) -> None:
    answer = call(server.port, "POST", "/batch/file?name=a.blend", PLAIN, content_type=content_type)
    assert answer.code == 400
    assert "multipart/form-data" in answer.data["status"]


def test_too_big_uploads_answer_413_and_leave_nothing(custom_server: Callable[..., HttpServer],
                                                      service: BatchService) -> None:
    small = custom_server(max_upload=4096)
    code, data = upload_raw(small.port, "big.blend", PLAIN[:8192])
    assert code == 413 and data["limit"] == 4096
    body, content_type = multipart({"file": ("big.blend", PLAIN[:8192])})
    answer = call(small.port, "POST", "/batch/file", body, content_type=content_type)
    assert answer.code == 413
    assert not (service.work_dir / "big.blend").exists()
    assert leftovers(service.work_dir) == []
    code, _ = upload_raw(small.port, "fits.blend", PLAIN[:4096])
    assert code == 201


def test_a_huge_announced_upload_is_refused_before_it_is_sent(server: ServerHandle) -> None:
    head = (f"POST /batch/file?name=x.blend HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 107374182400\r\n\r\n").encode()
    code, _, body = split_response(raw_exchange(server.port, head + b"BLENDER"))
    assert code == 413
    assert b"too large" in body


def test_a_cut_upload_answers_400_and_leaves_nothing(server: ServerHandle, service: BatchService) -> None:
    head = (f"POST /batch/file?name=cut.blend HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {server.token}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n").encode()
    import socket
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(head + PLAIN[:5000])
        sock.shutdown(socket.SHUT_WR)  # the client gives up half-way
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    code, _, body = split_response(raw)
    assert code == 400 and b"cut short" in body
    assert not (service.work_dir / "cut.blend").exists()
    assert leftovers(service.work_dir) == []


@pytest.mark.parametrize("fields, why", [
    ({"other": ("x.blend", PLAIN)}, "No 'file' field"),
    ({"file": (None, PLAIN)}, "no file name"),
    ({"file": ("x.txt", PLAIN)}, "Not a .blend file name"),
])
def test_multipart_without_a_usable_file_answers_400(server: ServerHandle, fields: dict[str,
                                                     tuple[str | None, bytes]],
                                                     why: str) -> None:
    body, content_type = multipart(fields)
    answer = call(server.port, "POST", "/batch/file", body, content_type=content_type)
    assert answer.code == 400
    assert why in answer.data["status"]


def test_malformed_multipart_answers_400(server: ServerHandle) -> None:
    body, content_type = multipart({"file": ("x.blend", PLAIN)})
    cut = body[:-len(b"\r\n--rp-test-boundary-42--\r\n")]  # no closing boundary
    answer = call(server.port, "POST", "/batch/file", cut, content_type=content_type)
    assert answer.code == 400 and "Malformed multipart" in answer.data["status"]
    answer = call(server.port, "POST", "/batch/file", body, content_type="multipart/form-data")
    assert answer.code == 400 and "boundary" in answer.data["status"]


@pytest.mark.blender
def test_a_real_compressed_blend_from_blender_is_accepted(server: ServerHandle,
                                                          blend_factory: Callable[..., Path]) -> None:
    source = blend_factory(compress=True)
    assert source.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # Blender 3.0+ writes zstd
    body, content_type = multipart({"file": (source.name, source.read_bytes())})
    answer = call(server.port, "POST", "/batch/file", body, content_type=content_type)
    assert answer.code == 201
    assert Path(answer.data["path"]).read_bytes() == source.read_bytes()


# ------------------------------------------------------------------ units of the upload module

def test_safe_blend_name_refuses_what_cannot_be_a_name() -> None:
    assert safe_blend_name("a/b/c.blend") == "c.blend"
    assert safe_blend_name("Ünïcødé.blend") == "n_c_d.blend"  # ASCII only, whatever the file system
    assert safe_blend_name("ｓｃｅｎｅ.blend") == "scene.blend"  # full-width letters fold (NFKC)
    assert len(safe_blend_name("x" * 500 + ".blend")) <= 130
    for bad in ("", "....blend", "a.blend/", "blend"):
        with pytest.raises(UploadError):
            safe_blend_name(bad)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 100000])
def test_multipart_reader_finds_parts_whatever_the_chunking(chunk: int) -> None:
    content = b"\r\n--rp-test-boundary-4" + PLAIN + b"\r\n--"  # near-boundaries inside the data
    body, _ = multipart({"a": (None, b"first"), "file": ("x.blend", content), "b": (None, b"")})

    class Trickle(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(min(size, chunk) if size is not None and size >= 0 else chunk)

    reader = MultipartReader(Trickle(body), len(body), b"rp-test-boundary-42")
    parts = {headers.get_param("name", header="content-disposition"): b"".join(data)
             for headers, data in reader.parts()}
    assert parts == {"a": b"first", "file": content, "b": b""}
