"""The web dashboard's routes: the page, its static files, and the frames it shows.

``register_dashboard(app, service)`` adds them to the API's Bottle app (``create_app``):

- ``GET /`` the page and ``GET /dashboard/<file>`` its CSS and JavaScript (a core script and the
  scripts that add to it: charts, drag to reorder, pause and job edits, the queue, movies): plain
  files shipped in ``renderplus/server/dashboard/``, served from a fixed list (a name not on it is 404, so no
  URL reaches another file). They hold no data and no secret: the page asks the API for
  everything, sending the access token it keeps in the tab's session storage.
- ``GET /frames/<batch>/<job>/<index>`` a frame a job wrote, ``GET /previews/...`` its thumbnail
  (the frame itself when a browser can show it, else the JPEG preview Blender wrote beside it).
  What may be served and how it is opened: ``dashboard_frames``.

Every answer here carries a strict Content-Security-Policy (scripts, styles and connections
from this origin only, images and movies also from ``blob:``, no framing) and ``X-Frame-Options: DENY``;
the access guard in front (``guard.py``) already refuses cross-site requests and foreign Hosts.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bottle_loader import bottle
from .dashboard_frames import FrameCatalog, FrameError, OpenedImage, open_image, open_preview

if TYPE_CHECKING:
    from ..batch.service import BatchService

log = logging.getLogger("renderplus.server")

STATIC_DIR = Path(__file__).resolve().parent / "dashboard"
STATIC_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard_charts.js": "text/javascript; charset=utf-8",
    "dashboard_drag.js": "text/javascript; charset=utf-8",
    "dashboard_edits.js": "text/javascript; charset=utf-8",
    "dashboard_queue.js": "text/javascript; charset=utf-8",
    "dashboard_movie.js": "text/javascript; charset=utf-8",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PUBLIC_PATHS = ("/", *(f"/dashboard/{name}" for name in STATIC_TYPES))
"""The page and its files: no data and no secret in them, so a guard may serve them without the
token (a browser cannot send a header when it opens a URL; the page sends it from then on)."""


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    etag: str


def load_static(folder: Path = STATIC_DIR) -> dict[str, StaticFile]:
    """The shipped files, read once (about 50 KB in all); a missing one is logged and left out."""
    files = {}
    for name, content_type in STATIC_TYPES.items():
        try:
            body = (folder / name).read_bytes()
        except OSError as exc:
            log.error("dashboard file missing from the add-on (%s): reinstall Render+", exc)
            continue
        files[name] = StaticFile(body, content_type, f'"{hashlib.sha256(body).hexdigest()[:20]}"')
    return files


def answer(body: Any, code: int = 200, headers: dict[str, str] | None = None) -> Any:
    return bottle.HTTPResponse(body, status=code, headers={**SECURITY_HEADERS, **(headers or {})})


def error(code: int, status: str) -> Any:
    return answer(json.dumps({"status": status}), code, {"Content-Type": "application/json"})


def not_modified(etag: str) -> bool:
    wanted = bottle.request.get_header("If-None-Match") or ""
    return etag in (tag.strip() for tag in wanted.split(","))


class DashboardRoutes:
    """The routes; ``catalog`` finds frames, ``static`` holds the page's files."""

    def __init__(self, catalog: FrameCatalog, static: dict[str, StaticFile] | None = None) -> None:
        self.catalog = catalog
        self.static = load_static() if static is None else static

    def page(self) -> Any:
        return self.static_file("index.html")

    def static_file(self, name: str) -> Any:
        found = self.static.get(name)
        if found is None:
            return error(404, f"No dashboard file {name[:80]!r}")
        headers = {"ETag": found.etag, "Cache-Control": "no-cache"}
        if not_modified(found.etag):
            return answer("", 304, headers)
        return answer(found.body, 200, {**headers, "Content-Type": found.content_type})

    def frame(self, batch: str, job: str, index: str) -> Any:
        """The frame file itself, when a browser can show it."""
        try:
            ref = self.catalog.find(batch, job, index)
            if not ref.showable:
                raise FrameError(415, f"{Path(ref.path).name}: browsers cannot show this format; "
                                      f"GET /previews/{batch}/{job}/{index} for its JPEG preview")
            return self.send(open_image(ref.path, ref.recorded))
        except FrameError as exc:
            return error(exc.code, str(exc))

    def preview(self, batch: str, job: str, index: str) -> Any:
        """A picture of the frame for a thumbnail: the frame, or the JPEG preview Blender wrote."""
        try:
            ref = self.catalog.find(batch, job, index)
            opened = open_image(ref.path, ref.recorded) if ref.showable else open_preview(ref.path)
            return self.send(opened)
        except FrameError as exc:
            return error(exc.code, str(exc))

    @staticmethod
    def send(opened: OpenedImage) -> Any:
        headers = {"ETag": opened.etag, "Cache-Control": "private, no-cache"}
        if not_modified(opened.etag):
            opened.file.close()
            return answer("", 304, headers)
        return answer(opened.file, 200, {**headers, "Content-Type": opened.content_type,
                                         "Content-Length": str(opened.size)})


DASHBOARD_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/", "page"),
    ("GET", "/dashboard/<name>", "static_file"),
    ("GET", "/frames/<batch>/<job>/<index>", "frame"),
    ("GET", "/previews/<batch>/<job>/<index>", "preview"),
)


def register_dashboard(app: Any, service: BatchService, *,
                       store: Callable[[], Any] | None = None) -> DashboardRoutes:
    """Add the dashboard's routes to ``app``. Frames come from the batch the polls describe and,
    given ``store`` (a callable returning a ``BatchStore`` or None; default the service's
    ``store`` attribute when it has one), from stored batches."""
    catalog = FrameCatalog(service.view, store or (lambda: getattr(service, "store", None)))
    routes = DashboardRoutes(catalog)
    for method, path, name in DASHBOARD_ROUTES:
        app.route(path, method, getattr(routes, name))
    return routes
