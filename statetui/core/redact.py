"""Redact credentials inside URLs before they are shown or logged."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit, parse_qsl, urlencode

_SECRETISH = re.compile(r"[A-Za-z0-9_\-]{16,}")
_SECRET_QUERY_KEYS = ("key", "token", "secret", "auth", "password", "pass", "apikey", "api_key", "access")


def redact_url(url: str | None) -> str:
    """user:password@, API keys in the path (long opaque segments, as Alchemy and
    Infura use) and secret-looking query values become ***."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    path = "/".join("***" if _SECRETISH.fullmatch(seg) else seg for seg in parts.path.split("/"))
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(k, "***" if (any(s in k.lower() for s in _SECRET_QUERY_KEYS) or _SECRETISH.fullmatch(v)) else v)
             for k, v in pairs],
            safe="*",
        )
    return urlunsplit((parts.scheme, netloc, path, query, "***" if parts.fragment else ""))


def redact_text(text: str, url: str | None) -> str:
    """Replace every occurrence of a raw URL (and its secret parts) inside a message."""
    if not url:
        return text
    text = text.replace(url, redact_url(url))
    parts = urlsplit(url)
    if parts.password:
        text = text.replace(parts.password, "***")
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if value and (any(s in key.lower() for s in _SECRET_QUERY_KEYS) or _SECRETISH.fullmatch(value)):
            text = text.replace(value, "***")
    for seg in parts.path.split("/"):
        if _SECRETISH.fullmatch(seg):
            text = text.replace(seg, "***")
    return text
