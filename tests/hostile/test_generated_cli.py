"""Generated hostile command lines through the real CLI: option values of every kind for the
options that take one, unknown options and verbs, missing values, odd paths for --state, odd
backup names for restore, odd ids for repair and audit --check. Judged by the suite's rules:
the exit code from the table, one line on stderr naming the option or file, no traceback, no
control character on the terminal, nothing on disk changed (creating verbs aside)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from statetui.testing import scenarios
from tests.hostile.harness import Case, Tally, changes, judge, run_cases, snapshot
from tests.hostile.sizes import SIZES, seed
from tests.reliability.figures import publish

NUMBERS = ["-1", "0", "5", "abc", "1e3", "99999999999999999999", "", " 5", "5.5", "nan", "inf", "-0", "0x10", "\u0665",
           "1_000", "+3", "--", "1" * 5000]
TEXTS = ["", "x", "manual", "a" * 5000, "\u001b[2J", "[bold]x[/]", "../../etc/passwd", "*", "latest", "-", "é",
         "\u202e", "a\nb", "trading_state", "nope", "/", ".", "..", "%s%n", "$(id)"]
CHECKS = ["state-file", "persistence-code", "peak-drawdown", "recovery", "process-safety", "backups", "chain-reconcile"]


def _int_ok(text: str) -> bool:
    try:
        return int(text, 10) >= 0
    except ValueError:
        return False


def _days_ok(text: str) -> bool:
    try:
        v = float(text)
    except ValueError:
        return False
    return v == v and abs(v) != float("inf") and 0 <= v <= 1e6


def _balance_ok(text: str) -> bool:
    from decimal import Decimal, InvalidOperation

    try:
        d = Decimal(text)
    except InvalidOperation:
        return False
    return d.is_finite() and not d.is_signed() and d.adjusted() < 15


def generate(rng: random.Random, root: Path, n: int) -> list[tuple[str, list[str], set[int], list[str], bool]]:
    """(name, argv, exit codes, names the error must mention, may write) cases."""
    state = str(root / "state" / "trading_state.json")
    common = ["--state", state, "--pid-file", str(root / "bot.pid")]
    out = []
    for v in NUMBERS:
        out.append((f"journal --limit={v!r}", ["journal", f"--limit={v}", *common], {0} if _int_ok(v) else {2}, ["--limit"], False))
        out.append((f"prune --keep-days={v!r}", ["prune", "--dry-run", f"--keep-days={v}", *common],
                    {0} if _days_ok(v) else {2}, ["--keep-days"], False))
        out.append((f"prune --keep-min={v!r}", ["prune", "--dry-run", f"--keep-min={v}", *common],
                    {0} if _int_ok(v) else {2}, ["--keep-min"], False))
        fresh = str(root / "new" / f"s{len(out)}.json")
        out.append((f"init --balance={v!r}", ["init", f"--balance={v}", "--state", fresh], {0} if _balance_ok(v) else {2},
                    ["--balance"], True))
        out.append((f"repair init-state --balance={v!r}", ["repair", "init-state", f"--balance={v}", *common],
                    {2} if not _balance_ok(v) and v else {5}, ["--balance", "exists"], False))
        out.append((f"--chain-id={v!r} config", [f"--chain-id={v}", "config", *common], {0} if _chain_ok(v) else {2}, ["--chain-id"], False))
    for t in TEXTS:
        out.append((f"repair {t!r}", ["repair", t, *common] if not t.startswith("-") else ["repair", *common, "--", t],
                    {2}, ["unknown repair", "repair"], False))
        out.append((f"audit --check={t!r}", ["audit", f"--check={t}", *common], {0, 1, 2, 3} if t in CHECKS else {2},
                    ["unknown check"], False))
        out.append((f"audit --format={t!r}", ["audit", "--local", f"--format={t}", *common],
                    {0, 1, 2, 3} if t in ("text", "md", "json") else {2}, ["--format"], False))
        out.append((f"restore {t!r} --plan", ["restore", "--plan", *common, "--", t] if t.startswith("-") else
                    ["restore", t, "--plan", *common], {0, 2, 4, 5}, [], False))
        out.append((f"backup --reason={t!r}", ["backup", f"--reason={t}", *common], {0}, [], True))
        out.append((f"--state={t!r} show", ["show", f"--state={t}"], {2, 4}, [], False))
        out.append((f"verb {t!r}", [t, *common] if not t.startswith("-") else ["--", t], {2}, ["invalid choice", "argument"], False))
    for flag in ("--state", "--config", "--backup-dir", "--rpc-url", "--wallet", "--chain-id", "--pid-file"):
        out.append((f"{flag} without a value", ["show", flag], {2}, [flag], False))
    for junk in ("--no-such", "-z", "--state=", "--json=1", "---", "--read-only=yes"):
        out.append((f"option {junk!r}", ["show", *common, junk], {2}, [], False))
    for name in ("a" * 300, "dir/" * 200 + "x.json", "\u001b]0;x\u0007.json", "file.json/inner.json", "x\udcff.json"):
        out.append((f"odd --state {name[:30]!r}", ["show", "--state", str(root / name)], {2, 4}, [], False))
    rng.shuffle(out)
    again = [c for c in out if not c[4]]  # repeats only of cases that create nothing (an init twice finds its file)
    return out[:n] if n < len(out) else out + [rng.choice(again) for _ in range(n - len(out))]


def _chain_ok(v: str) -> bool:
    t = v.strip()
    try:
        n = int(t, 16) if t.lower().startswith("0x") else int(t, 10)
    except ValueError:
        return False
    return 1 <= n < 2**63


def test_generated_command_lines(tmp_path):
    s = seed()
    rng = random.Random(s + 3)
    template = tmp_path / "template"
    scenarios.healthy(template)
    root = tmp_path / "bot"
    shutil.copytree(template, root, symlinks=True)
    (root / "file.json").write_text("{}")
    tally = Tally()
    cases = []
    for name, argv, codes, names, writes in generate(rng, root, SIZES["cli_args"]):
        def check(res, codes=codes, names=names, writes=writes):
            if writes and res.how == "subprocess" and res.code == 4 and "already exists" in res.err:
                return judge(res, 4, error_line=True)  # the in-process run of the same case created it first
            return judge(res, codes, names=names if res.code in (2, 4, 5) and names else (), error_line=None)
        cases.append(Case(f"{name} (seed {s})", argv, {}, check, root))
    before = snapshot(root / "state")
    run_cases("command lines", cases, tally, s, subprocess_every=SIZES["subprocess_every"])
    # Only creating verbs wrote, and only what they create: backups, and init's new files.
    state_changes = [c for c in changes(before, snapshot(root / "state")) if "/backups/" not in c and not c.endswith("/backups")
                     and not c.endswith(".lock")]
    tally.fail("command lines: the state folder", state_changes)
    publish("hostile_input-command_lines", {"cases": sum(tally.by_surface.values()), "subprocess": tally.subprocess,
                                            "problems": len(tally.problems), "seed": s})
    assert not tally.problems, "\n\n".join(tally.problems[:10])
