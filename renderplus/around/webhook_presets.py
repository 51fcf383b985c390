"""What a webhook notice looks like to each service: one function per preset builds the request.

A notice (``Notice``: the event, a title, the text people read and the generic JSON payload) and
an optional thumbnail become a ``WebRequest`` (method, body, headers) that ``webhook`` sends to
the recipe's URL. The presets:

- ``json``: a POST of the notice's own JSON (``Notice.payload``), for scripts and chat bridges.
- ``discord``: an execute-webhook POST, ``{"content", "embeds"}``; with a thumbnail, a
  multipart/form-data body whose ``payload_json`` part holds that JSON and whose ``files[0]``
  part is the image, shown in the embed (``attachment://NAME``). Mentions are switched off, so a
  job named "@everyone" pings nobody.
- ``slack``: an incoming-webhook POST, ``{"text", "blocks"}``. Slack's incoming webhooks take
  images only as public URLs, which a render machine has none of, so no thumbnail.
- ``ntfy``: a POST of the text to the topic's URL with ``Title``, ``Tags`` and ``Priority``
  headers; with a thumbnail, a PUT of the image itself with ``Filename`` and the text in the
  ``Message`` header (ntfy's attachment upload). Header values outside printable ASCII are sent
  as RFC 2047 encoded words, which ntfy decodes.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "Render+ webhook"
DISCORD_CONTENT_MAX = 2000
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
NTFY_MESSAGE_MAX = 4096
COLOR_GOOD = 0x2E9E4F
COLOR_BAD = 0xD93F0B
COLOR_NEUTRAL = 0x808080


@dataclass(frozen=True)
class Notice:
    """One event as every preset tells it. ``bad``: a failure (red, urgent)."""

    event: str
    title: str
    text: str
    payload: Mapping[str, Any]
    bad: bool = False
    good: bool = False


@dataclass(frozen=True)
class Thumbnail:
    """An image a browser shows (a frame, or its JPEG preview), read into memory."""

    name: str
    data: bytes
    mime: str


@dataclass(frozen=True)
class WebRequest:
    """What is sent: the method, the body and its headers (the URL is the recipe's)."""

    method: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    uploads: bool = False   # carries the thumbnail


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_request(data: Any, method: str = "POST") -> WebRequest:
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return WebRequest(method, body, {"Content-Type": "application/json; charset=utf-8",
                                     "User-Agent": USER_AGENT})


def json_request(notice: Notice, thumbnail: Thumbnail | None) -> WebRequest:
    """The generic preset: the notice's JSON (no upload: a script can read the frame itself)."""
    return _json_request(notice.payload)


def discord_request(notice: Notice, thumbnail: Thumbnail | None) -> WebRequest:
    color = COLOR_BAD if notice.bad else COLOR_GOOD if notice.good else COLOR_NEUTRAL
    embed: dict[str, Any] = {"title": _clip(notice.title, DISCORD_TITLE_MAX),
                             "description": _clip(notice.text, DISCORD_DESCRIPTION_MAX),
                             "color": color}
    payload: dict[str, Any] = {"content": _clip(notice.title, DISCORD_CONTENT_MAX),
                               "embeds": [embed], "allowed_mentions": {"parse": []}}
    if thumbnail is None:
        return _json_request(payload)
    embed["image"] = {"url": f"attachment://{thumbnail.name}"}
    payload["attachments"] = [{"id": 0, "filename": thumbnail.name}]
    body, content_type = multipart([
        ("payload_json", None, "application/json", json.dumps(payload).encode("utf-8")),
        ("files[0]", thumbnail.name, thumbnail.mime, thumbnail.data),
    ])
    return WebRequest("POST", body, {"Content-Type": content_type, "User-Agent": USER_AGENT},
                      uploads=True)


def slack_request(notice: Notice, thumbnail: Thumbnail | None) -> WebRequest:
    """Text and blocks only: Slack's incoming webhooks cannot take an uploaded image."""
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(notice.title, SLACK_HEADER_MAX)}},
        {"type": "section", "text": {"type": "plain_text", "text": _clip(notice.text, SLACK_SECTION_MAX)}},
    ]
    return _json_request({"text": f"{notice.title}\n{notice.text}", "blocks": blocks})


def ntfy_request(notice: Notice, thumbnail: Thumbnail | None) -> WebRequest:
    tags = "x" if notice.bad else "white_check_mark" if notice.good else "information_source"
    headers = {"Title": header_value(notice.title), "Tags": f"{tags},renderplus",
               "Priority": "4" if notice.bad else "3", "User-Agent": USER_AGENT}
    text = _clip(notice.text, NTFY_MESSAGE_MAX)
    if thumbnail is None:
        return WebRequest("POST", text.encode("utf-8"),
                          {**headers, "Content-Type": "text/plain; charset=utf-8"})
    headers.update({"Filename": header_value(thumbnail.name), "Message": header_value(text),
                    "Content-Type": thumbnail.mime})
    return WebRequest("PUT", thumbnail.data, headers, uploads=True)


PRESETS: dict[str, Callable[[Notice, Thumbnail | None], WebRequest]] = {
    "json": json_request, "discord": discord_request, "slack": slack_request, "ntfy": ntfy_request,
}
UPLOADS = frozenset({"discord", "ntfy"})   # the presets that send a thumbnail


def build_request(preset: str, notice: Notice, thumbnail: Thumbnail | None) -> WebRequest:
    return PRESETS[preset](notice, thumbnail if preset in UPLOADS else None)


def header_value(text: str) -> str:
    """``text`` as it may stand in an HTTP header: itself when printable ASCII, else one RFC
    2047 encoded word (UTF-8, base64), which keeps accents and line breaks."""
    if text.isascii() and text.isprintable():
        return text
    return "=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


Part = tuple[str, str | None, str, bytes]   # (field name, file name or None, content type, data)


def multipart(parts: list[Part]) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type (with a boundary no part contains)."""
    boundary = f"renderplus-{uuid.uuid4().hex}"
    out = bytearray()
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{_quoted(name)}"'
        if filename is not None:
            disposition += f'; filename="{_quoted(filename)}"'
        out += (f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
                f"Content-Type: {content_type}\r\n\r\n").encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode("ascii")
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _quoted(text: str) -> str:
    return "".join("_" if ch in '"\\\r\n' else ch for ch in text)
