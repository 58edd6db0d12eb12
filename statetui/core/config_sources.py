"""Where configuration values come from, and where each one was found: a TOML file (its
`file:line`), a STATETUI_* environment variable, or a command-line flag. Later sources win.
The config file is read like every file statetui reads: no symlink games, never blocking
on a FIFO, at most MAX_CONFIG_BYTES."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
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
    "STATETUI_JOURNAL_ROTATE_BYTES": "journal_rotate_bytes",
    "STATETUI_JOURNAL_ROTATE_AGE": "journal_rotate_age",
    "STATETUI_HISTORY_FROM_BLOCK": "history_from_block",
    "STATETUI_HISTORY_SINCE": "history_since",
    "STATETUI_HWM_POLICY": "hwm_policy",
    "STATETUI_CHAIN_CACHE_DIR": "chain_cache_dir",
    "STATETUI_OFFSITE": "offsite_url",
    "STATETUI_NOTIFY": "notify",
    "STATETUI_NOTIFY_ON": "notify_on",
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
    """(values, key -> source) from the file, then the environment, then the flags (a
    single-bot configuration; statetui.core.fleet reads [[bots]])."""
    values, sources, _ = gather_fleet(flags, env, config_file)
    return values, sources


@dataclass
class BotTable:
    """One [[bots]] table: its own values (the file's top level is added by the caller) and
    where each was found; `line` is its [[bots]] header's."""

    index: int
    values: dict[str, Any]
    sources: dict[str, str]
    line: int


def gather_fleet(flags: Mapping[str, Any] | None, env: Mapping[str, str] | None,
                 config_file: str | Path | None) -> tuple[dict[str, Any], dict[str, str], list[BotTable]]:
    """The file's top level, then the environment, then the flags, as `gather`; and each
    [[bots]] table's own values, with the environment and flags applied over them too (the
    caller puts each bot's values over the top level's)."""
    from statetui.core.config import default_config_path

    env = os.environ if env is None else env
    flags = dict(flags or {})
    explicit = config_file or flags.pop("config", None) or env.get("STATETUI_CONFIG")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    bots: list[BotTable] = []
    if explicit is not None and (not isinstance(explicit, (str, os.PathLike)) or not str(explicit) or "\0" in str(explicit)):
        raise ConfigError(f"config file path {one_line(repr(explicit))}: expected a path to a TOML file")
    path = Path(explicit) if explicit else default_config_path()
    if explicit or os.path.lexists(path):
        bots = _from_file(path, values, sources)
    overrides, override_sources = overrides_from(flags, env, values.get("fields"))
    values.update(overrides)
    sources.update(override_sources)
    for bot in bots:  # the environment and flags win over a bot's own table, as over the top level
        bot_overrides, bot_sources = overrides_from(flags, env, bot.values.get("fields", values.get("fields")))
        bot.values.update(bot_overrides)
        bot.sources.update(bot_sources)
    return values, sources, bots


def overrides_from(flags: Mapping[str, Any], env: Mapping[str, str],
                   file_fields: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The values the environment and the flags set, over a file whose [fields] is `file_fields`."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, key in ENV.items():
        if env.get(name, "") != "":
            values[key] = env[name]
            sources[key] = f"environment {name}"
    for key, value in flags.items():
        if value is None or key == "config":
            continue
        if key == "fields" and isinstance(value, (list, tuple)) and isinstance(file_fields, dict):
            merged = dict(file_fields)  # --field ROLE=PATH overrides the [fields] table, role by role
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


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
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
    import tomllib  # only with a config file: not on the console's start without one

    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from None


def _from_file(path: Path, values: dict[str, Any], sources: dict[str, str]) -> list[BotTable]:
    """Read the top level into values/sources; return the [[bots]] tables."""
    doc, text = _read_toml(path)
    lines = KeyLines(text)
    bots_doc = doc.pop("bots", None)
    _read_table(doc, path, lines, None, values, sources)
    values["config_file"] = path
    sources["config_file"] = str(path)
    if bots_doc is None:
        return []
    if not isinstance(bots_doc, list) or not all(isinstance(b, dict) for b in bots_doc):
        raise ConfigError(f"{path}:{lines.line('bots', None)}: bots: expected [[bots]] tables (one per bot)")
    bots = []
    for i, table in enumerate(bots_doc):
        where = f"bots#{i}"
        header = lines.line("", where, default=lines.line("bots", None))
        if "bots" in table:
            raise ConfigError(f"{path}:{header}: bots[{i}]: a [[bots]] table cannot hold bots")
        bot_values: dict[str, Any] = {}
        bot_sources: dict[str, str] = {}
        _read_table(table, path, lines, where, bot_values, bot_sources)
        bots.append(BotTable(i, bot_values, bot_sources, header))
    return bots


# Keys a table may hold besides the settings: the implicit bot's name, and a [[bots]] table's.
EXTRA_KEYS = frozenset({"name"})


FLAT_TABLES = {"chain": CHAIN_KEYS, "console": CONSOLE_KEYS}


def _read_table(doc: dict[str, Any], path: Path, lines: "KeyLines", where: str | None,
                values: dict[str, Any], sources: dict[str, str]) -> None:
    """One table's keys (the top level, or one [[bots]] table: `where` is bots#N)."""
    from statetui.core.config import SETTINGS, TABLE_FIELDS

    settings = frozenset(SETTINGS) | EXTRA_KEYS
    base = path.parent
    sub = (lambda name: f"{where}.{name}") if where else (lambda name: name)
    bot_line = lines.line("", where) if where else None

    def at(key: str, table: str | None) -> int:
        return lines.line(key, table, default=bot_line)

    def put(key: str, value: Any, table: str | None) -> None:
        if key in PATH_KEYS and isinstance(value, str) and value and "\0" not in value:
            value = os.path.expanduser(value)
            names_a_file = not value.endswith("/") and Path(value).name not in ("", ".", "..")
            if not os.path.isabs(value) and (names_a_file or key not in FILE_KEYS):
                value = os.path.join(base, value)  # ("." for the state stays "." for the model to refuse)
        values[key] = value
        sources[key] = f"{path}:{at(key, table)}"

    for key, value in doc.items():
        if key in FLAT_TABLES:  # [chain] and [console]: their keys are settings like the top level's
            known = FLAT_TABLES[key]
            if not isinstance(value, dict):
                raise ConfigError(f"{path}:{at(key, where)}: {key}: expected a [{key}] table")
            for ckey, cvalue in value.items():
                if ckey not in known:
                    raise ConfigError(f"{path}:{at(ckey, sub(key))}: {one_line(ckey)!r} is not a [{key}] setting "
                                      f"(those are {', '.join(sorted(known))})")
                put(ckey, cvalue, sub(key))
        elif key == "offsite":  # validated by statetui.core.offsite_config where it is used
            if not isinstance(value, dict):
                raise ConfigError(f"{path}:{at(key, where)}: offsite: expected an [offsite] table")
            values["offsite_table"] = value
            sources["offsite_table"] = f"{path}:{at(key, where)}"
        elif isinstance(value, dict) and key not in TABLE_FIELDS and key not in settings:
            known = f" (tables: chain, offsite{''.join(', ' + t for t in sorted(TABLE_FIELDS))})"
            raise ConfigError(f"{path}:{at(key, where)}: [{one_line(key)}] is not a table statetui reads{known}")
        else:
            put(key, value, where)


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_\-\"'. ]+?)\s*\]\s*(?:#.*)?$")
_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_\-\"'. ]+?)\s*\]\]\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_\-]+))\s*=""")


