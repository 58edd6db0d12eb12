"""The off-site part of the backups check: how old the newest off-site backup is and, when
asked (`statetui audit --offsite`), a restore test from it: downloaded, verified and restored
into a sandbox store, never the live file.

The bucket is listed in a thread started when the backups check starts, so the round trip
overlaps the local verification and restore test."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import Any

from statetui.audit.base import AuditContext, Report
from statetui.core.errors import ConfigError, StatetuiError

PUSH_ADVICE = "Push backups off-site weekly: [offsite] url = \"s3://BUCKET/PREFIX\", then `statetui backup --offsite` from a timer (examples/)"


class OffsiteProbe:
    """Lists the bucket in the background; `report()` adds the findings."""

    def __init__(self, ctx: AuditContext, state_stem: str) -> None:
        self.ctx = ctx
        self.stem = state_stem
        self.settings: Any = None
        self.remote: Any = None
        self.backups: list | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        if ctx.offsite == "skip":
            return
        from statetui.core.offsite_config import offsite_settings

        try:
            self.settings = offsite_settings(ctx.config, required=False)
        except ConfigError as exc:
            self.error = f"off-site settings are invalid: {exc}"
            return
        if self.settings is not None:
            self._thread = threading.Thread(target=self._list, name="statetui-offsite-list", daemon=True)
            self._thread.start()

    def _list(self) -> None:
        from statetui.core.offsite import OffsiteStore

        try:
            self.remote = OffsiteStore(self.settings, self.stem)
            self.backups = self.remote.list()
        except StatetuiError as exc:
            self.error = str(exc)
        except Exception as exc:  # a bug must not hang or kill the audit
            self.error = f"{type(exc).__name__}: {exc}"

    def report(self, report: Report) -> None:
        if self.ctx.offsite == "skip":
            return
        if self.settings is None and self.error is None:
            report.info("off-site backups are not configured: a lost VPS loses the state and its backups together")
            report.recommend(PUSH_ADVICE)
            return
        if self._thread is not None:
            self._thread.join(self.settings.timeout * 3 + 5)
        data: dict[str, Any] = {"url": self.settings.public_dict()["url"] if self.settings else None,
                                "count": None, "newest_age_s": None, "restore_test": None}
        report.data["offsite"] = data
        if self.error is not None or self.backups is None:
            report.warn(f"off-site backups cannot be checked: {self.error or 'listing did not finish'}")
            return
        data["count"] = len(self.backups)
        where = self.settings.where()
        if not self.backups:
            report.warn(f"no off-site backup of {self.stem} in {where}")
            report.recommend(PUSH_ADVICE)
            return
        newest = self.backups[0]
        days = newest.age_s(self.ctx.now) / 86400
        data["newest_age_s"] = round(newest.age_s(self.ctx.now), 1)
        limit = self.settings.max_age_days
        if days > limit:
            report.warn(f"newest off-site backup is {days:.1f} days old (limit {limit:g} days): {newest.name}")
            report.recommend("Push to off-site now (statetui backup --offsite) and check its timer (examples/systemd/)")
        else:
            report.ok(f"newest off-site backup is {days:.1f} days old ({len(self.backups)} in {where})")
        if self.ctx.offsite == "restore-test":
            data["restore_test"] = self._restore_test(newest, report)

    def _restore_test(self, newest: Any, report: Report) -> str:
        from statetui.audit.checks.state_file import sandbox_root
        from statetui.core.store import StateStore

        try:
            with self.remote.fetched(newest) as info, \
                    tempfile.TemporaryDirectory(prefix="statetui-offsite-test-", dir=sandbox_root()) as tmp:
                sandbox = StateStore(Path(tmp) / f"{self.stem}.json", backup_dir=Path(tmp) / "backups",
                                     auto_backup_interval=None, fields=self.ctx.config.fields)
                sandbox.restore(info)
                sandbox.load()
        except StatetuiError as exc:
            report.fail(f"off-site restore test failed: {exc}")
            return "failed"
        report.ok(f"off-site restore test: {newest.name} downloads, verifies and loads in a sandbox")
        return "ok"
