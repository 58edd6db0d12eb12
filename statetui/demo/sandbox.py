"""The demo's sandbox folder: a state file written through the real store (so the
journal and backups are genuine), a config.toml pointing statetui at it, and the
files the demo's processes share.

    <root>/state/trading_state.json   the bot's state (+ .journal.jsonl, .lock)
    <root>/state/backups/             checksummed backups of various ages
    <root>/bot.pid                    the simulated bot's pid lock
    <root>/bot.log                    what the simulated bot printed
    <root>/config.toml                statetui's config for the sandbox (chain included)
    <root>/demo.json                  pids, URLs and commands of this demo run, incidents staged
    <root>/incident.NAME              created to make the bot stage incident NAME"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from statetui.core.config import Config, load_config
from statetui.core.errors import StatetuiError

# The funder address holding the demo's cash (EIP-55's own example address: owned by nobody real).
WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
# (id, title, what happens): every one a real failure, staged by the simulated bot's own hand.
INCIDENTS = (
    ("jan16", "Jan 16 false peak", "positions resolve unredeemed, the peak counts their $186, a false drawdown halts the bot"),
    ("corrupt", "corrupt state file", "a second writer without atomic replace is cut off mid-write: half a JSON file"),
    ("stale-lock", "stale lock", "the bot is killed (kill -9): its pid file stays, nobody holds its lock"),
    ("mismatch", "state/chain mismatch", "$40 leaves the wallet outside the bot: the state still counts it"),
)
INCIDENT_IDS = tuple(i[0] for i in INCIDENTS)


class DemoError(StatetuiError):
    """The demo cannot set up or run its sandbox."""


@dataclass
class Sandbox:
    root: Path
    temporary: bool
    wallet: str = WALLET

    @property
    def state(self) -> Path:
        return self.root / "state" / "trading_state.json"

    @property
    def backups(self) -> Path:
        return self.root / "state" / "backups"

    @property
    def pid_file(self) -> Path:
        return self.root / "bot.pid"

    @property
    def bot_log(self) -> Path:
        return self.root / "bot.log"

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    @property
    def manifest(self) -> Path:
        return self.root / "demo.json"

    def trigger(self, incident: str = "jan16") -> Path:
        return self.root / f"incident.{incident}"

    def config(self) -> Config:
        """The sandbox's config alone: the user's STATETUI_* variables (a real RPC, a real
        state file) must not leak into the demo."""
        return load_config({}, env={}, config_file=self.config_path)


def create_sandbox(directory: str | os.PathLike[str] | None = None, created: Callable[[Sandbox], None] | None = None) -> Sandbox:
    """A temporary sandbox, or `directory` (kept): reused when it holds a demo state,
    created when it is missing or empty, refused otherwise (never clobber a user's files).
    `created` is told the temporary folder as soon as it exists, before it is filled: a
    terminal lost meanwhile must still remove it."""
    from statetui.testing.scenarios import _age_backups as age_backups, healthy

    if directory is None:
        sb = Sandbox(Path(tempfile.mkdtemp(prefix="statetui-demo-")), temporary=True)
        if created is not None:
            created(sb)
    else:
        root = Path(directory).expanduser().absolute()
        sb = Sandbox(root, temporary=False)
        if sb.state.exists():
            return sb
        try:
            if root.exists() and any(root.iterdir()):
                raise DemoError(f"{root}: not empty and holds no demo sandbox; choose a new or empty folder for --dir")
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DemoError(f"{root}: cannot create the demo sandbox ({exc.strerror or exc})") from None
    # A bot that has traded for a while through the store: journal, daily backups 27 h and
    # 51 h old, and the store's own automatic backup from 3 h ago (the audit sees it automated).
    sc = healthy(sb.root, backups_ages_h=(27.0, 51.0))
    sc.store.backup(reason="auto")
    age_backups(sc, (3.0,))  # the newest: the one just taken
    return sb


def write_config(sb: Sandbox, rpc_url: str) -> None:
    """config.toml for the sandbox; paths relative to it, so the folder can be moved."""
    bot_source = Path(__file__).with_name("bot.py")
    lines = [
        "# statetui demo sandbox (made by `statetui demo`): a simulated bot and a local chain.",
        f"# Try: statetui --config {_q(str(sb.config_path))} audit",
        'state = "state/trading_state.json"',
        'backup_dir = "state/backups"',
        'pid_file = "bot.pid"',
        f"bot_source = {_q(str(bot_source))}",
        "",
        "[chain]",
        f"rpc_url = {_q(rpc_url)}",
        f"wallet = {_q(sb.wallet)}",
        "chain_id = 137",
        "",
    ]
    _write(sb.config_path, "\n".join(lines))


def write_manifest(sb: Sandbox, data: dict[str, Any]) -> None:
    _write(sb.manifest, json.dumps(data, indent=2) + "\n")


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    try:
        return json.loads((Path(root) / "demo.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def sandbox_of(config: Config) -> Sandbox | None:
    """The demo sandbox a config belongs to (the console uses it to offer the incident)."""
    if config.config_file is None:
        return None
    root = Path(config.config_file).parent
    manifest = read_manifest(root)
    if manifest is None:
        return None
    return Sandbox(root, bool(manifest.get("temporary")), manifest.get("wallet") or WALLET)


def trigger_incident(target: Sandbox | Config, incident: str = "jan16") -> Path:
    """Ask the running simulated bot to stage the incident (it looks for this file every
    tick) and note it in the manifest (the console labels the demo with it)."""
    if incident not in INCIDENT_IDS:
        raise DemoError(f"unknown incident {incident!r} (known: {', '.join(INCIDENT_IDS)})")
    sb = target if isinstance(target, Sandbox) else sandbox_of(target)
    if sb is None:
        raise DemoError("not a demo sandbox: incidents are staged only by `statetui demo`")
    path = sb.trigger(incident)
    path.touch()
    manifest = read_manifest(sb.root)
    if manifest is not None:
        manifest["staged"] = [*manifest.get("staged", []), incident]
        write_manifest(sb, manifest)
    return path


def remove_sandbox(sb: Sandbox) -> bool:
    """Delete a temporary sandbox; a --dir sandbox is kept. True when removed."""
    if not sb.temporary:
        return False
    shutil.rmtree(sb.root, ignore_errors=True)
    return not sb.root.exists()


def _q(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


def _write(path: Path, text: str) -> None:
    from statetui.core.outfile import write_output

    write_output(path, text, "demo file")  # private temp, fsync, never through a link
