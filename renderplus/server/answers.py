"""JSON answers: every answer of the REST API is JSON, errors included (docs/api.md, Errors).

An error body always has a ``status`` sentence. The routes return these answers rather than
raise them, so Bottle's own error pages (``app._error_page``) never see them.
"""

from __future__ import annotations

import json
from typing import Any

from .bottle_loader import bottle

JSON_TYPE = "application/json"


def json_answer(data: Any, code: int = 200, headers: dict[str, str] | None = None) -> Any:
    """A JSON HTTP response (returned, not raised, so Bottle's error pages never see it)."""
    body = data if isinstance(data, str) else json.dumps(data)
    return bottle.HTTPResponse(body, status=code, headers={"Content-Type": JSON_TYPE, **(headers or {})})


def error_answer(code: int, status: str, **extra: Any) -> Any:
    return json_answer({"status": status, **extra}, code)
