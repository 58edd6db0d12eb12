"""Several bots in one configuration: `[[bots]]` tables, or the single-bot keys as one
implicit bot.

    halt_threshold = 0.30          # the top level: defaults every bot inherits
    [chain]
    rpc_url = "https://polygon-rpc.com"

    [[bots]]
    name = "alpha"
    state = "/srv/alpha/state/trading_state.json"
    pid_file = "/srv/alpha/bot.pid"
    [bots.chain]
    wallet = "0x..."               # this bot's own; rpc_url is inherited
    [bots.fields]
    cash = "bankroll"              # a bot's [fields] replaces the top level's: schemas differ

A bot inherits each top-level key it does not set itself; the environment (STATETUI_*) and
the command line's flags win over both, for every bot (use them with `--bot NAME`). Without
[[bots]], the file's settings are one bot named by a top-level `name`, else "default".
Errors are one line naming file:line and the key, as for every other setting."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statetui.core.config import Config, build_config
from statetui.core.errors import ConfigError, UsageError
from statetui.core.textsafe import one_line

DEFAULT_BOT_NAME = "default"
# A name is a Prometheus label value, a file name (notification state) and a CLI argument.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
NAME_FORM = "a bot name: a letter or digit, then up to 63 letters, digits, '_', '.' or '-'"


@dataclass(frozen=True)
class Bot:
    name: str
    config: Config


def load_fleet(flags: dict[str, Any] | None = None, env: dict[str, str] | None = None,
               config_file: str | Path | None = None) -> list[Bot]:
    """Every configured bot, in the file's order (one implicit bot without [[bots]])."""
    from statetui.core.config_sources import gather_fleet

    values, sources, tables = gather_fleet(flags, env, config_file)
    name_value = values.pop("name", None)
    name_source = sources.pop("name", "setting")
    if not tables:
        name = _check_name(name_value, name_source, "name") if name_value is not None else DEFAULT_BOT_NAME
        return [Bot(name, build_config(values, sources))]
    if name_value is not None:
        raise ConfigError(f"{name_source}: name: a top-level name names the single bot; with [[bots]], "
                          "give each [[bots]] table its own name")
    bots: list[Bot] = []
    seen: dict[str, str] = {}
    states: dict[str, str] = {}
    for table in tables:
        where = table.sources.get("name", f"{values.get('config_file')}:{table.line}")
        if "name" not in table.values:
            raise ConfigError(f"{where}: bots[{table.index}]: every [[bots]] table needs a name (e.g. name = \"alpha\")")
        name = _check_name(table.values.pop("name"), where, f"bots[{table.index}].name")
        table.sources.pop("name", None)
        if name in seen:
            raise ConfigError(f"{where}: bots[{table.index}].name = {name!r}: already the name of the bot at {seen[name]}; "
                              "names must be unique")
        seen[name] = where
        merged = {**values, **table.values}
        merged_sources = {**sources, **table.sources}
        try:
            config = build_config(merged, merged_sources)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (bot {name!r})") from None
        state = os.path.abspath(config.state)
        from_file = not merged_sources.get("state", "").startswith(("--", "environment "))
        # Two bots on one file in the config: every figure counted twice, every repair raced.
        # (A --state or STATETUI_STATE overrides every bot's: that is for use with --bot.)
        if state in states and from_file:
            raise ConfigError(f"{merged_sources.get('state', where)}: bots[{table.index}] ({name!r}) state = {str(config.state)!r}: "
                              f"already the state file of bot {states[state]!r}; each bot needs its own")
        states[state] = name
        bots.append(Bot(name, config))
    return bots


def _check_name(value: Any, source: str, key: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        shown = one_line(repr(value))
        raise ConfigError(f"{source}: {key} = {shown[:60]}: expected {NAME_FORM}")
    return value


def select_bot(bots: list[Bot], name: str | None) -> Bot:
    """The bot `--bot NAME` asks for; without a name, the only one."""
    names = ", ".join(b.name for b in bots)
    if name is None:
        if len(bots) == 1:
            return bots[0]
        raise UsageError(f"{len(bots)} bots are configured: choose one with --bot NAME ({names})")
    for bot in bots:
        if bot.name == name:
            return bot
    raise UsageError(f"no bot named {one_line(repr(name))} (configured: {names})")


def bot_names(bots: list[Bot]) -> list[str]:
    return [b.name for b in bots]


def files_stamp(config: Config) -> tuple:
    """(inode, size, mtime in ns) of what a bot's writes and checks touch: its state, journal,
    backups folder (its listing), pid file and the store's lock file; None where one is
    missing. Equal stamps: nothing there changed."""
    from statetui.core.journal import journal_path_for

    state = os.path.abspath(config.state)
    keys = []
    for path in (state, journal_path_for(Path(state)), config.backups, config.pid_file, state + ".lock"):
        try:
            st = os.stat(path)
            keys.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            keys.append(None)
    return tuple(keys)
