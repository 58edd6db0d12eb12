"""Effective configuration: TOML file < STATETUI_* environment < command-line flags.

Paths in the config file are relative to the file's directory; paths from the
environment and flags are relative to the working directory."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, asdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

from statetui.core.errors import ConfigError

PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
USDC_E = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"
CTF = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
DEFAULT_STATE = "state/trading_state.json"
DEFAULT_PID_FILE = "/tmp/polymarket-bot.pid"


@dataclass
class Config:
    state: Path = Path(DEFAULT_STATE)
    backup_dir: Path | None = None  # None: backups/ beside the state file
    bot_source: Path | None = None
    pid_file: Path = Path(DEFAULT_PID_FILE)
    process_pattern: str | None = None
    systemd_unit: str | None = None
    # Also match the unit's ExecStart and the entry point in bot_source when looking for the bot.
    detect_bot_command: bool = True
    halt_threshold: Decimal = Decimal("0.30")
    backup_max_age_hours: float = 24.0
    retention_days: int = 30
    keep_min: int = 10
    stale_peak_days: float = 7.0
    auto_backup_interval: float = 3600.0
    rpc_url: str | None = None
    chain_id: int = 137
    wallet: str | None = None
    tokens: list[str] = field(default_factory=lambda: [PUSD, USDC_E])
    ctf_address: str = CTF
    mismatch_threshold: Decimal = Decimal("1.00")
    rpc_timeout: float = 10.0
    read_only: bool = False
    # role -> path in the bot's document, plus peak_basis/currency/halt_modes (statetui.core.roles);
    # detection fills in what is not set here
    fields: dict[str, Any] = field(default_factory=dict)
    # Chain history (issue 14): where the history starts (a block, or a date), the
    # high-water mark policy ("adjust-flows": deposits raise it, withdrawals lower it; or
    # "raw"), and the history cache folder (default: the user's cache dir).
    history_from_block: int | None = None
    history_since: str | None = None
    hwm_policy: str = "adjust-flows"
    chain_cache_dir: Path | None = None
    config_file: Path | None = None
    # Off-site backups (issue 17): the raw [offsite] table and the URL from STATETUI_OFFSITE or
    # --offsite-url; statetui.core.offsite_config validates them where they are used.
    offsite_table: dict[str, Any] | None = None
    offsite_url: str | None = None

    @property
    def backups(self) -> Path:
        return self.backup_dir if self.backup_dir is not None else self.state.parent / "backups"

    @property
    def chain_configured(self) -> bool:
        return bool(self.rpc_url and self.wallet)

    def public_dict(self) -> dict[str, Any]:
        """The configuration as plain JSON values, with credentials in the RPC URL redacted."""
        from statetui.core.redact import redact_url

        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, Decimal):
                value = str(value)
            out[key] = value
        out["backup_dir"] = str(self.backups)
        out["rpc_url"] = redact_url(self.rpc_url) if self.rpc_url else None
        from statetui.core.offsite_config import public_offsite

        del out["offsite_table"], out["offsite_url"]
        out["offsite"] = public_offsite(self)
        return out


_PATH_KEYS = {"state", "backup_dir", "bot_source", "pid_file", "chain_cache_dir"}
_ENV = {
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
    "STATETUI_HISTORY_FROM_BLOCK": "history_from_block",
    "STATETUI_HISTORY_SINCE": "history_since",
    "STATETUI_HWM_POLICY": "hwm_policy",
    "STATETUI_CHAIN_CACHE_DIR": "chain_cache_dir",
    "STATETUI_OFFSITE": "offsite_url",
}
_FIELD_TYPES = {f.name: f for f in fields(Config)}


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("statetui")) / "config.toml"


def _coerce(key: str, value: Any, source: str, base: Path | None = None) -> Any:
    if key not in _FIELD_TYPES or key in ("config_file", "offsite_table"):
        raise ConfigError(f"{source}: unknown setting {key!r}")
    if value is None:
        return None
    try:
        if key in _PATH_KEYS:
            p = Path(os.path.expanduser(str(value)))
            return (base / p) if (base is not None and not p.is_absolute()) else p
        if key in ("halt_threshold", "mismatch_threshold"):
            d = Decimal(str(value))
            if not d.is_finite() or d < 0:
                raise ValueError("must be a non-negative number")
            if key == "halt_threshold" and d > 1:
                d = d / 100  # "30" means 30 %
            return d
        if key == "hwm_policy":
            if str(value) not in ("adjust-flows", "raw"):
                raise ValueError("must be adjust-flows or raw")
            return str(value)
        if key == "history_from_block":
            if isinstance(value, bool) or int(str(value), 0) < 0:
                raise ValueError("must be a block number")
            return int(str(value), 0)
        if key in ("chain_id", "retention_days", "keep_min"):
            if isinstance(value, bool):
                raise ValueError("must be a whole number")
            return int(str(value), 0) if isinstance(value, str) else int(value)
        if key in ("backup_max_age_hours", "stale_peak_days", "auto_backup_interval", "rpc_timeout"):
            f = float(value)
            if not f > 0:
                raise ValueError("must be a positive number")
            return f
        if key in ("read_only", "detect_bot_command"):
            if isinstance(value, bool):
                return value
            s = str(value).strip().lower()
            if s in ("1", "true", "yes", "on"):
                return True
            if s in ("0", "false", "no", "off", ""):
                return False
            raise ValueError("must be true or false")
        if key == "fields":
            return _fields(value, source)
        if key == "tokens":
            items = value.split(",") if isinstance(value, str) else list(value)
            return [str(t).strip() for t in items if str(t).strip()]
        return str(value)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise ConfigError(f"{source}: bad value for {key}: {value!r} ({exc})") from None


def _fields(value: Any, source: str) -> dict[str, Any]:
    """A [fields] table, or --field ROLE=PATH values (a list of strings)."""
    from statetui.core.roles import RolePathError, parse_field_overrides

    if isinstance(value, (list, tuple)):
        table: dict[str, Any] = {}
        for item in value:
            role, sep, path = str(item).partition("=")
            if not sep or not role.strip():
                raise ConfigError(f"{source}: expected ROLE=PATH (e.g. cash=account.cash), got {item!r}")
            table[role.strip()] = path.strip()
        value = table
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [fields] must be a table of role = \"path\"")
    try:
        return parse_field_overrides(value, source)
    except RolePathError as exc:
        raise ConfigError(str(exc)) from None


def load_config(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> Config:
    """Build the effective config. `flags` holds only the flags the user gave."""
    env = os.environ if env is None else env
    flags = dict(flags or {})
    explicit = config_file or flags.pop("config", None) or env.get("STATETUI_CONFIG")
    path = Path(explicit) if explicit else default_config_path()
    values: dict[str, Any] = {}
    if path.exists() or explicit:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read config file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML ({exc})") from None
        chain = raw.pop("chain", {})
        if not isinstance(chain, dict):
            raise ConfigError(f"{path}: [chain] must be a table")
        offsite = raw.pop("offsite", None)
        if offsite is not None and not isinstance(offsite, dict):
            raise ConfigError(f"{path}: [offsite] must be a table")
        values["offsite_table"] = offsite
        for key, value in {**raw, **chain}.items():
            values[key] = _coerce(key, value, str(path), base=path.parent)
        values["config_file"] = path
    for name, key in _ENV.items():
        if name in env and env[name] != "":
            values[key] = _coerce(key, env[name], f"environment {name}")
    for key, value in flags.items():
        if value is not None:
            coerced = _coerce(key, value, f"--{key.replace('_', '-')}" if key != "fields" else "--field")
            values[key] = {**values.get(key, {}), **coerced} if key == "fields" else coerced
    return Config(**values)
