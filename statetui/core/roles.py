"""Roles: which of the bot's own fields plays which part (cash, peak, halt flag, ...).

Real bots name their fields however they like (`cash_usd`, `paper_balance`,
`traders.BTC.balance`, `peak_equity`, `kill_switch_latched`, ...). Everything statetui
judges or writes goes through a role map: role -> a path in the document.

A path is dotted (`account.cash`, `daily_stats.wins`); `*` stands for each entry of an
object or array (`traders.*.balance`, summed for money roles); `$` is the whole document
(positions kept as the document itself). A `!` in front of a halt path means the flag is
inverted (`!trading_enabled`: false means halted).

Detection (statetui.core.roles_detect) assigns a role only when the evidence is clear; a
`[fields]` table in the config and `--field ROLE=PATH` override it. A wrong cash or peak
is worse than none: an unmapped role makes the checks say "cannot tell"."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterator

from statetui.core.money import money_or_none

# role -> (kind, what it means). The kind says which JSON values fit it.
ROLES: dict[str, tuple[str, str]] = {
    "cash": ("money", "realized cash the bot can trade with"),
    "equity": ("money", "cash plus the value of open positions"),
    "peak": ("money", "the high-water mark the drawdown is measured from"),
    "starting": ("money", "the bankroll the bot started with"),
    "day_start": ("money", "cash (or equity) at the start of the trading day"),
    "daily_pnl": ("signed", "profit or loss so far today"),
    "halted": ("flag", "true while the bot refuses to trade (a halt or kill switch)"),
    "halt_reason": ("text", "why the bot halted"),
    "mode": ("text", "the bot's risk mode (a halt mode counts as halted)"),
    "positions": ("collection", "open positions: an array, an object keyed by market, or the document"),
    "trades": ("count", "number of trades"),
    "wins": ("count", "number of winning trades"),
    "losses": ("count", "number of losing trades"),
    "updated_at": ("time", "when the bot last wrote the state"),
}
MONEY_ROLES = tuple(r for r, (kind, _) in ROLES.items() if kind in ("money", "signed"))
# The roles a journal entry records after each write: enough to tell later what cash and the
# peak were at that moment, whatever the fields are called.
SNAPSHOT_ROLES = ("cash", "equity", "peak", "halted")
BASES = ("cash", "equity")
# mode values that mean "not trading" (compared lower-case)
HALT_MODES = frozenset({"halted", "halt", "stopped", "stop", "paused", "pause", "killed", "kill",
                        "kill_switch", "emergency", "emergency_stop", "disabled", "frozen", "suspended"})
ROOT = "$"
OPTION_KEYS = ("peak_basis", "currency", "halt_modes")


_FLOAT_MAX = Decimal("1.7976931348623157e308")


class RolePathError(ValueError):
    """A role path that cannot be used (bad syntax, unknown role)."""


@dataclass(frozen=True)
class Binding:
    role: str
    path: str | None  # None: explicitly unmapped
    source: str  # "detected" | "configured"
    reason: str = ""

    @property
    def inverted(self) -> bool:
        return bool(self.path) and self.path.startswith("!")

    @property
    def plain_path(self) -> str | None:
        return self.path[1:] if self.path and self.path.startswith("!") else self.path

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "source": self.source, "reason": self.reason}


@dataclass
class RoleMap:
    bindings: dict[str, Binding] = field(default_factory=dict)
    peak_basis: str | None = None  # "cash" | "equity" | None (unknown)
    basis_source: str = ""
    currency: str = "USD"
    currency_source: str = "default"
    halt_modes: frozenset[str] = HALT_MODES
    hints: dict[str, str] = field(default_factory=dict)  # role -> how to map it (when not mapped)
    unmapped_numeric: list[str] = field(default_factory=list)

    # --- lookups -------------------------------------------------------------------

    def path(self, role: str) -> str | None:
        b = self.bindings.get(role)
        return b.path if b is not None else None

    def field_name(self, role: str) -> str | None:
        """The bot's own name for a role, for labels: `cash (bankroll_current)`."""
        p = self.path(role)
        if p is None:
            return None
        return "the whole document" if p == ROOT else p.lstrip("!")

    def mapped(self, role: str) -> bool:
        return self.path(role) is not None

    def raw(self, doc: Any, role: str) -> Any:
        """The role's value as the bot wrote it (a list of values for a `*` path; None when absent)."""
        b = self.bindings.get(role)
        if b is None or b.path is None:
            return None
        values = list(resolve(doc, b.plain_path))
        if "*" in split_path(b.plain_path):
            return [v for _, v in values]
        return values[0][1] if values else None

    def present(self, doc: Any, role: str) -> bool:
        b = self.bindings.get(role)
        return b is not None and b.path is not None and any(True for _ in resolve(doc, b.plain_path))

    def money(self, doc: Any, role: str) -> Decimal | None:
        """A money role as a Decimal (a `*` path sums its entries); None when unmapped, absent
        or not a number."""
        value = self.raw(doc, role)
        if isinstance(value, list) and "*" in split_path(self.bindings[role].plain_path or ""):
            total, seen = Decimal(0), False
            for v in value:
                m = money_or_none(v)
                if m is not None:
                    total, seen = total + m, True
            return total if seen else None
        return money_or_none(value)

    def count(self, doc: Any, role: str) -> int | None:
        value = self.raw(doc, role)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def text(self, doc: Any, role: str) -> str | None:
        value = self.raw(doc, role)
        return value if isinstance(value, str) else None

    def halted(self, doc: Any) -> bool | None:
        """Is the bot halted? From whichever of the halt flag and the mode it has; None when
        it has neither (or they hold no usable value)."""
        answers = []
        b = self.bindings.get("halted")
        if b is not None and b.path is not None:
            flag = self.raw(doc, "halted")
            if isinstance(flag, list):  # per-symbol flags: halted when any is
                flags = [f for f in flag if isinstance(f, bool)]
                flag = any(flags) if flags else None
            if isinstance(flag, bool):
                answers.append(flag != b.inverted)
        mode = self.text(doc, "mode")
        if mode is not None:
            answers.append(mode.strip().lower() in self.halt_modes)
        return any(answers) if answers else None

    def positions(self, doc: Any) -> Any:
        p = self.path("positions")
        if p is None:
            return None
        if p == ROOT:
            return doc
        return self.raw(doc, "positions")

    def basis_value(self, doc: Any) -> Decimal | None:
        """The figure the peak is compared with (like with like)."""
        if self.peak_basis in BASES:
            return self.money(doc, self.peak_basis)
        return None

    def snapshot(self, doc: Any) -> dict[str, Any]:
        """The roles a journal entry records: JSON numbers and a bool, mapped roles only."""
        out: dict[str, Any] = {}
        for role in SNAPSHOT_ROLES:
            if role == "halted":
                h = self.halted(doc)
                if h is not None:
                    out[role] = h
                continue
            m = self.money(doc, role)
            if m is not None and abs(m) < _FLOAT_MAX:  # 1e400 would be inf, which JSON cannot hold
                out[role] = float(m)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "roles": {r: b.to_dict() for r, b in self.bindings.items()},
            "peak_basis": self.peak_basis,
            "basis_source": self.basis_source,
            "currency": self.currency,
            "currency_source": self.currency_source,
            "hints": dict(self.hints),
            "unmapped_numeric": list(self.unmapped_numeric),
        }

    def values(self, doc: Any) -> dict[str, dict[str, Any]]:
        """`show --json`'s "roles": {ROLE: {"path": PATH, "value": VALUE}} for mapped roles."""
        out: dict[str, dict[str, Any]] = {}
        for role, b in self.bindings.items():
            if b.path is None:
                continue
            kind = ROLES[role][0]
            if kind in ("money", "signed"):
                m = self.money(doc, role)
                value: Any = str(m) if m is not None else None
            elif role == "halted":
                value = self.halted(doc)
            elif role == "positions":
                pos = self.positions(doc)
                value = len(pos) if isinstance(pos, (list, dict)) else None
            else:
                value = self.raw(doc, role)
            out[role] = {"path": b.path, "value": value}
        return out



