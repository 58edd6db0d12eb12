"""The configuration: one validated model (statetui.core.settings_model), from TOML file < STATETUI_* environment
< command-line flags (statetui.core.config_sources reads them and says where each value came
from, so an error names the key, its source and the expected form).

Paths in the config file are relative to the file's directory; paths from the environment
and flags are relative to the working directory. A string is parsed for a number or a flag
("137", "0x89", "30%", "yes"): the environment and flags only give strings; a value of the
wrong kind (a number where a path goes, 1.5 where a whole number goes) is refused.

Extra tables: a field typed as a dict with default_factory=dict is read from its own TOML
table (`[fields]`): adding one is one line here; `[offsite]` is read into `offsite_table`."""

from __future__ import annotations

import contextvars
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from statetui.core.errors import ConfigError
from statetui.core import setting_parsers as parse
from statetui.core.settings_model import Field, Invalid, SettingError, SettingsModel, after_check, setting
from statetui.core.redact import NotifyUrl, RpcUrl, redact_url
from statetui.core.textsafe import one_line

PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
USDC_E = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"
CTF = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
DEFAULT_STATE = "state/trading_state.json"
DEFAULT_PID_FILE = "/tmp/polymarket-bot.pid"
MIB = 1024 * 1024
DEFAULT_MAX_STATE_BYTES = 64 * MIB  # state and backups: far above any bot's state
DEFAULT_MAX_JOURNAL_LINE_BYTES = 1 * MIB


_setting = setting


class Config(SettingsModel):
    """The effective configuration. Construct it directly (library, tests) or through
    load_config(); a bad value raises ConfigError naming the key and the expected form.
    Unknown keys are refused, assignment is checked too, defaults are not re-checked."""

    state: Annotated[Path, _setting(parse.file_path)] = Path(DEFAULT_STATE)
    backup_dir: Annotated[Path | None, _setting(parse.dir_path)] = None  # None: backups/ beside the state file
    bot_source: Annotated[Path | None, _setting(parse.dir_path)] = None
    pid_file: Annotated[Path, _setting(parse.file_path)] = Path(DEFAULT_PID_FILE)
    process_pattern: Annotated[str | None, _setting(parse.opt_text)] = None
    systemd_unit: Annotated[str | None, _setting(parse.opt_text)] = None
    # Also match the unit's ExecStart and the entry point in bot_source when looking for the bot.
    detect_bot_command: Annotated[bool, _setting(parse.flag)] = True
    halt_threshold: Annotated[Decimal, _setting(parse.halt_threshold)] = Decimal("0.30")
    backup_max_age_hours: Annotated[float, _setting(parse.positive("hours", 100000))] = 24.0
    retention_days: Annotated[int, _setting(parse.whole(0, 100000, "a whole number of days"))] = 30
    keep_min: Annotated[int, _setting(parse.whole(0, 1000000, "a whole number of backups"))] = 10
    stale_peak_days: Annotated[float, _setting(parse.positive("days", 100000))] = 7.0
    auto_backup_interval: Annotated[float, _setting(parse.positive("seconds", 1e9))] = 3600.0
    rpc_url: Annotated[RpcUrl | None, _setting(parse.rpc_url)] = None
    chain_id: Annotated[int, _setting(parse.whole(1, 2**63 - 1, "a chain id, a whole number (137 or 0x89 for Polygon)"))] = 137
    wallet: Annotated[str | None, _setting(parse.opt_address)] = None
    tokens: Annotated[list[str], _setting(parse.tokens)] = Field(default_factory=lambda: [PUSD, USDC_E])
    ctf_address: Annotated[str, _setting(parse.address)] = CTF
    mismatch_threshold: Annotated[Decimal, _setting(parse.money_threshold)] = Decimal("1.00")
    rpc_timeout: Annotated[float, _setting(parse.positive("seconds", 3600))] = 10.0
    read_only: Annotated[bool, _setting(parse.flag)] = False
    max_state_bytes: Annotated[int, _setting(parse.byte_size(1024, 2**34))] = DEFAULT_MAX_STATE_BYTES
    max_journal_line_bytes: Annotated[int, _setting(parse.byte_size(1024, 2**30))] = DEFAULT_MAX_JOURNAL_LINE_BYTES
    # Journal segments (issue 18, statetui.core.segments): seal the active journal at this size
    # or age (bytes 0: never by size); sealed segments older than journal_keep_days are removed only by
    # `statetui journal --prune`, which says where the evidence then starts (0: keep all).
    journal_rotate_bytes: Annotated[int, _setting(parse.byte_size(0, 2**40))] = 512 * 1024
    journal_rotate_age: Annotated[float, _setting(parse.positive("seconds", 1e9))] = 86400.0
    journal_keep_days: Annotated[int, _setting(parse.whole(0, 100000, "a whole number of days"))] = 0
    # [fields] (issue 12): role -> path in the bot's document, plus peak_basis/currency/halt_modes
    # (statetui.core.roles); detection fills in what is not set here.
    fields: Annotated[dict[str, Any], _setting(parse.fields)] = Field(default_factory=dict)
    # Chain history (issue 14): where the history starts (a block, or a date), the high-water
    # mark policy ("adjust-flows": deposits raise it, withdrawals lower it; or "raw"), and the
    # history cache folder (default: the user's cache dir).
    history_from_block: Annotated[int | None, _setting(parse.opt_block)] = None
    history_since: Annotated[str | None, _setting(parse.opt_text)] = None
    hwm_policy: Annotated[str, _setting(parse.choice("adjust-flows", "raw"))] = "adjust-flows"
    chain_cache_dir: Annotated[Path | None, _setting(parse.dir_path)] = None
    # Off-site backups (issue 17): the raw [offsite] table and the URL from STATETUI_OFFSITE or
    # --offsite-url; statetui.core.offsite_config validates them where they are used.
    offsite_table: Annotated[dict[str, Any] | None, _setting(parse.opt_table)] = None
    offsite_url: Annotated[str | None, _setting(parse.opt_text)] = None
    # Notifications (issue 16): Apprise URLs, and when a run sends: "failure" (every run not
    # OK, and the one that recovers), "change" (the status differs from the last run's), "always".
    notify: Annotated[list[NotifyUrl], _setting(parse.notify_urls)] = Field(default_factory=list)
    notify_on: Annotated[str, _setting(parse.choice("failure", "change", "always"))] = "change"
    # How often `metrics --listen` reads each bot's chain cash in the background (a scrape never does).
    chain_refresh_interval: Annotated[float, _setting(parse.positive("seconds", 1e9))] = 3600.0
    # The console ([console] in the file): a Textual theme, and keys by binding id
    # ([console.keys], e.g. journal = "J"; `?` in the console lists the ids).
    theme: Annotated[str | None, _setting(parse.opt_text)] = None
    keys: Annotated[dict[str, str], _setting(parse.keys)] = Field(default_factory=dict)
    config_file: Annotated[Path | None, _setting(parse.dir_path)] = None

    def __init__(self, **values: Any):
        # load_config's sources (file:line, environment variable, flag) reach the message
        # through _SOURCES.
        try:
            super().__init__(**values)
        except Invalid as exc:
            raise config_error(exc, _SOURCES.get()) from None

    @after_check
    def _chain_needs_tokens(self) -> None:
        if self.chain_configured and not self.tokens:
            expected = ("at least one token address while a chain is configured (rpc_url and wallet): "
                        "with none, the wallet's cash would read as 0")
            raise SettingError("setting", f"expected {expected}", expected=expected, key="tokens")

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except Invalid as exc:
            raise config_error(exc, {}) from None

    @property
    def backups(self) -> Path:
        return self.backup_dir if self.backup_dir is not None else self.state.parent / "backups"

    @property
    def chain_configured(self) -> bool:
        return bool(self.rpc_url and self.wallet)

    def public_dict(self) -> dict[str, Any]:
        """The configuration as plain JSON values; the RPC URL only in its redacted form."""
        out: dict[str, Any] = {}
        for key in type(self).model_fields:
            value = getattr(self, key)
            if isinstance(value, (Path, Decimal, RpcUrl)):
                value = str(value)  # an RpcUrl's str is its redacted form
            elif isinstance(value, list):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            out[key] = value
        out["backup_dir"] = str(self.backups)
        out["rpc_url"] = redact_url(self.rpc_url) if self.rpc_url else None
        out["notify"] = [str(u) for u in self.notify]  # a NotifyUrl's str is its redacted form
        from statetui.core.offsite_config import public_offsite

        del out["offsite_table"], out["offsite_url"]
        out["offsite"] = public_offsite(self)
        return out


