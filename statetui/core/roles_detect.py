"""Role detection: from the names, types and values of a bot's own fields.

A role is assigned only when the evidence is clear: one candidate whose name says it
(tokens such as cash/balance/bankroll for cash; peak/high-water/highest for the peak),
of the right JSON type, outside the positions and history collections, and ahead of any
other candidate. Anything less leaves the role unmapped with a hint saying how to map
it: a wrong cash or peak is worse than none."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from statetui.core.roles import ROLES, ROOT, Binding, RoleMap

MAX_DEPTH = 4
SAMPLE = 8  # entries of a collection looked at
MAX_KEYS = 400  # an object with more keys is a collection, never walked key by key

MONEY_WORDS = {"balance", "cash", "bankroll", "capital", "funds", "fund", "usdc", "equity", "value", "nav", "worth", "portfolio"}
CASH_WORDS = {"cash", "balance", "bankroll", "capital", "funds", "usdc"}
EQUITY_WORDS = {"equity", "nav", "worth", "networth"}
NOT_CASH = {
    "peak", "max", "maximum", "min", "minimum", "high", "highest", "low", "lowest", "hwm", "ath",
    "start", "starting", "initial", "init", "baseline", "base", "original", "seed", "opening",
    "day", "daily", "today", "yesterday", "week", "weekly", "month", "monthly", "session",
    "target", "goal", "limit", "threshold", "floor", "stake", "bet", "size", "price", "px",
    "pnl", "profit", "loss", "fee", "fees", "reserved", "reserve", "locked", "pending", "committed",
    "invested", "cost", "history", "prev", "previous", "ratio", "pct", "percent", "rate", "allocation",
    "alloc", "deposit", "deposits", "deposited", "withdrawn", "withdrawal", "withdrawals", "drawdown",
    "dd", "risk", "per", "avg", "average", "expected", "unrealized", "unrealised", "realized", "realised",
    "equity", "nav", "worth", "portfolio", "value", "total",
}
NOT_PEAK = {"price", "px", "drawdown", "dd", "pct", "percent", "ratio", "time", "ts", "date", "at",
            "loss", "day", "daily", "today", "session", "trade", "position", "min", "low"}
START_WORDS = {"start", "starting", "initial", "init", "baseline", "original", "seed"}
DAY_WORDS = {"day", "daily", "today", "sod"}
PNL_WORDS = {"pnl", "pl", "profit", "profitloss"}
POSITION_KEYS = {"size", "shares", "quantity", "qty", "amount", "price", "entry_price", "avg_price", "avg_entry_price",
                 "token_id", "tokenid", "asset", "asset_id", "outcome", "side", "market", "market_id", "condition_id",
                 "entry_px", "cost", "cost_usd", "entry", "yes_shares", "no_shares", "symbol", "slug", "market_slug"}
HISTORY_WORDS = {"history", "log", "logs", "trades", "events", "ledger", "archive", "closed", "settled", "past", "equity_history"}
COLLECTION_WORDS = {"positions", "position", "holdings", "holding"}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def _tokens(name: str) -> tuple[str, ...]:
    return tuple(t for t in _SEPARATORS.split(_CAMEL.sub("_", name).lower()) if t)


def tokens(name: str) -> list[str]:
    return list(_tokens(str(name)))


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass
class Leaf:
    path: str  # dotted, with * for collection entries
    key: str
    toks: set[str]
    context: set[str]  # tokens of the ancestors' keys
    value: Any
    depth: int  # number of segments
    wildcard: bool  # inside a non-positions collection (money roles only, summed)


@dataclass
class Collection:
    path: str
    key: str
    toks: set[str]
    value: Any  # the list or object
    positionish: bool


def _positionish(entries: list[Any]) -> bool:
    dicts = [e for e in entries if isinstance(e, dict)]
    if not dicts or len(dicts) != len(entries):
        return False
    return all(len({k.lower() for k in d} & POSITION_KEYS) >= 2 for d in dicts)


def _entries(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [v for _, v in zip(range(SAMPLE), value.values())]
    return list(value[:SAMPLE])


def _keyed_collection(obj: dict) -> bool:
    """An object keyed by data (symbols, market ids) rather than by field names."""
    if not obj or len(obj) > MAX_KEYS:
        return len(obj) > MAX_KEYS
    entries = _entries(obj)
    if not all(isinstance(v, dict) for v in entries):
        return False
    if _positionish(entries):
        return True
    if len(obj) >= 2:
        first = set(entries[0])
        return all(len(set(e) & first) >= max(1, len(first) // 2) for e in entries[1:])
    key = next(iter(obj))
    return bool(re.fullmatch(r"[A-Z0-9_:/.-]+|0x[0-9a-fA-F]+|\d+", key))


class _Walker:
    def __init__(self) -> None:
        self.leaves: list[Leaf] = []
        self.collections: list[Collection] = []

    def walk(self, node: dict, parts: list[str], context: set[str], wildcard: bool) -> None:
        if len(parts) >= MAX_DEPTH:
            return
        for key, value in list(node.items())[:MAX_KEYS]:
            if not isinstance(key, str) or "." in key:
                continue
            toks = set(_tokens(key))
            if not toks:  # "" or punctuation: no name to read a role from
                continue
            path = parts + [key]
            if isinstance(value, dict):
                if _keyed_collection(value) or toks & COLLECTION_WORDS:
                    self._collection(path, key, toks, value, context, wildcard)
                else:
                    self.walk(value, path, context | toks, wildcard)
            elif isinstance(value, list):
                self._collection(path, key, toks, value, context, wildcard)
            else:
                self.leaves.append(Leaf(".".join(path), key, toks, context, value, len(path), wildcard))

    def _collection(self, path: list[str], key: str, toks: set[str], value: Any, context: set[str], wildcard: bool) -> None:
        entries = _entries(value)
        positionish = _positionish(entries)
        self.collections.append(Collection(".".join(path), key, toks, value, positionish))
        if positionish or wildcard or toks & (HISTORY_WORDS | COLLECTION_WORDS) or "history" in key.lower():
            return  # inside positions and histories, nothing plays a role of the whole bot
        merged: dict[str, Any] = {}
        for e in entries:
            if isinstance(e, dict):
                for k, v in e.items():
                    merged.setdefault(k, v)
        if merged:
            self.walk(merged, path + ["*"], context | toks, True)


# --- scorers: (score, reason) or None ------------------------------------------------------

Score = tuple[float, str] | None


def _cash(leaf: Leaf) -> Score:
    if not _number(leaf.value) or not leaf.toks & CASH_WORDS or leaf.toks & NOT_CASH:
        return None
    if leaf.wildcard and not leaf.toks & {"balance", "cash", "bankroll", "capital"}:
        return None
    score = 3 + (1 if leaf.toks & {"cash", "balance", "bankroll"} else 0)
    return score, f"name {leaf.key!r} says cash ({', '.join(sorted(leaf.toks & CASH_WORDS))})"


def _equity(leaf: Leaf) -> Score:
    t = leaf.toks
    named = t & EQUITY_WORDS or {"portfolio", "value"} <= t or {"account", "value"} <= t or {"total", "value"} <= t
    if not _number(leaf.value) or not named:
        return None
    if t & (NOT_PEAK | START_WORDS | {"peak", "max", "high", "highest", "history", "prev", "previous", "target"}):
        return None
    return 4, f"name {leaf.key!r} says equity"


def _peak(leaf: Leaf) -> Score:
    t = leaf.toks
    joined = leaf.key.lower().replace("_", "").replace("-", "")
    named = ("peak" in t or "hwm" in t or "ath" in t or "highwatermark" in joined or {"high", "water"} <= t
             or (t & {"highest", "max", "maximum"} and t & MONEY_WORDS))
    if not _number(leaf.value) or not named or t & NOT_PEAK or leaf.wildcard:
        return None
    return 4, f"name {leaf.key!r} says high-water mark"


def _starting(leaf: Leaf) -> Score:
    t = leaf.toks
    if not _number(leaf.value) or not t & START_WORDS or t & DAY_WORDS or leaf.wildcard:
        return None
    if not t & (MONEY_WORDS | {"deposit", "amount", "usd"}):
        return None
    return 4, f"name {leaf.key!r} says starting bankroll"


def _day_start(leaf: Leaf) -> Score:
    t = leaf.toks
    if not _number(leaf.value) or leaf.wildcard:
        return None
    if (t & DAY_WORDS and t & {"start", "open", "opening", "begin"}) or {"start", "of", "day"} <= t:
        if t & (MONEY_WORDS | {"usd"}) or "sod" in t:
            return 4, f"name {leaf.key!r} says start-of-day figure"
    return None


def _daily_pnl(leaf: Leaf) -> Score:
    t = leaf.toks
    pnl = t & PNL_WORDS or {"profit", "loss"} <= t
    daily = t & DAY_WORDS or leaf.context & DAY_WORDS
    if not _number(leaf.value) or not pnl or not daily or leaf.wildcard:
        return None
    if t & {"pct", "percent", "ratio", "rate", "limit", "max", "target", "min", "threshold"}:
        return None
    return (4 if t & DAY_WORDS else 3), f"name {leaf.key!r}{' under ' + leaf.path.rsplit('.', 1)[0] if leaf.depth > 1 else ''} says today's P&L"


_HALT_WORDS = {"halted", "halt", "killed", "killswitch", "paused", "pause", "stopped", "frozen", "suspended", "tripped",
               "emergency", "latched"}


def _halted(leaf: Leaf) -> Score:
    t = leaf.toks
    if not isinstance(leaf.value, bool) or leaf.wildcard and not t & {"halted", "paused"}:
        return None
    if t & {"loss", "enabled", "allowed", "auto", "should", "allow"} and not t & {"halted"}:
        if t & {"trading", "trade"} and t & {"enabled", "allowed"}:
            return 3, f"name {leaf.key!r} says trading is allowed (false = halted)"  # inverted, see detect()
        return None
    if t & {"halted"} or leaf.key.lower() in ("halt", "is_halted"):
        return 5, f"name {leaf.key!r} says halted"
    if {"kill", "switch"} <= t or t & {"killswitch", "killed"}:
        return 4, f"name {leaf.key!r} is a kill switch"
    if t & {"emergency"} and t & {"stop", "stopped", "halt"}:
        return 4, f"name {leaf.key!r} says emergency stop"
    if {"circuit", "breaker"} <= t and t & {"tripped", "active", "open", "triggered"}:
        return 4, f"name {leaf.key!r} says circuit breaker tripped"
    if t & {"paused", "stopped", "frozen", "suspended"} and (t & {"trading", "bot", "is"} or len(t) == 1):
        return 4, f"name {leaf.key!r} says trading is stopped"
    return None


def _halt_reason(leaf: Leaf) -> Score:
    t = leaf.toks
    if not (isinstance(leaf.value, str) or leaf.value is None) or leaf.wildcard:
        return None
    if "reason" in t and t & {"halt", "kill", "pause", "stop", "emergency", "shutdown", "halted", "paused", "stopped"}:
        return 4, f"name {leaf.key!r} says why the bot halted"
    return None


def _mode(leaf: Leaf) -> Score:
    t = leaf.toks
    if not isinstance(leaf.value, str) or leaf.wildcard or leaf.depth > 2:
        return None
    last = (tokens(leaf.key) or [""])[-1]  # a key with no word in it ("", "_") names no mode
    if last == "mode" and not t & {"paper", "dry", "test", "sim", "simulation", "execution", "order"}:
        return (4 if leaf.depth == 1 else 3), f"name {leaf.key!r} is a mode string"
    if leaf.depth == 1 and leaf.key.lower() in ("status", "state", "bot_status", "bot_state", "trading_status", "trading_state"):
        return 3, f"name {leaf.key!r} is a status string"
    return None


def _counter(words: set[str], singular: set[str], what: str) -> Callable[[Leaf], Score]:
    bad = {"streak", "consecutive", "row", "rate", "pct", "percent", "ratio", "max", "limit", "min", "per",
           "target", "pnl", "profit", "usd", "amount", "avg", "average", "last", "pending", "open", "stop"}

    def score(leaf: Leaf) -> Score:
        t = leaf.toks
        if not isinstance(leaf.value, int) or isinstance(leaf.value, bool) or leaf.wildcard or t & bad:
            return None
        if t & words or (t & singular and t & {"count", "num", "n", "number", "total"}):
            return 4 - (0.5 if leaf.depth > 1 else 0), f"name {leaf.key!r} counts {what}"
        return None

    return score


_trades = _counter({"trades", "bets"}, {"trade", "bet"}, "trades")
_wins = _counter({"wins", "winning", "won", "winners"}, {"win"}, "wins")
_losses = _counter({"losses", "losing", "lost", "losers"}, {"loss"}, "losses")


def _updated_at(leaf: Leaf) -> Score:
    t = leaf.toks
    if leaf.depth != 1 or not (isinstance(leaf.value, str) or _number(leaf.value)):
        return None
    if t & {"daily", "risk", "check", "trade", "order", "price", "market", "sync", "scan", "signal", "entry", "exit"}:
        return None
    if "updated" in t or ("last" in t and t & {"update", "save", "saved", "write", "written", "modified"}) or t & {"saved", "modified"}:
        return 4, f"name {leaf.key!r} says when the state was written"
    return None


_SCORERS: dict[str, Callable[[Leaf], Score]] = {
    "cash": _cash, "equity": _equity, "peak": _peak, "starting": _starting, "day_start": _day_start,
    "daily_pnl": _daily_pnl, "halted": _halted, "halt_reason": _halt_reason, "mode": _mode,
    "trades": _trades, "wins": _wins, "losses": _losses, "updated_at": _updated_at,
}
# A field plays one role; on a tie between roles the first here wins (a peak_equity is a peak).
_ROLE_ORDER = ("peak", "starting", "day_start", "daily_pnl", "equity", "cash", "halted", "halt_reason",
               "mode", "trades", "wins", "losses", "updated_at")


def _positions(walker: _Walker, doc: dict) -> tuple[str, str] | None | list[str]:
    named = [c for c in walker.collections
             if "*" not in c.path and c.toks & COLLECTION_WORDS and not c.toks & {"closed", "history", "past", "settled", "archive"}]
    if named:
        best = [c for c in named if c.path.count(".") == min(n.path.count(".") for n in named)]
        exact = [c for c in best if c.key.lower() in ("positions", "open_positions")]
        pick = exact if len(exact) == 1 else best
        if len(pick) == 1:
            return pick[0].path, f"name {pick[0].key!r} holds the positions"
        return [c.path for c in pick]
    if doc and _keyed_collection(doc) and _positionish(_entries(doc)):
        return ROOT, "the document itself is an object of positions keyed by market"
    return None


def basis_from_name(path: str, rm: RoleMap) -> tuple[str | None, str]:
    t = set(tokens(path.rsplit(".", 1)[-1]))
    if t & (EQUITY_WORDS | {"value", "portfolio", "total"}):
        return "equity", f"{path!r} names equity"
    if t & (CASH_WORDS | {"usd"}):
        return "cash", f"{path!r} names cash"
    cash, equity = rm.mapped("cash"), rm.mapped("equity")
    if equity and not cash:
        return "equity", "the bot keeps equity, not cash"
    if cash and not equity:
        return "cash", "the bot keeps cash, not equity"
    return None, "cannot tell whether the peak tracks cash or equity"


def _currency(path: str | None, doc: dict) -> tuple[str, str]:
    if path:
        t = set(tokens(path))
        for code in ("eur", "gbp", "chf", "jpy"):
            if code in t:
                return code.upper(), f"{path!r} names {code.upper()}"
        if t & {"usd", "usdc", "usdt", "pusd"}:
            return "USD", f"{path!r} names USD"
    cur = doc.get("currency") if isinstance(doc, dict) else None
    if isinstance(cur, str) and cur.strip().isalpha() and len(cur.strip()) <= 5:
        code = cur.strip().upper()
        return ("USD" if code in ("USDC", "USDT", "PUSD") else code), "the document's currency field"
    return "USD", "default (Polymarket's collateral is USD)"


_SAMPLE_VALUE = {"int": 0, "float": 0.0, "bool": False, "str": "", "null": None, "other": object()}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str" if isinstance(value, str) else "other"


@lru_cache(maxsize=8192)
def _classify(path: str, key: str, context: frozenset[str], kind: str, depth: int,
              wildcard: bool) -> tuple[str, float, str] | None:
    """The role a field fits first (a field plays one role), its score and why: a pure
    function of the field's name, place and JSON type, so it is computed once per shape."""
    leaf = Leaf(path, key, set(_tokens(key)), set(context), _SAMPLE_VALUE[kind], depth, wildcard)
    for role in _ROLE_ORDER:
        hit = _SCORERS[role](leaf)
        if hit is not None:
            bonus = 1 if depth == 1 else (-1 if wildcard else 0)
            return role, hit[0] + bonus, hit[1]
    return None