class KeyLines:
    """The line where a key is set, for `file:line` in errors (tomllib keeps no positions):
    a scan that follows [table] and [[bots]] headers. The Nth [[bots]] table is `bots#N`
    (its header is key "" in it), and [bots.chain] after it is `bots#N.chain`. 1 when it
    cannot tell."""

    def __init__(self, text: str):
        self._where: dict[tuple[str | None, str], int] = {}
        table: str | None = None
        arrays: dict[str, int] = {}
        for number, line in enumerate(text.splitlines(), 1):
            array = _ARRAY_HEADER.match(line)
            head = _HEADER.match(line) if array is None else None
            if array or head:
                name = ".".join(p.strip().strip("\"'") for p in (array or head).group(1).split("."))
                if array:
                    arrays[name] = arrays.get(name, -1) + 1
                    table = f"{name}#{arrays[name]}"
                    self._where.setdefault((table, ""), number)
                    self._where.setdefault((None, name), number)
                    continue
                first, _, rest = name.partition(".")
                if rest and first in arrays:  # [bots.chain]: a sub-table of the latest [[bots]]
                    parent = f"{first}#{arrays[first]}"
                    table = f"{parent}.{rest}"
                    self._where.setdefault((parent, rest), number)
                else:
                    table = name
                    self._where.setdefault((None, table), number)
                continue
            key = _KEY.match(line)
            if key:
                name = next(g for g in key.groups() if g is not None)
                self._where.setdefault((table, name), number)

    def line(self, key: str, table: str | None, default: int | None = None) -> int:
        if default is not None:  # inside a [[bots]] table: never a top-level key's line
            return self._where.get((table, key)) or default
        return self._where.get((table, key)) or self._where.get((None, key)) or 1
