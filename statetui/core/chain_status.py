"""The last chain reading of each bot's cash, kept where a scrape can read it without the
chain: a scrape never blocks on an RPC, so `statetui_chain_mismatch` comes from the last
reconcile or audit that read the chain, or from `metrics --listen`'s background refresh.

One small JSON file per state file under the user's state dir (platformdirs), written
atomically through statetui.core.outfile; never in read-only mode. The reading holds no
URL, only figures: the state's cash and the chain's at one block, and when."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

MAX_READING_BYTES = 64 * 1024
RECONCILE_REASONS = ("reconcile", "repair reconcile")


@dataclass(frozen=True)
class ChainMismatch:
    mismatch: Decimal  # state cash - chain cash, dollars
    at: float  # unix time of the reading
    source: str  # "reconcile", "audit", "refresh", or "journal #N"


def status_dir() -> Path:
    from platformdirs import user_state_dir

    return Path(user_state_dir("statetui")) / "chain"


def _file_for(state: Path) -> Path:
    key = hashlib.sha256(os.fsencode(os.path.abspath(state))).hexdigest()[:24]
    return status_dir() / f"{key}.json"


# Readings this process took (the exporter's refresh): kept in memory too, so a read-only
# exporter, which writes no file, still shows them.
_LIVE: dict[str, ChainMismatch] = {}


def remember(config: Any, state_cash: Decimal, chain_cash: Decimal, block: int | None, source: str,
             now: float | None = None) -> None:
    """Keep a reading in this process and, unless read-only, in its file."""
    now = time.time() if now is None else now
    _LIVE[os.path.abspath(config.state)] = ChainMismatch(state_cash - chain_cash, now, source)
    record(config, state_cash, chain_cash, block, source, now)


def record(config: Any, state_cash: Decimal, chain_cash: Decimal, block: int | None, source: str,
           now: float | None = None) -> None:
    """Remember a reading (a no-op in read-only mode). Raises OutputError when it cannot."""
    from statetui.core.outfile import write_output

    if config.read_only:
        return
    folder = status_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {"state": str(os.path.abspath(config.state)), "state_cash": str(state_cash), "chain_cash": str(chain_cash),
            "block": block, "at": time.time() if now is None else now, "source": source}
    write_output(_file_for(config.state), json.dumps(data) + "\n", "chain status")


def recorded(config: Any) -> ChainMismatch | None:
    """The remembered reading for this state file, or None (none, unreadable or not ours)."""
    from statetui.core.errors import StatetuiError
    from statetui.core.fsio import read_capped

    try:
        data = json.loads(read_capped(_file_for(config.state), "chain status", MAX_READING_BYTES))
        if data.get("state") != str(os.path.abspath(config.state)):
            return None
        return ChainMismatch(Decimal(data["state_cash"]) - Decimal(data["chain_cash"]), float(data["at"]),
                             str(data.get("source", "")))
    except (OSError, StatetuiError, ValueError, KeyError, TypeError, InvalidOperation, AttributeError):
        return None


def reading_key(config: Any) -> tuple:
    """Changes whenever a newer reading is remembered (for a cache of statuses)."""
    live = _LIVE.get(os.path.abspath(config.state))
    try:
        st = os.stat(_file_for(config.state))
        on_disk = (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        on_disk = None
    return on_disk, live.at if live else None


def from_journal(entries: list[dict[str, Any]]) -> ChainMismatch | None:
    """The newest reconcile the journal records: the state was set to the chain's cash then."""
    from statetui.core.history import _ts

    for entry in reversed(entries):
        if str(entry.get("reason", "")).startswith(RECONCILE_REASONS):
            ts = _ts(entry)
            if ts is not None:
                return ChainMismatch(Decimal(0), ts, f"journal #{entry.get('generation')}")
    return None


def last_mismatch(config: Any, entries: list[dict[str, Any]]) -> ChainMismatch | None:
    """The newest of the remembered reading and the journal's last reconcile."""
    live = _LIVE.get(os.path.abspath(config.state))
    found = [m for m in (recorded(config), from_journal(entries), live) if m is not None]
    return max(found, key=lambda m: m.at, default=None)