# --- paths -----------------------------------------------------------------------------


def split_path(path: str) -> list[str]:
    if path in (ROOT, ""):
        return []
    return path.split(".")


def check_path(path: str) -> str:
    """A usable path or RolePathError naming what is wrong with it."""
    p = path.strip()
    body = p[1:] if p.startswith("!") else p
    if body == ROOT:
        return p
    if not body:
        raise RolePathError("empty path")
    if any(not part for part in body.split(".")):
        raise RolePathError(f"{path!r}: empty segment (a dotted path like account.cash)")
    if any(ord(c) < 32 for c in body):
        raise RolePathError(f"{path!r}: control character in the path")
    return p


def resolve(doc: Any, path: str | None) -> Iterator[tuple[str, Any]]:
    """(concrete path, value) for every place `path` reaches in `doc` (none when absent)."""
    if path is None:
        return
    parts = split_path(path)

    def walk(node: Any, i: int, where: list[str]) -> Iterator[tuple[str, Any]]:
        if i == len(parts):
            yield ".".join(where) or ROOT, node
            return
        part = parts[i]
        if part == "*":
            if isinstance(node, dict):
                for k, v in node.items():
                    yield from walk(v, i + 1, where + [str(k)])
            elif isinstance(node, list):
                for k, v in enumerate(node):
                    yield from walk(v, i + 1, where + [str(k)])
            return
        if isinstance(node, dict) and part in node:
            yield from walk(node[part], i + 1, where + [part])
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            yield from walk(node[int(part)], i + 1, where + [part])

    yield from walk(doc, 0, [])


