"""The console's shared context: what every screen and panel reads (the latest views, the
audit, the config, the demo), and nothing else. Screens never import the app: they read
`self.app.ctx` and post messages (statetui.tui.messages) that the app routes. No Textual."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from statetui.core.config import Config
from statetui.tui.fmt import age

STATE_CHECKS = ("state-file", "peak-drawdown")


@dataclass
class AuditEntry:
    result: Any  # statetui.audit.base.CheckResult
    ran_at: float


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    story: str


@dataclass
class DemoInfo:
    """The console runs on `statetui demo`'s sandbox: its simulated bot can be stopped,
    restarted and made to stage an incident."""

    root: Path
    start: list[str]  # the command that starts the simulated bot
    log: str
    incidents: tuple[Incident, ...]
    staged: list[str] = field(default_factory=list)  # incidents staged so far, in order

    @property
    def label(self) -> str:
        if not self.staged:
            return "DEMO · calm bot"
        names = {i.id: i.title for i in self.incidents}
        return "DEMO · staged: " + names.get(self.staged[-1], self.staged[-1])

    @property
    def short_label(self) -> str:
        return f"DEMO · staged {self.staged[-1]}" if self.staged else "DEMO · calm"


def demo_of(config: Config) -> DemoInfo | None:
    if config.config_file is None:  # a demo sandbox always has its config file (no import for the rest)
        return None
    from statetui.demo.sandbox import INCIDENTS, read_manifest, sandbox_of

    sb = sandbox_of(config)
    if sb is None:
        return None
    manifest = read_manifest(sb.root) or {}
    bot = manifest.get("bot") or {}
    start = bot.get("start")
    if not isinstance(start, list) or not all(isinstance(a, str) for a in start):
        return None
    staged = manifest.get("staged") or []
    return DemoInfo(sb.root, start, str(bot.get("log") or sb.bot_log),
                    tuple(Incident(*i) for i in INCIDENTS), [s for s in staged if isinstance(s, str)])


class ConsoleContext:
    """The latest views. Only the app changes them (on the UI thread); `changed` (a Textual
    Signal the app sets) tells subscribers which kind changed."""

    def __init__(self, config: Config, now: Callable[[], float] | None = None):
        self.config = config
        self.now = now or time.time
        self.changed: Any = None
        self.state_view: Any = None  # data.StateView
        self.last_good: Any = None
        self.lock_view: Any = None  # botstatus.BotStatus
        self.backups_view: Any = None  # data.BackupsView
        self.whole_backups = False  # every backup listed (the backups screen is open), not the summary
        self.history_view: Any = None  # data.HistoryView
        self.chain_view: Any = None  # chain_data.ChainView
        self.chain_busy = False
        self.chain_progress: float | None = None  # the history scan's progress while it runs
        self.chain_witness: Any = None  # passed to the peak check once the chain was read
        self.audit: dict[str, AuditEntry] = {}
        self.audit_ids: list[str] = []
        self.audit_running: set[str] = set()
        self.live = False  # the files are watched
        self.state_updates = 0  # state views applied (tests and benchmarks wait on it)
        self.state_changed_at: float | None = None  # when the file last changed (sha or error)
        self.demo: DemoInfo | None = None
        self.incident_logs: list[str] = []  # incident logs written this session (printed on exit)
        self.stopping_bot = False
        self.recheck_pending = False  # the checks that read a changed file will re-run shortly

    # --- the audit ------------------------------------------------------------------

    def local_check_ids(self) -> list[str]:
        from statetui.audit.checks import NETWORK

        return [i for i in self.audit_ids if i not in NETWORK]

    def audit_overall(self) -> str | None:
        from statetui.audit.base import overall

        results = [e.result for e in self.audit.values()]
        return overall(results).value if results else None

    def status_of(self, cid: str) -> str | None:
        if cid in self.audit_running:
            return "RUNNING"
        entry = self.audit.get(cid)
        return entry.result.status.value if entry else None

    def stale_results(self) -> bool:
        """A check that reads the state file ran before its last change and is not about to
        run again (they re-run by themselves a second after the file settles)."""
        ran = [e.ran_at for cid, e in self.audit.items() if cid in STATE_CHECKS]
        return bool(ran) and self.state_changed_at is not None and min(ran) < self.state_changed_at \
            and not self.audit_running and not self.recheck_pending

    # --- the bot --------------------------------------------------------------------------

    @property
    def bot_running(self) -> bool | None:
        return None if self.lock_view is None else self.lock_view.running

    # --- time ------------------------------------------------------------------------------

    def ages_shown(self) -> list[float]:
        """Every age on screen, in seconds: when one of their labels changes, panels redraw."""
        now = self.now()
        out = []
        if self.state_view is not None and self.state_view.mtime is not None:
            out.append(now - self.state_view.mtime)
        if self.lock_view is not None and self.lock_view.running and self.lock_view.started_at:
            out.append(now - self.lock_view.started_at)
        if self.backups_view is not None and self.backups_view.infos:
            out.append(self.backups_view.infos[0].age_s(now))
            good = self.backups_view.newest_good
            if good is not None:
                out.append(good.age_s(now))
        if self.chain_view is not None:
            out.append(now - self.chain_view.at)
        return out


def next_age_change(seconds: float) -> float:
    """Seconds until the console's `age(seconds)` reads differently (at least 0.05 s): at a
    minute (below it, "<1m"); then the core's labels, which round to the nearest unit and
    so change half-way (90 s, 1.05 h...)."""
    if seconds < 60:
        return max(0.05, 60 - seconds + 0.01)
    step = 60.0 if seconds < 3600 else 360.0 if seconds < 172800 else 8640.0
    t = (math.floor((seconds - step / 2) / step) + 1) * step + step / 2 - seconds
    label = age(seconds)
    for extra in (0.01, 0.5, step / 2):  # the range edges (60 s, 1 h, 2 d) are not on the grid
        if age(seconds + t + extra) != label:
            return max(0.05, t + extra)
    return max(0.05, t)
