"""RPC URLs, redacted by construction.

Everything after the host is treated as a credential: providers put keys in the path
(`/v2/<key>`, Alchemy, Infura), in the query (`?apikey=`), in user:password@, in a
fragment; short keys and keys with `. + = %` included. So the only form ever shown,
logged or stored is `scheme://host[:port]`, followed by `/***` when there was a path,
query or fragment. The configuration holds the URL as an `RpcUrl`, whose str(), repr()
and format() are that redacted form: the raw URL comes out only through `reveal()`,
which only the chain reader's connection calls."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit


def _parts(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        return parts
    except ValueError:
        return None


def redact_url(url: "str | RpcUrl | None") -> str:
    """`scheme://host[:port]`, then `/***` when the URL had a path, query or fragment (or
    anything that hides where the host ends). User and password never survive."""
    if url is None:
        return ""
    if isinstance(url, RpcUrl):
        return url.shown
    if not url:
        return ""
    parts = _parts(url)
    if parts is None or not parts.scheme or not parts.hostname:
        return "***"
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if not all(c.isascii() and (c.isalnum() or c in "-._[]:") for c in host):
        return f"{parts.scheme}://***"
    shown = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port is not None else "")
    tail = parts.path not in ("", "/") or parts.query or parts.fragment or "?" in url or "#" in url
    return shown + ("/***" if tail else "")


def secret_parts(url: "str | RpcUrl") -> list[str]:
    """The pieces of `url` that may be credentials, longest first, as a server might echo
    them back in an error (raw and percent-decoded): user, password, path and each of
    its segments, the query and each key and value, the fragment."""
    raw = url.reveal() if isinstance(url, RpcUrl) else url
    parts = _parts(raw)
    found: set[str] = set()
    if parts is None:
        found.add(raw)
    else:
        pieces = [parts.username or "", parts.password or "", parts.path, parts.query, parts.fragment]
        pieces += parts.path.split("/")
        for pair in parts.query.split("&"):
            pieces += [pair, *pair.split("=", 1)]
        for piece in pieces:
            for p in (piece, unquote(piece)):
                if len(p) >= 3 and p not in ("/", "://"):  # shorter ones would mangle ordinary words
                    found.add(p)
        netloc = parts.netloc
        if "@" in netloc:
            found.add(netloc.rsplit("@", 1)[0])
    return sorted(found, key=len, reverse=True)


def redact_text(text: str, url: "str | RpcUrl | None") -> str:
    """`text` with the URL, and anything of it that may be a credential, replaced."""
    if not url:
        return text
    raw = url.reveal() if isinstance(url, RpcUrl) else url
    text = text.replace(raw, redact_url(url))
    for secret in secret_parts(raw):
        text = text.replace(secret, "***")
    return text


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def redact_urls_in(text: str) -> str:
    """Every URL inside free text (a bot's command line: `--rpc-url https://.../v2/KEY`)
    in its redacted form."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group()), text) if "://" in text else text


class RpcUrl:
    """An RPC URL whose every printable form is redacted (see the module's docstring)."""

    __slots__ = ("_raw", "shown")

    def __init__(self, raw: "str | RpcUrl"):
        self._raw = raw.reveal() if isinstance(raw, RpcUrl) else str(raw)
        self.shown = redact_url(self._raw)

    def reveal(self) -> str:
        """The URL with its credentials: for opening the connection, nothing else."""
        return self._raw

    def __str__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        return f"RpcUrl({self.shown!r})"

    def __format__(self, spec: str) -> str:
        return format(self.shown, spec)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, RpcUrl):
            return self._raw == other._raw
        if isinstance(other, str):
            return self._raw == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._raw)

    def __bool__(self) -> bool:
        return bool(self._raw)

    def __reduce__(self) -> tuple[Any, ...]:  # pickled to the console's prefetch helper
        return (RpcUrl, (self._raw,))


def redact_notify_url(url: "str | RpcUrl | None") -> str:
    """A notification URL as shown: its scheme only (`tgram://***`). Apprise's services put
    tokens anywhere, the host included (tgram://BOTTOKEN/CHAT, discord://ID/TOKEN)."""
    if url is None:
        return ""
    raw = url.reveal() if isinstance(url, RpcUrl) else str(url)
    scheme, sep, _ = raw.partition("://")
    if not sep or not scheme.isascii() or not all(c.isalnum() or c in "+.-" for c in scheme):
        return "***"
    return f"{scheme}://***"


def notify_secret_parts(url: "str | RpcUrl") -> list[str]:
    """What may be a credential in a notification URL, longest first: the RPC URL's parts
    and the host too (where Apprise's services keep tokens)."""
    raw = url.reveal() if isinstance(url, RpcUrl) else url
    found = set(secret_parts(raw))
    parts = _parts(raw)
    for piece in ((parts.netloc, parts.hostname or "") if parts else ()):
        for p in (piece, unquote(piece)):
            if len(p) >= 3:
                found.add(p)
    return sorted(found, key=len, reverse=True)


def redact_notify_text(text: str, urls: "list[str | RpcUrl]") -> str:
    """`text` (an error from a notification service) with every part of `urls` replaced."""
    for url in urls:
        raw = url.reveal() if isinstance(url, RpcUrl) else url
        text = text.replace(raw, redact_notify_url(raw))
        for secret in notify_secret_parts(raw):
            text = text.replace(secret, "***")
    return text


class NotifyUrl(RpcUrl):
    """A notification URL (Apprise's form) whose every printable form is redacted to its scheme."""

    __slots__ = ()

    def __init__(self, raw: "str | RpcUrl"):
        self._raw = raw.reveal() if isinstance(raw, RpcUrl) else str(raw)
        self.shown = redact_notify_url(self._raw)

    def __repr__(self) -> str:
        return f"NotifyUrl({self.shown!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (NotifyUrl, (self._raw,))
