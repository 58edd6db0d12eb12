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
import math
import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from statetui.core.errors import ConfigError
from statetui.core.settings_model import Field, Invalid, SettingError, SettingsModel, after_check, bad, plain, setting
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


def _bad(expected: str) -> SettingError:
    return bad(expected)


# --- one parser per kind of setting -------------------------------------------------------

def _path_of(value: Any, expected: str) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value or "\0" in value:
        raise _bad(expected)
    return os.path.expanduser(value)


def _dir_path(value: Any) -> Path | None:
    if value is None:
        return None
    return Path(_path_of(value, "a folder path (a non-empty string without NUL bytes)"))


def _file_path(value: Any) -> Path:
    expected = "a file path (a non-empty string naming a file, not a folder)"
    text = _path_of(value, expected)
    if text.endswith(("/", os.sep)) or Path(text).name in ("", ".", ".."):
        raise _bad(expected)
    return Path(text)


def _opt_file_path(value: Any) -> Path | None:
    return None if value is None else _file_path(value)


def _opt_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or any(not c.isprintable() for c in value):
        raise _bad("a non-empty string without control characters")
    return value


def _number(value: Any) -> Decimal:
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


def _halt_threshold(value: Any) -> Decimal:
    expected = 'a fraction strictly between 0 and 1 (0.30 halts at a 30% drawdown), or a percentage string such as "30%"'
    try:
        if isinstance(value, str) and value.strip().endswith("%"):
            d = _number(value.strip()[:-1]) / 100
        else:
            d = _number(value)
    except (ValueError, InvalidOperation):
        raise _bad(expected) from None
    if d.is_signed() or not 0 < d < 1:  # -0 included: a halt at 0% drawdown can only be a typo
        raise _bad(expected)
    return d


def _money_threshold(value: Any) -> Decimal:
    expected = "an amount in USD >= 0 (e.g. 1.00)"
    try:
        d = _number(value)
    except ValueError:
        raise _bad(expected) from None
    if d.is_signed() or d > Decimal(10) ** 15:
        raise _bad(expected)
    return d


def _positive(what: str, most: float):
    expected = f"a finite number of {what} > 0 and <= {most:g}"

    def parse(value: Any) -> float:
        try:
            d = _number(value)
        except ValueError:
            raise _bad(expected) from None
        f = float(d)
        if not (math.isfinite(f) and 0 < f <= most):
            raise _bad(expected)
        return f

    return parse


def _whole(least: int, most: int, what: str = "a whole number"):
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


def _byte_size(least: int, most: int):
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


def _flag(value: Any) -> bool:
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


def _address(value: Any) -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value.strip()):
        raise _bad(_ADDRESS_FORM)
    return value.strip()


def _opt_address(value: Any) -> str | None:
    return None if value is None else _address(value)


def _tokens(value: Any) -> list[str]:
    expected = "a list of token addresses (0x followed by 40 hex digits each; comma-separated in STATETUI_TOKENS)"
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(t, str) for t in items):
        raise _bad(expected)
    out = [t.strip() for t in items]
    if any(not _ADDRESS.fullmatch(t) for t in out):
        raise _bad(expected)
    return out


_URL_FORM = "an http:// or https:// URL with a host, in ASCII without spaces (percent-encode other characters)"


def _rpc_url(value: Any) -> RpcUrl | None:
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


def _notify_urls(value: Any) -> list[NotifyUrl]:
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