def detect(doc: Any) -> RoleMap:
    rm = RoleMap()
    if not isinstance(doc, dict):
        return rm
    walker = _Walker()
    walker.walk(doc, [], set(), False)
    candidates: dict[str, list[tuple[float, Leaf, str]]] = {r: [] for r in _SCORERS}
    for leaf in walker.leaves:
        hit = _classify(leaf.path, leaf.key, frozenset(leaf.context), _kind(leaf.value), leaf.depth, leaf.wildcard)
        if hit is not None:
            role, score, reason = hit
            candidates[role].append((score, leaf, reason))
    for role in _ROLE_ORDER:
        found = sorted(candidates[role], key=lambda c: -c[0])
        if not found:
            continue
        top = [c for c in found if c[0] == found[0][0]]
        if len(top) > 1:
            names = ", ".join(c[1].path for c in top)
            rm.hints[role] = f"ambiguous: {names} all look like {role}; set fields.{role} = \"PATH\" (or \"\" for none)"
            continue
        score, leaf, reason = top[0]
        path = leaf.path
        if role == "halted" and leaf.toks & {"enabled", "allowed"}:
            path = "!" + path
        if leaf.wildcard:
            reason += "; summed over each entry"
        rm.bindings[role] = Binding(role, path, "detected", reason)
    pos = _positions(walker, doc)
    if isinstance(pos, tuple):
        rm.bindings["positions"] = Binding("positions", pos[0], "detected", pos[1])
    elif isinstance(pos, list):
        rm.hints["positions"] = f"ambiguous: {', '.join(pos)}; set fields.positions = \"PATH\""
    if rm.mapped("peak"):
        rm.peak_basis, rm.basis_source = basis_from_name(rm.path("peak") or "", rm)
    rm.currency, rm.currency_source = _currency(rm.path("cash") or rm.path("equity"), doc)
    for role in ("cash", "peak"):
        if not rm.mapped(role) and role not in rm.hints:
            rm.hints[role] = f"no field looks like {role}; if the bot keeps one, set fields.{role} = \"PATH\""
    bound = {b.path.lstrip("!") for b in rm.bindings.values() if b.path}
    rm.unmapped_numeric = [leaf.path for leaf in walker.leaves
                           if _number(leaf.value) and leaf.path not in bound and not leaf.wildcard][:50]
    return rm


__all__ = ["detect", "tokens", "basis_from_name", "ROLES"]
