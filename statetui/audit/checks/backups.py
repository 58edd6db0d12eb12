"""backups: present, fresh, pruned, checksums verify, restorable, gitignored, automated."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from statetui.audit.base import AuditContext, Report, register
from statetui.audit.checks.offsite_backups import OffsiteProbe
from statetui.audit.checks.state_file import backups_summary, sandbox_root, store_for
from statetui.core.errors import StatetuiError
from statetui.core.store import StateStore



@register("backups", "Backup Strategy")
def check(ctx: AuditContext, report: Report) -> None:
    cfg = ctx.config
    store = store_for(ctx)
    offsite = OffsiteProbe(ctx, store.path.stem)  # lists the bucket while the local part runs
    s = backups_summary(ctx, store)  # counts and the few backups that matter, not one object per backup
    newest = s.newest[0] if s.newest else None
    report.data["backups"] = {"count": s.count, "good": s.good, "dir": str(store.backups.dir),
                              "newest_age_s": newest.age_s(ctx.now) if newest else None}
    if newest is None:
        report.warn("No backup files detected: state corruption = permanent data loss")
        report.recommend("Take a backup now (statetui backup) and daily from a timer (examples/)")
        report.repair("backup-now")
    else:
        report.ok(f"{s.count} backup(s) found ({s.ours} checksummed by statetui, {s.count - s.ours} hand-made)")
        newest_h = newest.age_s(ctx.now) / 3600
        if newest_h > cfg.backup_max_age_hours:
            report.warn(f"newest backup is {newest_h:.1f} h old (limit {cfg.backup_max_age_hours:g} h)")
            report.repair("backup-now")
        else:
            report.ok(f"newest backup is {newest_h:.1f} h old")
        bad_sum = [b for b in s.failed if b.checksum == "bad"]
        for b in bad_sum:
            report.fail(f"checksum mismatch: {b.error}", file=str(b.path))
        for b in s.failed:
            if b.checksum != "bad" and not b.valid:
                report.warn(f"backup does not load: {b.error}", file=str(b.path))
        if s.failed_count > len(s.failed):
            report.fail(f"{s.failed_count} backups fail verification in all (the newest {len(s.failed)} above; "
                        "statetui verify lists every one)")
        if bad_sum or s.failed_count > len(s.failed):
            report.recommend("A backup whose checksum fails is corrupt: do not restore it; take a fresh backup")
            report.repair("backup-now")
        if s.ok:
            report.ok("every backup verifies (checksum and content)")
        old = s.old_unpruned(cfg.keep_min, cfg.retention_days * 86400, ctx.now)
        if old:
            report.warn(f"{old} backup(s) older than {cfg.retention_days} days not pruned")
            report.recommend(f"Keep the last {cfg.retention_days} days of backups (statetui prune)")
            report.repair("prune-backups")
        if s.good == 1:
            report.warn("only one good backup: one corruption away from none")
            report.repair("backup-now")
    if s.quarantined:
        report.info(f"{s.quarantined} damaged state file(s) kept as quarantine (evidence, not backups), "
                    f"newest {s.newest_quarantine}")
    if s.good and ctx.config.read_only:  # read-only writes nothing, not even a sandbox
        report.info("restore test not run: read-only mode writes nothing, not even a sandbox")
    elif s.good:
        _restore_test(s.newest_good[0], report)
    _gitignore(store.path, report)
    _automation(store, s, ctx, report)
    offsite.report(report)
    if newest is not None and report.worst().rank == 0:
        report.summary = f"{s.count} backup(s), newest {newest.age_s(ctx.now) / 3600:.1f} h old, all verify, automated"


def _restore_test(newest, report: Report) -> None:
    with tempfile.TemporaryDirectory(prefix="statetui-restore-test-", dir=sandbox_root()) as tmp:
        folder = Path(tmp)
        (folder / "backups").mkdir()
        shutil.copy2(newest.path, folder / "backups" / newest.name)
        sandbox = StateStore(folder / "trading_state.json", backup_dir=folder / "backups", auto_backup_interval=None)
        try:
            sandbox.restore(newest.name)
            sandbox.load()
            report.ok(f"restore test: {newest.name} restores and loads in a sandbox")
        except StatetuiError as exc:
            report.fail(f"restore test failed for {newest.name}: {exc}")


def _gitignore(state: Path, report: Report) -> None:
    top = next((p for p in [state.parent, *state.parent.parents] if (p / ".git").exists()), None)
    if top is None:
        return
    if shutil.which("git") is None:
        report.info(f"state is inside a git work tree ({top}) but git is not installed to check .gitignore")
        return
    res = subprocess.run(["git", "-C", str(top), "check-ignore", "-q", str(state)], capture_output=True, timeout=5)
    if res.returncode == 0:
        report.ok("State files gitignored (balances won't be committed)")
    elif res.returncode == 1:
        report.warn(f"state file is inside a git work tree ({top}) and NOT ignored: it could be committed")
        report.recommend(f"Add {state.relative_to(top)} and its backups/journal to .gitignore")


def _automation(store: StateStore, summary, ctx: AuditContext, report: Report) -> None:
    found = []
    auto, more = summary.auto_since(ctx.now - 2 * 86400)
    if auto:
        found.append(f"the store's automatic backups ({'at least ' if more else ''}{auto} in the last 48 h)")
    # Only lines that name statetui or this state file count: dpkg's own backups do not.
    words = ("statetui", store.path.name, store.path.stem)
    from statetui.core.scanmemo import memoized

    cron_text = memoized(("cron_text",), _cron_text)
    if any(w in cron_text for w in words):
        found.append("a crontab line")
    timers = _timers(words)
    if timers:
        found.append(f"systemd timer(s): {', '.join(timers)}")
    if found:
        report.ok("backup automation: " + "; ".join(found))
    else:
        report.warn("No automated backup system detected (no crontab line, no systemd timer, no store auto-backups)")
        report.recommend("Install the daily backup timer from examples/systemd/ (or the cron line in examples/cron)")


def _cron_text() -> str:
    parts = []
    if shutil.which("crontab"):
        try:
            res = subprocess.run(["crontab", "-l"], capture_output=True, text=True, timeout=5)
            parts.append(res.stdout)
        except (OSError, subprocess.SubprocessError):
            pass
    for path in ["/etc/crontab", *glob.glob("/etc/cron.d/*"), *glob.glob("/etc/cron.daily/*")]:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                parts.append(f.read(65536))
        except OSError:
            continue
    return "\n".join(parts)


def _timers(words: tuple[str, ...]) -> list[str]:
    from statetui.core.scanmemo import memoized

    return sorted({name for name, text in memoized(("timer_texts",), _timer_texts) if any(w in text for w in words)})


def _timer_texts() -> list[tuple[str, str]]:
    """(timer file name, its text and its service's) for every systemd timer unit."""
    found = []
    for folder in ("/etc/systemd/system", os.path.expanduser("~/.config/systemd/user")):
        for path in glob.glob(os.path.join(folder, "**", "*.timer"), recursive=True):
            try:
                service = Path(path).with_suffix(".service")
                text = Path(path).read_text(errors="replace") + (service.read_text(errors="replace") if service.exists() else "")
            except OSError:
                continue
            found.append((Path(path).name, text))
    return found
