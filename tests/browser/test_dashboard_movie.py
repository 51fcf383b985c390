"""A job's movie on the dashboard in a real browser: the status lines while it is made, then a
``<video>`` that loads the real movie (FFmpeg makes it in the test) from
``GET /batch/jobs/<id>/movie``: fetched with the token into a ``blob:`` URL, or streamed from
the route itself when loopback is open. Each wait is on the page's own events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from renderplus.batch.encode.movie_state import MovieState, MovieStatus
from renderplus.batch.service import BatchService
from renderplus.server.app import create_app
from renderplus.server.httpd import HttpServer
from tests.server.held_service import HeldServices
from tests.server.movies import done_movie, make_movie, set_movie

from .conftest import Watched, until

TOKEN = "movie-T0ken_for-tests"
VIDEO = "#jobs .job[data-job='0'] .movie video"
# Resolves once the video has its metadata (readyState >= 1): on the event, or at once when it
# came before this was asked.
METADATA = f"""async () => {{
  const video = document.querySelector("{VIDEO}");
  if (video.readyState < 1) await new Promise((resolve, reject) => {{
    video.addEventListener("loadedmetadata", resolve, {{ once: true }});
    const failed = () => reject(new Error("video error " + video.error.code));
    video.addEventListener("error", failed, {{ once: true }});
  }});
  return {{ readyState: video.readyState, duration: video.duration, width: video.videoWidth }};
}}"""


@pytest.fixture
def finished(tmp_path: Path) -> Iterator[Callable[[str | None], tuple[BatchService, HttpServer]]]:
    """``finished(token)``: a server whose one-job batch has FINISHED (no Blender: the job's
    stand-in writes its frame when released)."""
    services = HeldServices(tmp_path)
    servers: list[HttpServer] = []

    def make(token: str | None) -> tuple[BatchService, HttpServer]:
        service = services.make()
        executor = services.running(service, jobs=1, name="movie batch")
        executor.release(0)
        assert service.batch is not None and service.batch.wait(20)
        servers.append(HttpServer(create_app(service), token=token).start("127.0.0.1", 0))
        return service, servers[-1]

    yield make
    for server in servers:
        server.stop()
    services.close()


def movie_box(page: Any) -> str:
    return str(page.inner_text("#jobs .job[data-job='0'] .movie"))


def test_the_movie_is_shown_while_it_is_made_then_plays(
        open_page: Callable[..., Watched], finished: Callable[..., tuple[BatchService, HttpServer]],
        tmp_path: Path) -> None:
    service, server = finished(TOKEN)
    batch = service.batch
    assert batch is not None
    set_movie(batch, 0, MovieState(MovieStatus.ENCODING, "h264", "H.264 MP4", progress=45.0))
    watched = open_page()
    page = watched.page
    page.goto(f"{server.url}/#token={TOKEN}")
    until(page, "document.querySelector('#jobs .job .movie')?.textContent === 'Encoding movie… 45 %'")
    set_movie(batch, 0, MovieState(MovieStatus.FAILED, "h264", "H.264 MP4",
                                   message="FFmpeg exited with code 1: disk full"))
    until(page, "document.querySelector('#jobs .job .movie')?.textContent === "
                "'Movie failed: FFmpeg exited with code 1: disk full'")
    movie = make_movie(tmp_path / "out" / "shot.mp4", frames=12)
    set_movie(batch, 0, done_movie(movie, frames=12, fps=24.0))
    until(page, f"document.querySelector(\"{VIDEO}\")?.src.startsWith('blob:')")
    video = page.locator(VIDEO)
    assert video.get_attribute("data-src") == "/batch/jobs/0/movie"
    assert video.get_attribute("controls") is not None and video.get_attribute("preload") == "metadata"
    loaded = page.evaluate(METADATA)
    assert loaded["readyState"] >= 1 and loaded["width"] == 64
    assert loaded["duration"] == pytest.approx(0.5, abs=0.05)
    text = movie_box(page)
    assert text.startswith("Movie") and "shot.mp4" in text and "H.264 MP4" in text
    link = page.locator("#jobs .job[data-job='0'] .movie a.movie-download")
    assert link.get_attribute("download") == "shot.mp4"
    assert str(link.get_attribute("href")).startswith("blob:")
    movie_requests = [r for r in watched.requests if r.url.endswith("/batch/jobs/0/movie")]
    assert movie_requests and all(r.headers.get("authorization") == f"Bearer {TOKEN}"
                                  for r in movie_requests)
    assert watched.errors == []


def test_without_a_token_the_video_streams_from_the_route(
        open_page: Callable[..., Watched], finished: Callable[..., tuple[BatchService, HttpServer]],
        tmp_path: Path) -> None:
    service, server = finished(None)
    assert service.batch is not None
    movie = make_movie(tmp_path / "out" / "walk.webm", frames=6)
    set_movie(service.batch, 0, done_movie(movie, frames=6, fps=24.0))
    watched = open_page()
    page = watched.page
    page.goto(server.url + "/")
    until(page, f"document.querySelector(\"{VIDEO}\")?.getAttribute('src') === '/batch/jobs/0/movie'")
    loaded = page.evaluate(METADATA)
    assert loaded["readyState"] >= 1 and loaded["width"] == 64
    assert page.locator("#jobs .job[data-job='0'] .movie a.movie-download").get_attribute("href") \
        == "/batch/jobs/0/movie"
    assert watched.errors == []
