"""Whether a webhook address is one Render+ posts to: http or https, with a host.

The address is a secret (it carries the channel's key), so a problem names what is wrong and
at most the scheme, never the address itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

REDACTED_URL = "***"   # a secret as the store keeps it (``Record.to_dict(redact=True)``)
WEB_SCHEMES = ("http", "https")


def web_url_problem(url: str) -> str:
    """What keeps ``url`` from being a webhook address ("" when it is one)."""
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "must be an http(s) address without spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        return "must be an http(s) address (it cannot be read as one)"
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES:
        shown = f"{scheme}:" if scheme.isascii() and scheme.isalnum() and len(scheme) <= 10 else "no"
        return f"must be an http:// or https:// address (got {shown} scheme)"
    if not parts.hostname:
        return f"must name a host ({scheme}://host/...)"
    return ""