def _table(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad("a table")
    return value


def _opt_table(value: Any) -> dict[str, Any] | None:
    return None if value is None else _table(value)


def _fields(value: Any) -> dict[str, Any]:
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


def _keys(value: Any) -> dict[str, str]:
    """[console.keys]: binding id = "key[,key...]" (`?` in the console lists the ids)."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                              and v.isprintable() for k, v in value.items()):
        raise _bad('a table of binding id = "key[,key...]" (e.g. journal = "J")')
    return {k: v.strip() for k, v in value.items()}


def _choice(*options: str):
    def parse(value: Any) -> str:
        if value not in options:
            raise _bad(" or ".join(options))
        return value
    return parse


def _opt_block(value: Any) -> int | None:
    return None if value is None else _whole(0, 2**63 - 1, "a block number")(value)


_setting = setting


class Config(SettingsModel):
    """The effective configuration. Construct it directly (library, tests) or through
    load_config(); a bad value raises ConfigError naming the key and the expected form.
    Unknown keys are refused, assignment is checked too, defaults are not re-checked."""

    state: Annotated[Path, _setting(_file_path)] = Path(DEFAULT_STATE)
    backup_dir: Annotated[Path | None, _setting(_dir_path)] = None  # None: backups/ beside the state file
    bot_source: Annotated[Path | None, _setting(_dir_path)] = None
    pid_file: Annotated[Path, _setting(_file_path)] = Path(DEFAULT_PID_FILE)
    process_pattern: Annotated[str | None, _setting(_opt_text)] = None
    systemd_unit: Annotated[str | None, _setting(_opt_text)] = None
    # Also match the unit's ExecStart and the entry point in bot_source when looking for the bot.
    detect_bot_command: Annotated[bool, _setting(_flag)] = True
    halt_threshold: Annotated[Decimal, _setting(_halt_threshold)] = Decimal("0.30")
    backup_max_age_hours: Annotated[float, _setting(_positive("hours", 100000))] = 24.0
    retention_days: Annotated[int, _setting(_whole(0, 100000, "a whole number of days"))] = 30
    keep_min: Annotated[int, _setting(_whole(0, 1000000, "a whole number of backups"))] = 10
    stale_peak_days: Annotated[float, _setting(_positive("days", 100000))] = 7.0
    auto_backup_interval: Annotated[float, _setting(_positive("seconds", 1e9))] = 3600.0
    rpc_url: Annotated[RpcUrl | None, _setting(_rpc_url)] = None
    chain_id: Annotated[int, _setting(_whole(1, 2**63 - 1, "a chain id, a whole number (137 or 0x89 for Polygon)"))] = 137
    wallet: Annotated[str | None, _setting(_opt_address)] = None
    tokens: Annotated[list[str], _setting(_tokens)] = Field(default_factory=lambda: [PUSD, USDC_E])
    ctf_address: Annotated[str, _setting(_address)] = CTF
    mismatch_threshold: Annotated[Decimal, _setting(_money_threshold)] = Decimal("1.00")
    rpc_timeout: Annotated[float, _setting(_positive("seconds", 3600))] = 10.0
    read_only: Annotated[bool, _setting(_flag)] = False
    max_state_bytes: Annotated[int, _setting(_byte_size(1024, 2**34))] = DEFAULT_MAX_STATE_BYTES
    max_journal_line_bytes: Annotated[int, _setting(_byte_size(1024, 2**30))] = DEFAULT_MAX_JOURNAL_LINE_BYTES
    # Journal segments (issue 18, statetui.core.segments): seal the active journal at this size
    # or age (bytes 0: never by size); sealed segments older than journal_keep_days are removed only by
    # `statetui journal --prune`, which says where the evidence then starts (0: keep all).
    journal_rotate_bytes: Annotated[int, _setting(_byte_size(0, 2**40))] = 512 * 1024
    journal_rotate_age: Annotated[float, _setting(_positive("seconds", 1e9))] = 86400.0
    journal_keep_days: Annotated[int, _setting(_whole(0, 100000, "a whole number of days"))] = 0
    # [fields] (issue 12): role -> path in the bot's document, plus peak_basis/currency/halt_modes
    # (statetui.core.roles); detection fills in what is not set here.
    fields: Annotated[dict[str, Any], _setting(_fields)] = Field(default_factory=dict)
    # Chain history (issue 14): where the history starts (a block, or a date), the high-water
    # mark policy ("adjust-flows": deposits raise it, withdrawals lower it; or "raw"), and the
    # history cache folder (default: the user's cache dir).
    history_from_block: Annotated[int | None, _setting(_opt_block)] = None
    history_since: Annotated[str | None, _setting(_opt_text)] = None
    hwm_policy: Annotated[str, _setting(_choice("adjust-flows", "raw"))] = "adjust-flows"
    chain_cache_dir: Annotated[Path | None, _setting(_dir_path)] = None
    # Off-site backups (issue 17): the raw [offsite] table and the URL from STATETUI_OFFSITE or
    # --offsite-url; statetui.core.offsite_config validates them where they are used.
    offsite_table: Annotated[dict[str, Any] | None, _setting(_opt_table)] = None
    offsite_url: Annotated[str | None, _setting(_opt_text)] = None
    # Notifications (issue 16): Apprise URLs, and when a run sends: "failure" (every run not
    # OK, and the one that recovers), "change" (the status differs from the last run's), "always".
    notify: Annotated[list[NotifyUrl], _setting(_notify_urls)] = Field(default_factory=list)
    notify_on: Annotated[str, _setting(_choice("failure", "change", "always"))] = "change"
    # How often `metrics --listen` reads each bot's chain cash in the background (a scrape never does).
    chain_refresh_interval: Annotated[float, _setting(_positive("seconds", 1e9))] = 3600.0
    # The console ([console] in the file): a Textual theme, and keys by binding id
    # ([console.keys], e.g. journal = "J"; `?` in the console lists the ids).
    theme: Annotated[str | None, _setting(_opt_text)] = None
    keys: Annotated[dict[str, str], _setting(_keys)] = Field(default_factory=dict)
    config_file: Annotated[Path | None, _setting(_dir_path)] = None

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
