"""``GET /batch/jobs/<id>/movie`` in-process: the movie an encode job made, with Range and HEAD
(what a ``<video>`` seeking sends), its type, the token rules of a private read, and the 404,
400 and 409 answers. The movie is a real one FFmpeg makes in the test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from renderplus.batch.encode.movie_state import MovieState, MovieStatus
from renderplus.batch.service import BatchService
from renderplus.server.guard import TokenScope
from renderplus.server.openapi import openapi_document

from .helpers import recipe_data
from .movies import done_movie, make_movie, set_movie
from .wsgi_client import WsgiClient

TOKEN = "movie-route-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def encode_recipe() -> dict[str, object]:
    return recipe_data([{"name": "shot", "animated": True, "frame_start": 1, "frame_end": 4,
                         "encode": {"format": "h264"}}, {"name": "still"}])


@pytest.fixture
def client(guarded: Callable[..., WsgiClient]) -> WsgiClient:
    """The app behind the guard as a server with its own token applies it (reads open)."""
    return guarded(TOKEN, TokenScope.NOT_READS)


@pytest.fixture
def movie(client: WsgiClient, service: BatchService, tmp_path: Path) -> Path:
    """A loaded recipe whose job 0 has made a real 4-frame H.264 movie."""
    assert client.call("POST", "/batch/recipe", encode_recipe(), headers=BEARER).code == 200
    path = make_movie(tmp_path / "out" / "shot.mp4")
    assert service.shown is not None
    set_movie(service.shown, 0, done_movie(path))
    return path


def test_the_movie_is_sent_whole_with_its_type(client: WsgiClient, movie: Path) -> None:
    answer = client.call("GET", "/batch/jobs/0/movie", headers=BEARER)
    assert answer.code == 200, answer.raw
    assert answer.raw == movie.read_bytes()
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["content-length"] == str(movie.stat().st_size)
    assert answer.headers["accept-ranges"] == "bytes"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_range_is_sent_as_206_and_head_has_no_body(client: WsgiClient, movie: Path) -> None:
    size = movie.stat().st_size
    part = client.call("GET", "/batch/jobs/0/movie", headers={**BEARER, "Range": "bytes=100-199"})
    assert part.code == 206
    assert part.raw == movie.read_bytes()[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    head = client.call("HEAD", "/batch/jobs/0/movie", headers=BEARER)
    assert head.code == 200 and head.raw == b""
    assert head.headers["content-length"] == str(size) and head.headers["content-type"] == "video/mp4"


@pytest.mark.parametrize("name, media", [("shot.mov", "video/quicktime"), ("shot.mkv", "video/x-matroska"),
                                         ("shot.webm", "video/webm")])
def test_each_format_has_its_type(client: WsgiClient, service: BatchService, tmp_path: Path,
                                  name: str, media: str) -> None:
    assert client.call("POST", "/batch/recipe", encode_recipe(), headers=BEARER).code == 200
    path = tmp_path / name
    path.write_bytes(b"\x1a\x45\xdf\xa3 not decoded by the server")
    assert service.shown is not None
    set_movie(service.shown, 0, done_movie(path))
    assert client.call("GET", "/batch/jobs/0/movie", headers=BEARER).headers["content-type"] == media


def test_it_is_private_like_the_frames(client: WsgiClient, guarded: Callable[..., WsgiClient],
                                      movie: Path) -> None:
    refused = client.call("GET", "/batch/jobs/0/movie")
    assert refused.code == 401 and "needs this server's access token" in refused.data["status"]
    assert client.call("GET", "/batch/jobs/0").code == 200  # the job's poll stays an open read
    wrong = client.call("GET", "/batch/jobs/0/movie", headers={"Authorization": "Bearer nope"})
    assert wrong.code == 401
    assert guarded(None, TokenScope.OFF).call("GET", "/batch/jobs/0/movie").code == 200  # --no-token
    remote = guarded(TOKEN, TokenScope.NOT_READS, remote="192.168.1.20")
    assert remote.call("GET", "/batch/jobs/0/movie").code == 401


def test_without_the_token_the_poll_shows_the_movies_name_only(client: WsgiClient, movie: Path) -> None:
    public = client.call("GET", "/batch/jobs/0").data["movie"]
    assert public["status"] == "DONE" and public["path"] == "shot.mp4"
    assert client.call("GET", "/batch").data["jobs"][0]["movie"]["path"] == "shot.mp4"
    assert client.call("GET", "/batch/jobs/0", headers=BEARER).data["movie"]["path"] == str(movie)


def test_404_until_the_movie_is_made_and_once_it_is_gone(client: WsgiClient, service: BatchService,
                                                         movie: Path) -> None:
    no_encode = client.call("GET", "/batch/jobs/1/movie", headers=BEARER)
    assert no_encode.code == 404
    assert no_encode.data["status"] == "Job 1 makes no movie (its recipe has no encode)"
    assert service.shown is not None
    set_movie(service.shown, 0, MovieState(MovieStatus.ENCODING, "h264", "H.264 MP4", progress=45.0))
    encoding = client.call("GET", "/batch/jobs/0/movie", headers=BEARER)
    assert encoding.code == 404 and encoding.data["status"] == "Job 0 has no movie yet: its movie is ENCODING"
    set_movie(service.shown, 0, MovieState(MovieStatus.FAILED, "h264", "H.264 MP4",
                                           message="ffmpeg exited with code 1"))
    failed = client.call("GET", "/batch/jobs/0/movie", headers=BEARER)
    assert failed.data["status"] == "Job 0 has no movie yet: its movie is FAILED: ffmpeg exited with code 1"
    set_movie(service.shown, 0, done_movie(movie))
    movie.unlink()
    gone = client.call("GET", "/batch/jobs/0/movie", headers=BEARER)
    assert gone.code == 404 and gone.data["status"] == "Job 0's movie is gone from disk: shot.mp4"


@pytest.mark.parametrize("job_id, sentence", [
    ("x", "Wrong job index 'x': an integer from 0 is expected"),
    ("-1", "Wrong job index '-1': an integer from 0 is expected"),
    ("7", "No job 7 in this batch (ids 0-1)"),
])
def test_a_bad_id_is_400(client: WsgiClient, movie: Path, job_id: str, sentence: str) -> None:
    answer = client.call("GET", f"/batch/jobs/{job_id}/movie", headers=BEARER)
    assert answer.code == 400 and answer.data["status"] == sentence


def test_no_batch_is_409(client: WsgiClient) -> None:
    answer = client.call("GET", "/batch/jobs/0/movie", headers=BEARER)
    assert answer.code == 409 and "No batch has been run" in answer.data["status"]


def test_the_route_and_the_poll_key_are_documented() -> None:
    document = openapi_document()
    operation = document["paths"]["/batch/jobs/{id}/movie"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {
        "video/mp4", "video/quicktime", "video/x-matroska", "video/webm"}
    assert operation["security"] == [{"bearer": []}, {"token": []}]  # private: the token
    job = document["components"]["schemas"]["Job"]["properties"]
    assert job["movie"] == {"$ref": "#/components/schemas/Movie"}
    movie = document["components"]["schemas"]["Movie"]
    assert movie["properties"]["format"]["enum"] == ["h264", "prores", "ffv1", "webm"]
    api_md = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    assert "`/batch/jobs/{id}/movie`" in api_md and "| `movie` |" in api_md
