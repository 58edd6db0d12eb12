"""One parser per kind of setting (statetui.core.config's model uses them): each takes a
value from TOML, the environment or a flag and returns it typed, or raises a SettingError
whose message is the expected form."""

from __future__ import annotations

import math
import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from statetui.core.settings_model import SettingError, bad, plain
from statetui.core.redact import NotifyUrl, RpcUrl
from statetui.core.textsafe import one_line


def _bad(expected: str) -> SettingError:
    return bad(expected)


def path_of(value: Any, expected: str) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value or "\0" in value:
        raise _bad(expected)
    return os.path.expanduser(value)


def dir_path(value: Any) -> Path | None:
    if value is None:
        return None
    return Path(path_of(value, "a folder path (a non-empty string without NUL bytes)"))


def file_path(value: Any) -> Path:
    expected = "a file path (a non-empty string naming a file, not a folder)"
    text = path_of(value, expected)
    if text.endswith(("/", os.sep)) or Path(text).name in ("", ".", ".."):
        raise _bad(expected)
    return Path(text)


def opt_file_path(value: Any) -> Path | None:
    return None if value is None else file_path(value)


def opt_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or any(not c.isprintable() for c in value):
        raise _bad("a non-empty string without control characters")
    return value


def number(value: Any) -> Decimal:
    """A finite number given as a TOML number or a string; bool is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError
    try:
        d = Decimal(value.strip()) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError from None
    if not d.is_finite():
        raise ValueError
    return d


def halt_threshold(value: Any) -> Decimal:
    expected = 'a fraction strictly between 0 and 1 (0.30 halts at a 30% drawdown), or a percentage string such as "30%"'
    try:
        if isinstance(value, str) and value.strip().endswith("%"):
            d = number(value.strip()[:-1]) / 100
        else:
            d = number(value)
    except (ValueError, InvalidOperation):
        raise _bad(expected) from None
    if d.is_signed() or not 0 < d < 1:  # -0 included: a halt at 0% drawdown can only be a typo
        raise _bad(expected)
    return d


def money_threshold(value: Any) -> Decimal:
    expected = "an amount in USD >= 0 (e.g. 1.00)"
    try:
        d = number(value)
    except ValueError:
        raise _bad(expected) from None
    if d.is_signed() or d > Decimal(10) ** 15:
        raise _bad(expected)
    return d


def positive(what: str, most: float):
    expected = f"a finite number of {what} > 0 and <= {most:g}"

    def parse(value: Any) -> float:
        try:
            d = number(value)
        except ValueError:
            raise _bad(expected) from None
        f = float(d)
        if not (math.isfinite(f) and 0 < f <= most):
            raise _bad(expected)
        return f

    return parse


def whole(least: int, most: int, what: str = "a whole number"):
    expected = f"{what} >= {least} and <= {most}"

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise _bad(expected)
        if isinstance(value, str):
            text = value.strip()
            try:
                n = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
            except ValueError:
                raise _bad(expected) from None
        elif isinstance(value, int):
            n = value
        else:  # 1.5 must not become 1, nor 1.0 pass as a whole number from TOML
            raise _bad(expected)
        if not least <= n <= most:
            raise _bad(expected)
        return n

    return parse


_SIZE = re.compile(r"\s*(\d+)\s*([kmgt]?)(i?b)?\s*", re.I)


def byte_size(least: int, most: int):
    expected = f"a size in bytes between {least} and {most} (a number, or e.g. \"64MiB\", \"1M\")"

    def parse(value: Any) -> int:
        if isinstance(value, str):
            m = _SIZE.fullmatch(value)
            if not m:
                raise _bad(expected)
            n = int(m[1]) * 1024 ** "_kmgt".index(m[2].lower() or "_")
        elif isinstance(value, int) and not isinstance(value, bool):
            n = value
        else:
            raise _bad(expected)
        if not least <= n <= most:
            raise _bad(expected)
        return n

    return parse


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        s = value.strip().lower()
        if s in ("1", "true", "yes", "on"):
            return True
        if s in ("0", "false", "no", "off"):
            return False
    raise _bad("true or false (1/0, yes/no, on/off)")


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_ADDRESS_FORM = "an address: 0x followed by 40 hex digits"


def address(value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value.strip()):
        raise _bad(_ADDRESS_FORM)
    return value.strip()


def opt_address(value: Any) -> str | None:
    return None if value is None else address(value)


def tokens(value: Any) -> list[str]:
    expected = "a list of token addresses (0x followed by 40 hex digits each; comma-separated in STATETUI_TOKENS)"
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(t, str) for t in items):
        raise _bad(expected)
    out = [t.strip() for t in items]
    if any(not _ADDRESS.fullmatch(t) for t in out):
        raise _bad(expected)
    return out


_URL_FORM = "an http:// or https:// URL with a host, in ASCII without spaces (percent-encode other characters)"


def rpc_url(value: Any) -> RpcUrl | None:
    if value is None:
        return None
    if isinstance(value, RpcUrl):
        value = value.reveal()
    if not isinstance(value, str) or not value.isascii() or any(c.isspace() or not c.isprintable() for c in value):
        raise _bad(_URL_FORM)
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise _bad(_URL_FORM) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(_URL_FORM)
    return RpcUrl(value)


_NOTIFY_FORM = ("a list of notification URLs (Apprise's form, e.g. tgram://TOKEN/CHAT or json://host/path; "
                "space-separated in STATETUI_NOTIFY)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")


def notify_urls(value: Any) -> list[NotifyUrl]:
    """Where notifications go; each service's own form is checked by Apprise when sending."""
    items = value.split() if isinstance(value, str) else value
    if isinstance(items, (str, NotifyUrl)):
        items = [items]
    if not isinstance(items, (list, tuple)):
        raise _bad(_NOTIFY_FORM)
    out = []
    for item in items:
        raw = item.reveal() if isinstance(item, RpcUrl) else item
        if not isinstance(raw, str) or not raw.isascii() or not _SCHEME.fullmatch(raw) or not raw.isprintable():
            raise _bad(_NOTIFY_FORM)
        out.append(NotifyUrl(raw))
    return out


