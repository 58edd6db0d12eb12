"""Generated settings for the hostile suite: values for every configuration key, written in a
TOML file, an environment variable or a flag, each with the outcome the suite's own rules
give (not statetui's code): valid, or refused with exit 2 naming the key and its source.

A case sets one probe key on top of a valid baseline, so exactly one thing can be wrong."""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
TEXT_POOL = ["", " ", "x", "a" * 300, "\u0000", "a\u0000b", "é", "\u202e", "\u001b[2J", "a\nb", "~/x", "/", "./", ".",
             "..", "dir/", "[bold]x[/]", "30%", "150%", "-0", "0x89", "1e999999999", "inf", "nan", "-1", "0", "1",
             "1.5", "0.3", " 0.3 ", "true", "yes", "off", "64MiB", "1M", "12kb", "0x" + "ab" * 20, "0x" + "AB" * 20,
             "0xzz", ",,,", "0x" + "ab" * 20 + ",", "http://127.0.0.1:8545", "https://rpc.example/v2/KEY",
             "ftp://x", "http://", "http://h:99999", "https://h/é", "http://h/a b", "file:///etc/passwd"]
RAW_POOL: list[Any] = [5, -1, 0, 1, 137, 1.5, -0.0, 0.0, 0.3, 0.999, 150, 1e308, -1e308, math.inf, -math.inf, math.nan,
                       True, False, 10**30, [], [1], ["0x" + "ab" * 20], {}, {"a": 1}, 2**63, 2**63 - 1, 1024, 2**34 + 1]

PATH_KEYS = ("state", "backup_dir", "bot_source", "pid_file")
FILE_KEYS = ("state", "pid_file")
KINDS = {
    "state": "file", "pid_file": "file", "backup_dir": "dir", "bot_source": "dir", "process_pattern": "text",
    "systemd_unit": "text", "halt_threshold": "fraction", "backup_max_age_hours": ("pos", 100000),
    "retention_days": ("int", 0, 100000), "keep_min": ("int", 0, 1000000), "stale_peak_days": ("pos", 100000),
    "auto_backup_interval": ("pos", 1e9), "rpc_url": "url", "chain_id": ("int", 1, 2**63 - 1), "wallet": "address",
    "tokens": "tokens", "ctf_address": "address", "mismatch_threshold": "money", "rpc_timeout": ("pos", 3600),
    "read_only": "flag", "max_state_bytes": ("size", 1024, 2**34), "max_journal_line_bytes": ("size", 1024, 2**30),
}
CHAIN = {"rpc_url", "chain_id", "wallet", "tokens", "ctf_address", "mismatch_threshold", "rpc_timeout"}
ENV = {  # the variables, as documented
    "STATETUI_STATE": "state", "STATETUI_BACKUP_DIR": "backup_dir", "STATETUI_BOT_SOURCE": "bot_source",
    "STATETUI_PID_FILE": "pid_file", "STATETUI_PROCESS_PATTERN": "process_pattern",
    "STATETUI_SYSTEMD_UNIT": "systemd_unit", "STATETUI_HALT_THRESHOLD": "halt_threshold",
    "STATETUI_RPC_URL": "rpc_url", "STATETUI_WALLET": "wallet", "STATETUI_CHAIN_ID": "chain_id",
    "STATETUI_TOKENS": "tokens", "STATETUI_MISMATCH_THRESHOLD": "mismatch_threshold",
    "STATETUI_RPC_TIMEOUT": "rpc_timeout", "STATETUI_READ_ONLY": "read_only",
    "STATETUI_MAX_STATE_BYTES": "max_state_bytes", "STATETUI_MAX_JOURNAL_LINE_BYTES": "max_journal_line_bytes",
}
FLAGS = {"--state": "state", "--backup-dir": "backup_dir", "--bot-source": "bot_source", "--pid-file": "pid_file",
         "--rpc-url": "rpc_url", "--wallet": "wallet", "--chain-id": "chain_id"}


def _number(v: Any) -> Decimal | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        d = Decimal(str(v)) if not (isinstance(v, float) and not math.isfinite(v)) else None
    elif isinstance(v, str):
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return d if d is not None and d.is_finite() else None