_SOURCES: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("config_sources", default={})
TABLE_FIELDS = frozenset(k for k, f in Config.model_fields.items() if f.default_factory is dict)
SETTINGS = tuple(k for k in Config.model_fields if k not in ("config_file", "offsite_table"))


def shown_value(key: str, value: Any) -> str:
    """A value for an error message: the RPC URL redacted, anything else short and escaped."""
    if key == "rpc_url" and isinstance(value, (str, RpcUrl)):
        return redact_url(value) or "''"
    if key == "notify":  # tokens live anywhere in a notification URL, host included
        return "<notification URLs, redacted>"
    text = repr(value)
    return one_line(text if len(text) <= 60 else text[:57] + "...")


def config_error(exc: Invalid, sources: dict[str, str]) -> ConfigError:
    """The first problem as one line: `<source>: <key> = <value>: expected <form>`."""
    err, key = exc.error, exc.key
    source = sources.get(key, "setting")
    if err is None:
        import difflib

        near = difflib.get_close_matches(key, SETTINGS, n=1)
        hint = f" (did you mean {near[0]}?)" if near else f" (known: {', '.join(SETTINGS)})"
        return ConfigError(f"{source}: unknown setting {one_line(key)!r}{hint}")
    if err.kind == "setting" and err.key is None:
        return ConfigError(f"{source}: {key} = {shown_value(key, exc.value)}: {err.message}")
    if err.kind == "plain":
        return ConfigError(f"{source}: {err.message}")
    return ConfigError(f"{source}: {key}: {one_line(err.message)}")


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("statetui")) / "config.toml"


def build_config(values: dict[str, Any], sources: dict[str, str]) -> Config:
    """A Config from gathered values; an error names the source of the key at fault."""
    token = _SOURCES.set(sources)
    try:
        return Config(**values)
    finally:
        _SOURCES.reset(token)


def load_config(flags: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                config_file: str | Path | None = None, bot: str | None = None) -> Config:
    """Build the effective config. `flags` holds only the flags the user gave. With [[bots]]
    in the file, `bot` names one (None: the only one; several is a UsageError listing them)."""
    from statetui.core.fleet import load_fleet, select_bot

    return select_bot(load_fleet(flags, env, config_file), bot).config
