"""Notifications through Apprise (one URL form for Telegram, Discord, Slack, e-mail, JSON
webhooks ...): after `audit`, `reconcile` and `backup`, a message saying which bot, the
overall status, each failing check with its one-line summary, and the next step.

When to send is `notify_on`: "failure" (every run that is not OK, and the one that comes
back to OK), "change" (the status differs from the last run's, the first failure
included), "always". The last status per bot and verb lives in a small JSON file under
the user's state dir (written atomically; not in read-only mode).

A notifier that fails is reported, never raised: the caller prints the warnings and keeps
its own exit code. URLs are shown only redacted (statetui.core.redact), and what a service
answers is scrubbed of every part of its URL before it is shown."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from statetui.core.errors import ConfigError
from statetui.core.redact import NotifyUrl, redact_notify_text
from statetui.core.textsafe import one_line

OK = "OK"
MAX_STATE_BYTES = 64 * 1024
SEND_TIMEOUT_S = 15.0


@dataclass
class Outcome:
    """What one run of a verb found, in the words a message needs."""

    verb: str  # audit | reconcile | backup
    bot: str
    status: str  # OK, WARNING, FAIL, CRITICAL, or ERROR (the verb itself failed)
    headline: str = ""  # one line: what happened
    failing: list[tuple[str, str, str]] = field(default_factory=list)  # (check id, status, one-line summary)
    next_step: str | None = None  # a command
    state: str = ""
    key: str = ""  # what "the last run" means: the verb, and for an audit the checks it ran

    @property
    def run_key(self) -> str:
        return self.key or self.verb


def audit_outcome(bot: str, state: str, results: list[Any]) -> Outcome:
    """An audit's outcome from its CheckResults (statetui.audit.base)."""
    from statetui.core.fleet_status import RANK, repair_hint

    worst = max((RANK[r.status.value] for r in results), default=0)
    status = {0: OK, 1: "WARNING", 2: "FAIL", 3: "CRITICAL"}[worst]
    failing = [(r.id, r.status.value, one_line(r.summary)) for r in results if RANK[r.status.value] > 0]
    counts = f"{len(results) - len(failing)} of {len(results)} checks pass or skip"
    return Outcome("audit", bot, status, counts, failing, repair_hint(bot, results), state)


def targets(config: Any, extra: list[str] | None) -> list[NotifyUrl]:
    """The config's notify URLs and the --notify ones (checked like the config's)."""
    from statetui.core.setting_parsers import notify_urls
    from statetui.core.settings_model import SettingError

    try:
        added = notify_urls(list(extra or []))
    except SettingError as exc:
        raise ConfigError(f"--notify: expected {exc.expected or 'a notification URL'}") from None
    seen: list[NotifyUrl] = []
    for url in [*config.notify, *added]:
        if url not in seen:
            seen.append(url)
    return seen


def should_send(mode: str, previous: str | None, status: str) -> bool:
    if mode == "always":
        return True
    if mode == "failure":
        return status != OK or (previous is not None and previous != OK)
    return previous != status and not (previous is None and status == OK)  # change


def message(outcome: Outcome, previous: str | None) -> tuple[str, str]:
    """(title, body): plain text that reads the same in a chat, a mail or a JSON webhook."""
    was = f" (was {previous})" if previous and previous != outcome.status else ""
    title = f"statetui: {outcome.bot} {outcome.verb} {outcome.status}"
    lines = [f"bot: {outcome.bot}" + (f" ({outcome.state})" if outcome.state else ""),
             f"{outcome.verb}: {outcome.status}{was}" + (f" - {outcome.headline}" if outcome.headline else "")]
    lines += [f"- {check} {status}: {summary}" for check, status, summary in outcome.failing]
    if outcome.next_step:
        lines.append(f"next step: {outcome.next_step}")
    return title, "\n".join(lines)


def state_file(bot: str, state: str) -> Path:
    from platformdirs import user_state_dir

    key = hashlib.sha256(os.fsencode(os.path.abspath(state))).hexdigest()[:16]
    return Path(user_state_dir("statetui")) / "notify" / f"{bot}-{key}.json"


def last_status(bot: str, state: str, verb: str) -> str | None:
    from statetui.core.errors import StatetuiError
    from statetui.core.fsio import read_capped

    try:
        data = json.loads(read_capped(state_file(bot, state), "notification status", MAX_STATE_BYTES))
        value = data.get(verb, {}).get("status")
        return value if isinstance(value, str) else None
    except (OSError, StatetuiError, ValueError, AttributeError):
        return None


def remember(bot: str, state: str, verb: str, status: str) -> None:
    from statetui.core.errors import StatetuiError
    from statetui.core.fsio import read_capped
    from statetui.core.outfile import write_output

    path = state_file(bot, state)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        data = json.loads(read_capped(path, "notification status", MAX_STATE_BYTES))
        data = data if isinstance(data, dict) else {}
    except (OSError, StatetuiError, ValueError):
        data = {}
    data[verb] = {"status": status, "at": time.time()}
    write_output(path, json.dumps(data, indent=1) + "\n", "notification status")


def notify(config: Any, outcome: Outcome, urls: list[NotifyUrl]) -> list[str]:
    """Send if notify_on says so; remember the status. Returns warnings (one line each, redacted)."""
    if not urls:
        return []
    warnings: list[str] = []
    state = os.path.abspath(config.state)
    previous = last_status(outcome.bot, state, outcome.run_key)
    if should_send(config.notify_on, previous, outcome.status):
        title, body = message(outcome, previous)
        warnings += [w for url in urls if (w := send(url, title, body, outcome.status)) is not None]
    if not config.read_only:
        try:
            remember(outcome.bot, state, outcome.run_key, outcome.status)
        except Exception as exc:  # the notification status is a convenience; the run's result stands
            warnings.append(f"cannot remember the notification status: {one_line(str(exc))}")
    return warnings


def send(url: NotifyUrl, title: str, body: str, status: str) -> str | None:
    """One URL; None when it was delivered, else why not (redacted)."""
    import apprise

    kind = {OK: apprise.NotifyType.SUCCESS, "WARNING": apprise.NotifyType.WARNING}.get(status, apprise.NotifyType.FAILURE)
    sender = apprise.Apprise()
    if not sender.add(url.reveal()):
        return f"notify {url}: not a notification URL Apprise knows (see https://github.com/caronc/apprise/wiki)"
    with apprise.LogCapture(level=apprise.logging.WARNING) as log:
        try:
            delivered = sender.notify(body=body, title=title, notify_type=kind, timeout=SEND_TIMEOUT_S)
        except Exception as exc:  # a plugin's own bug must not cost the run its exit code
            delivered, reason = False, f"{type(exc).__name__}: {exc}"
        else:
            reason = log.getvalue().strip().splitlines()[-1] if log.getvalue().strip() else ""
    if delivered:
        return None
    reason = one_line(redact_notify_text(reason.split(" - ", 2)[-1], [url]))[:300] or "not delivered"
    return f"notify {url}: {reason}"