def valid(key: str, v: Any) -> bool:
    """The suite's own rule for whether `v` is an acceptable value for `key`."""
    kind = KINDS[key]
    if kind in ("file", "dir"):
        if not isinstance(v, str) or not v or "\0" in v:
            return False
        if kind == "file":
            name = v.rstrip("/").rsplit("/", 1)[-1] if not v.endswith("/") else ""
            return name not in ("", ".", "..")
        return True
    if kind == "text":
        return isinstance(v, str) and bool(v.strip()) and v.isprintable()
    if kind == "fraction":
        if isinstance(v, str) and v.strip().endswith("%"):
            d = _number(v.strip()[:-1])
            return d is not None and not d.is_signed() and 0 < d < 100
        d = _number(v)
        return d is not None and not d.is_signed() and 0 < d < 1
    if kind == "money":
        d = _number(v)
        return d is not None and not d.is_signed() and d <= 10**15
    if kind == "flag":
        return isinstance(v, bool) or (isinstance(v, str) and v.strip().lower() in
                                       ("1", "true", "yes", "on", "0", "false", "no", "off"))
    if kind == "address":
        return isinstance(v, str) and ADDRESS.fullmatch(v.strip()) is not None
    if kind == "tokens":
        items = v.split(",") if isinstance(v, str) else v
        return isinstance(items, list) and all(isinstance(t, str) and ADDRESS.fullmatch(t.strip()) for t in items)
    if kind == "url":
        return (isinstance(v, str) and v.isascii() and not any(c.isspace() or not c.isprintable() for c in v)
                and re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d{1,5})?(/[^#]*)?(#.*)?", v) is not None
                and int((re.search(r"://[^/:]+:(\d+)", v) or [None, "1"])[1]) <= 65535)
    tag = kind[0]
    if tag == "pos":
        d = _number(v)
        return d is not None and 0 < float(d) <= kind[1] and math.isfinite(float(d))
    if tag == "int":
        if isinstance(v, bool) or isinstance(v, float):
            return False
        if isinstance(v, str):
            t = v.strip()
            try:
                v = int(t, 16) if t.lower().startswith("0x") else int(t, 10)
            except ValueError:
                return False
        return isinstance(v, int) and kind[1] <= v <= kind[2]
    if tag == "size":
        if isinstance(v, str):
            m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(i?b)?\s*", v, re.I)
            if not m:
                return False
            v = int(m[1]) * 1024 ** "_kmgt".index(m[2].lower() or "_")
        if isinstance(v, bool) or not isinstance(v, int):
            return False
        return kind[1] <= v <= kind[2]
    raise AssertionError(kind)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string (\uXXXX escapes included)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


@dataclass
class SettingCase:
    name: str
    key: str
    value: Any
    ok: bool


def setting_cases(rng: random.Random, n: int, *, strings_only: bool = False) -> list[SettingCase]:
    """`n` (key, value) probes over every key: the value pools, plus random picks."""
    keys = list(KINDS)
    pool: list[Any] = list(TEXT_POOL) + ([] if strings_only else list(RAW_POOL))
    cases = []
    for key in keys:  # every key meets every kind of value at least once
        for v in pool:
            cases.append(SettingCase(f"{key}={v!r}"[:80], key, v, valid(key, v)))
    rng.shuffle(cases)
    out = cases[:n]
    while len(out) < n:
        key = rng.choice(keys)
        v = rng.choice(pool)
        out.append(SettingCase(f"{key}={v!r}"[:80], key, v, valid(key, v)))
    return out


def toml_with(key: str, value: Any, base: dict[str, str]) -> tuple[str, int]:
    """A config file setting `key` (top level or [chain]) over a valid baseline: (text, its line)."""
    top = [f"{k} = {toml_value(v)}" for k, v in base.items() if k not in CHAIN and k != key]
    chain = [f"{k} = {toml_value(v)}" for k, v in base.items() if k in CHAIN and k != key]
    line = f"{key} = {toml_value(value)}"
    if key in CHAIN:
        lines = ["# generated", *top, "", "[chain]", *chain, line]
    else:
        lines = ["# generated", line, *top, "", "[chain]", *chain]
    return "\n".join(lines) + "\n", lines.index(line) + 1