class _Missing:
    def __repr__(self) -> str:
        return "<absent>"


MISSING: Any = _Missing()


def value_at(doc: Any, path: str | None) -> Any:
    """The value at a concrete path (no `*`), or MISSING."""
    if path is None:
        return MISSING
    for _, value in resolve(doc, path.lstrip("!")):
        return value
    return MISSING


def set_path(doc: Any, path: str, value: Any) -> None:
    """Set a concrete (no `*`) path's value in place; the key must exist or its parent must be
    an object (a new key goes at the end, keeping the bot's order)."""
    parts = split_path(path)
    if not parts or "*" in parts:
        raise RolePathError(f"{path!r}: cannot write to this path")
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def top_field(path: str | None) -> str | None:
    """The top-level key a path lives under (what the journal's `changes` are keyed by)."""
    if path is None:
        return None
    parts = split_path(path.lstrip("!"))
    return parts[0] if parts and parts[0] != "*" else None


# --- building the map --------------------------------------------------------------------


def parse_field_overrides(items: dict[str, Any], source: str) -> dict[str, Any]:
    """Validate a `[fields]` table or `--field ROLE=PATH` values: role -> path (or None to
    leave a role unmapped), plus the options peak_basis, currency, halt_modes. Raises
    RolePathError naming the key."""
    out: dict[str, Any] = {}
    for key, value in items.items():
        if key == "peak_basis":
            if value not in BASES:
                raise RolePathError(f"{source}: fields.peak_basis must be \"cash\" or \"equity\", got {value!r}")
            out[key] = value
        elif key == "currency":
            if not isinstance(value, str) or not value.strip().isalpha() or len(value.strip()) > 8:
                raise RolePathError(f"{source}: fields.currency must be a currency code like \"USD\" or \"EUR\", got {value!r}")
            out[key] = value.strip().upper()
        elif key == "halt_modes":
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise RolePathError(f"{source}: fields.halt_modes must be a list of mode names")
            out[key] = [v.lower() for v in value]
        elif key in ROLES:
            if value is None or value in ("", "none", False):
                out[key] = None
            elif isinstance(value, str):
                try:
                    out[key] = check_path(value)
                except RolePathError as exc:
                    raise RolePathError(f"{source}: fields.{key}: {exc}") from None
                if out[key].startswith("!") and key != "halted":
                    raise RolePathError(f"{source}: fields.{key}: only the halted flag can be inverted with '!'")
            else:
                raise RolePathError(f"{source}: fields.{key} must be a dotted path string, got {value!r}")
        else:
            raise RolePathError(f"{source}: fields.{key}: unknown role (known: {', '.join(ROLES)}; "
                                f"options: {', '.join(OPTION_KEYS)})")
    return out


def role_map(doc: Any, overrides: dict[str, Any] | None = None) -> RoleMap:
    """Detected roles with the configured ones on top."""
    from statetui.core.roles_detect import detect

    rm = detect(doc)
    for key, value in (overrides or {}).items():
        if key in ROLES:
            rm.bindings[key] = Binding(key, value, "configured", "set in the config" if value else "left unmapped by the config")
            rm.hints.pop(key, None)
    if "peak_basis" in (overrides or {}):
        rm.peak_basis, rm.basis_source = overrides["peak_basis"], "configured"
    elif "peak" in (overrides or {}) and overrides["peak"]:
        from statetui.core.roles_detect import basis_from_name

        rm.peak_basis, rm.basis_source = basis_from_name(overrides["peak"], rm)
    if "currency" in (overrides or {}):
        rm.currency, rm.currency_source = overrides["currency"], "configured"
    if "halt_modes" in (overrides or {}):
        rm.halt_modes = frozenset(overrides["halt_modes"])
    # a peak with no basis to compare against is reported, never guessed
    if rm.mapped("peak") and rm.peak_basis is None:
        rm.hints.setdefault("peak_basis", "set fields.peak_basis = \"cash\" or \"equity\" (what the peak tracks)")
    return rm


def roles_for(config: Any, doc: Any) -> RoleMap:
    """The role map statetui uses for a bot: detection, then the config's [fields] and --field."""
    return role_map(doc, getattr(config, "fields", None) or {})
