"""Where configuration values come from, and where each one was found: a TOML file (its
`file:line`), a STATETUI_* environment variable, or a command-line flag. Later sources win.
The config file is read like every file statetui reads: no symlink games, never blocking
on a FIFO, at most MAX_CONFIG_BYTES."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

from statetui.core.errors import ConfigError, StatetuiError
from statetui.core.textsafe import one_line

MAX_CONFIG_BYTES = 1024 * 1024

ENV = {
    "STATETUI_STATE": "state",
    "STATETUI_BACKUP_DIR": "backup_dir",
    "STATETUI_BOT_SOURCE": "bot_source",
    "STATETUI_PID_FILE": "pid_file",
    "STATETUI_PROCESS_PATTERN": "process_pattern",
    "STATETUI_SYSTEMD_UNIT": "systemd_unit",
    "STATETUI_DETECT_BOT_COMMAND": "detect_bot_command",
    "STATETUI_HALT_THRESHOLD": "halt_threshold",
    "STATETUI_RPC_URL": "rpc_url",
    "STATETUI_WALLET": "wallet",
    "STATETUI_CHAIN_ID": "chain_id",
    "STATETUI_TOKENS": "tokens",
    "STATETUI_MISMATCH_THRESHOLD": "mismatch_threshold",
    "STATETUI_RPC_TIMEOUT": "rpc_timeout",
    "STATETUI_READ_ONLY": "read_only",
    "STATETUI_MAX_STATE_BYTES": "max_state_bytes",
    "STATETUI_MAX_JOURNAL_LINE_BYTES": "max_journal_line_bytes",
    "STATETUI_HISTORY_FROM_BLOCK": "history_from_block",
    "STATETUI_HISTORY_SINCE": "history_since",
    "STATETUI_HWM_POLICY": "hwm_policy",
    "STATETUI_CHAIN_CACHE_DIR": "chain_cache_dir",
    "STATETUI_OFFSITE": "offsite_url",
}
PATH_KEYS = frozenset({"state", "backup_dir", "bot_source", "pid_file", "chain_cache_dir"})
FILE_KEYS = frozenset({"state", "pid_file"})
# Settings that may sit in the [chain] table (they may also be written at the top level).
CHAIN_KEYS = frozenset({"rpc_url", "chain_id", "wallet", "tokens", "ctf_address", "mismatch_threshold", "rpc_timeout",
                        "history_from_block", "history_since", "hwm_policy", "chain_cache_dir"})

# The console's settings, in the [console] table (keys as its [console.keys] sub-table).
CONSOLE_KEYS = frozenset({"theme", "keys"})


def flag_name(key: str) -> str:
    return "--" + key.replace("_", "-")


def gather(flags: Mapping[str, Any] | None, env: Mapping[str, str] | None,
           config_file: str | Path | None) -> tuple[dict[str, Any], dict[str, str]]:
    """(values, key -> source) from the file, then the environment, then the flags."""
    from statetui.core.config import SETTINGS, TABLE_FIELDS, default_config_path

    env = os.environ if env is None else env
    flags = dict(flags or {})
    explicit = config_file or flags.pop("config", None) or env.get("STATETUI_CONFIG")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if explicit is not None and (not isinstance(explicit, (str, os.PathLike)) or not str(explicit) or "\0" in str(explicit)):
        raise ConfigError(f"config file path {one_line(repr(explicit))}: expected a path to a TOML file")
    path = Path(explicit) if explicit else default_config_path()
    if explicit or os.path.lexists(path):
        _from_file(path, values, sources, TABLE_FIELDS, frozenset(SETTINGS))
    for name, key in ENV.items():
        if env.get(name, "") != "":
            values[key] = env[name]
            sources[key] = f"environment {name}"
    for key, value in flags.items():
        if value is None:
            continue
        if key == "fields" and isinstance(value, (list, tuple)) and isinstance(values.get("fields"), dict):
            merged = dict(values["fields"])  # --field ROLE=PATH overrides the [fields] table, role by role
            for item in value:
                role, sep, path = str(item).partition("=")
                merged[role.strip() if sep else str(item)] = path.strip() if sep else None
                if not sep:  # malformed: let the model say so, naming the flag
                    merged = list(value)
                    break
            value = merged
        values[key] = value
        sources[key] = "--field" if key == "fields" else flag_name(key)
    return values, sources


def _from_file(path: Path, values: dict[str, Any], sources: dict[str, str], tables: frozenset[str],
               settings: frozenset[str]) -> None:
    from statetui.core.fsio import read_capped

    try:
        raw = read_capped(path, "config file", MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except StatetuiError as exc:  # a FIFO, a folder, a link, over the cap
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: config file is not UTF-8 (byte {exc.start})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from None
    lines = KeyLines(text)
    base = path.parent

    def put(key: str, value: Any, table: str | None) -> None:
        if key in PATH_KEYS and isinstance(value, str) and value and "\0" not in value:
            value = os.path.expanduser(value)
            names_a_file = not value.endswith("/") and Path(value).name not in ("", ".", "..")
            if not os.path.isabs(value) and (names_a_file or key not in FILE_KEYS):
                value = os.path.join(base, value)  # ("." for the state stays "." for the model to refuse)
        values[key] = value
        sources[key] = f"{path}:{lines.line(key, table)}"

    for key, value in doc.items():
        if key == "chain":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}:{lines.line(key, None)}: chain: expected a [chain] table")
            for ckey, cvalue in value.items():
                if ckey not in CHAIN_KEYS:
                    raise ConfigError(f"{path}:{lines.line(ckey, 'chain')}: {one_line(ckey)!r} is not a [chain] setting "
                                      f"(those are {', '.join(sorted(CHAIN_KEYS))})")
                put(ckey, cvalue, "chain")
        elif key == "console":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}:{lines.line(key, None)}: console: expected a [console] table")
            for ckey, cvalue in value.items():
                if ckey not in CONSOLE_KEYS:
                    raise ConfigError(f"{path}:{lines.line(ckey, 'console')}: {one_line(ckey)!r} is not a [console] "
                                      f"setting (those are {', '.join(sorted(CONSOLE_KEYS))})")
                put(ckey, cvalue, "console")
        elif key == "offsite":  # validated by statetui.core.offsite_config where it is used
            if not isinstance(value, dict):
                raise ConfigError(f"{path}:{lines.line(key, None)}: offsite: expected an [offsite] table")
            values["offsite_table"] = value
            sources["offsite_table"] = f"{path}:{lines.line(key, None)}"
        elif isinstance(value, dict) and key not in tables and key not in settings:
            where = f"{path}:{lines.line(key, None)}"
            known = f" (tables: chain, offsite{''.join(', ' + t for t in sorted(tables))})"
            raise ConfigError(f"{where}: [{one_line(key)}] is not a table statetui reads{known}")
        else:
            put(key, value, None)
    values["config_file"] = path
    sources["config_file"] = str(path)


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_\-\"'. ]+?)\s*\]\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_\-]+))\s*=""")


class KeyLines:
    """The line where a key is set, for `file:line` in errors (tomllib keeps no positions):
    a scan that follows [table] headers. 1 when it cannot tell."""

    def __init__(self, text: str):
        self._where: dict[tuple[str | None, str], int] = {}
        table: str | None = None
        for number, line in enumerate(text.splitlines(), 1):
            head = _HEADER.match(line)
            if head:
                table = head.group(1).strip().strip("\"'")
                self._where.setdefault((None, table), number)
                continue
            key = _KEY.match(line)
            if key:
                name = next(g for g in key.groups() if g is not None)
                self._where.setdefault((table, name), number)

    def line(self, key: str, table: str | None) -> int:
        return self._where.get((table, key)) or self._where.get((None, key)) or 1
