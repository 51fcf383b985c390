"""The movies of ``encode`` jobs around the batch: the feed's enclosure (read back by feedparser),
the end-of-batch mail (through a real SMTP server on loopback) and the desktop notice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import feedparser

from renderplus.around import BatchWatchers
from renderplus.around.mail import build_message, mail_body, mail_subject, send_mail
from renderplus.around.rss import build_feed
from renderplus.around.summary import movie_notice_lines, movie_sentence
from renderplus.batch.encode import FORMATS
from renderplus.batch.encode.movie_state import MovieState, MovieStatus
from renderplus.batch.view import BatchView, JobView
from renderplus.server.movie_types import MOVIE_TYPES as SERVER_MOVIE_TYPES
from tests.server.movies import done_movie, make_movie

from .conftest import NotificationListener, SmtpServer
from .test_mail import settings
from .views import batch_view, job_view, recipe_with

REASON = "FFmpeg exited with code 1: Unknown encoder 'libx264'"


def with_movie(job: JobView, movie: MovieState) -> JobView:
    return replace(job, movie=movie.to_json())


def movie_batch(movie_file: Path) -> BatchView:
    """Job 0 made a movie, job 1's encode failed, job 2 has no encode."""
    made = done_movie(movie_file, frames=48, seconds=2.0, sound=True, colour="Filmic view")
    failed = MovieState(MovieStatus.FAILED, "webm", "VP9 WebM", message=REASON)
    return batch_view([
        with_movie(job_view(0, "FINISHED", name="Turntable", rendertime=30.0), made),
        with_movie(job_view(1, "FAILED", name="Walk", rendertime=20.0, messages=[REASON]), failed),
        job_view(2, "FINISHED", name="Still", rendertime=5.0),
    ], status="FINISHED", messages=["1 job failed"])


def test_a_made_movie_is_the_items_enclosure(tmp_path: Path) -> None:
    movie = make_movie(tmp_path / "out" / "turntable.mp4")
    path = tmp_path / "feed.rss"
    path.write_bytes(build_feed(movie_batch(movie), str(path), host="node07"))
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    made, failed, plain = feed.entries[1:]
    [enclosure] = made.enclosures
    assert enclosure.href == movie.as_uri()
    assert enclosure.type == "video/mp4" and int(enclosure.length) == movie.stat().st_size
    assert f"Movie:</b> {movie} (H.264 MP4, 2.0 s, 48 frames at 24 fps, with sound)" in made.summary
    assert failed.enclosures == [] and f"Movie:</b> VP9 WebM FAILED: {REASON}" in failed.summary
    assert plain.enclosures == [] and "Movie" not in plain.summary


def test_no_enclosure_before_the_movie_is_made_or_once_it_is_gone(tmp_path: Path) -> None:
    movie = make_movie(tmp_path / "shot.mp4")
    encoding = MovieState(MovieStatus.ENCODING, "h264", "H.264 MP4", progress=45.0)
    path = tmp_path / "feed.rss"
    path.write_bytes(build_feed(batch_view([with_movie(job_view(0, "RUNNING"), encoding)]), str(path)))
    entry = feedparser.parse(path.read_bytes()).entries[1]
    assert entry.enclosures == [] and "Movie:</b> H.264 MP4 encoding 45 %" in entry.summary
    movie.unlink()
    path.write_bytes(build_feed(batch_view([with_movie(job_view(0, "FINISHED"), done_movie(movie))]),
                                str(path)))
    assert feedparser.parse(path.read_bytes()).entries[1].enclosures == []


def test_every_movie_format_has_its_media_type() -> None:
    assert set(SERVER_MOVIE_TYPES) == {f.extension for f in FORMATS.values()}
    assert SERVER_MOVIE_TYPES[".mov"] == "video/quicktime"


def test_the_mail_lists_each_movie_and_each_failed_encode(
        smtp_factory: Callable[..., SmtpServer], tmp_path: Path) -> None:
    movie = make_movie(tmp_path / "out" / "turntable.mp4")
    server = smtp_factory("none")
    recipe = recipe_with(jobs=3, notifications={"mail": {
        "enabled": True, "server": server.address, "ssl": False, "user": "", "pass": "",
        "to": "lead@studio.test"}})
    reports: list[str] = []
    watchers = BatchWatchers(recipe, reports.append)
    watchers.batch_ended(movie_batch(movie))
    watchers.close()
    assert reports == []
    [message] = server.messages
    text = message.get_content().replace("\r\n", "\n")
    movies = text.split("\nMovies:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert movies == [
        f'  #0 "Turntable"  {movie} (H.264 MP4, 2.0 s, 48 frames at 24 fps, with sound)',
        f'  #1 "Walk"       VP9 WebM FAILED: {REASON}',
    ]


def test_a_mail_without_movies_has_no_movie_section(smtp_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_factory("none")
    mail = settings(server.address, user="", password="")
    view = batch_view([job_view(0, "FINISHED", rendertime=1.0)], status="FINISHED")
    send_mail(mail, build_message(mail, mail_subject(view), mail_body(view)), timeout=5)
    assert "Movies:" not in server.messages[0].get_content()


def test_the_desktop_notice_names_the_movie_and_the_failed_encode(
        notifications: NotificationListener, tmp_path: Path) -> None:
    movie = make_movie(tmp_path / "turntable.mp4")
    watchers = BatchWatchers(recipe_with(jobs=3, notifications={"desktop": True}), lambda _: None)
    watchers.batch_ended(movie_batch(movie))
    watchers.close()
    [end] = notifications.wait_for(1)
    assert "Movie: turntable.mp4\nMovie failed: #1 \"Walk\"" in end.body


def test_the_movie_in_one_line_for_each_status(tmp_path: Path) -> None:
    label = ("h264", "H.264 MP4")
    assert movie_sentence(MovieState(MovieStatus.WAITING, *label).to_json()) == "H.264 MP4 after the frames"
    assert movie_sentence(MovieState(MovieStatus.CANCELLED, *label).to_json()) \
        == "H.264 MP4 not made: cancelled during its encode"
    two = batch_view([with_movie(job_view(i, "FINISHED"), done_movie(tmp_path / f"{i}.mp4"))
                      for i in range(2)], status="FINISHED")
    assert movie_notice_lines(two) == ["2 movies made"]