def table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad("a table")
    return value


def opt_table(value: Any) -> dict[str, Any] | None:
    return None if value is None else table(value)


def fields(value: Any) -> dict[str, Any]:
    """A [fields] table (role = "path", and the options peak_basis, currency, halt_modes), or
    --field ROLE=PATH values; validated by statetui.core.roles."""
    if isinstance(value, (list, tuple)):
        table: dict[str, Any] = {}
        for item in value:
            role, sep, path = str(item).partition("=")
            if not sep or not role.strip():
                raise plain(f"expected ROLE=PATH (e.g. cash=account.cash), got {one_line(repr(item))}")
            table[role.strip()] = path.strip()
        value = table
    if not isinstance(value, dict):
        raise _bad('a table of role = "path" (e.g. cash = "account.cash")')
    from statetui.core.roles import RolePathError, parse_field_overrides

    try:
        return parse_field_overrides(value, "\0")
    except RolePathError as exc:  # its message names the role and the expected form
        raise plain(str(exc).replace("\0: ", "")) from None


def keys(value: Any) -> dict[str, str]:
    """[console.keys]: binding id = "key[,key...]" (`?` in the console lists the ids)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                              and v.isprintable() for k, v in value.items()):
        raise _bad('a table of binding id = "key[,key...]" (e.g. journal = "J")')
    return {k: v.strip() for k, v in value.items()}


def choice(*options: str):
    def parse(value: Any) -> str:
        if value not in options:
            raise _bad(" or ".join(options))
        return value
    return parse


def opt_block(value: Any) -> int | None:
    return None if value is None else whole(0, 2**63 - 1, "a block number")(value)
