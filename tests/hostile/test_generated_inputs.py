"""Generated hostile file contents through the real CLI: state documents (hostile strings,
numbers JSON can spell and Python cannot hold, odd shapes, CRLF, duplicate keys), journal
lines of every wrong shape, and backup files with hostile names, contents and kinds. Every
read verb that touches them runs; the state is judged by an independent oracle
(statetui.testing.corpus.oracle), the journal by its documented entry shape. Always: the exit
code from the table, errors as one line naming the file, no traceback, nothing written,
nothing on the terminal it would obey."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from statetui.testing import corpus, scenarios
from tests.hostile.harness import Case, Tally, changes, judge, run_cases, snapshot
from tests.hostile.inputs_gen import BACKUP_CONTENTS, BACKUP_NAMES, journal_line, state_inputs
from tests.hostile.sizes import SIZES, seed
from tests.reliability.figures import publish


def _sandbox(tmp_path: Path) -> scenarios.Scenario:
    return scenarios.healthy(tmp_path / "bot")


def _common(sc: scenarios.Scenario) -> list[str]:
    return ["--state", str(sc.state), "--backup-dir", str(sc.backups), "--pid-file", str(sc.root / "bot.pid")]


def _unchanged(root: Path, before: dict):
    def check(problems: list[str]) -> list[str]:
        return problems + [f"disk: {c}" for c in changes(before, snapshot(root))]
    return check


def test_generated_state_contents(tmp_path):
    s = seed()
    rng = random.Random(s + 4)
    sc = _sandbox(tmp_path)
    common = _common(sc)
    tally = Tally()
    per_input = 5
    inputs = state_inputs(rng, max(1, SIZES["state_contents"] // per_input))
    # and a sample of the store suite's broken-state corpus (truncations, bit flips, encodings...)
    broken = [(f"corpus: {c.name}", c.data) for c in corpus.build(s, truncations="97", flips=40, huge_mb=1) if c.data is not None]
    inputs += rng.sample(broken, min(len(broken), max(1, SIZES["state_contents"] // per_input // 2)))
    for k, (name, raw) in enumerate(inputs):
        expect, _field = corpus.oracle(raw)
        loads = expect == corpus.OK
        sc.state.write_bytes(raw)
        before = snapshot(sc.root)
        keep = _unchanged(sc.root, before)
        cases = [
            Case(f"show: {name}", ["show", *common], {},
                 lambda r: keep(judge(r, 0, error_line=False) if loads else judge(r, 4, names=[str(sc.state)])), sc.root),
            Case(f"show --json: {name}", ["show", "--json", *common], {},
                 lambda r, raw=raw: keep(_same_document(r, raw) if loads else judge(r, 4, names=[str(sc.state)])), sc.root),
            Case(f"verify: {name}", ["verify", *common], {},
                 lambda r: keep(judge(r, 0, error_line=False) if loads else judge(r, 4, names=[str(sc.state)])), sc.root),
            Case(f"audit state-file: {name}", ["audit", "--check", "state-file", *common], {},
                 lambda r: keep(judge(r, {0, 1, 2, 3}, error_line=False)), sc.root),
            Case(f"repair recompute-peak: {name}", ["repair", "recompute-peak", *common], {},
                 lambda r: keep(judge(r, {0, 5} if loads else {4}, error_line=None)), sc.root),
        ]
        run_cases("state contents", cases, tally, s + k, subprocess_every=SIZES["subprocess_every"], workers=1)
    publish("hostile_input-state_contents", {"cases": sum(tally.by_surface.values()), "inputs": len(inputs),
                                             "subprocess": tally.subprocess, "problems": len(tally.problems), "seed": s})
    assert not tally.problems, "\n\n".join(tally.problems[:10])


def _same_document(res, raw: bytes) -> list[str]:
    problems = judge(res, 0, error_line=False)
    if not problems:
        shown = json.loads(res.out)["state"]
        if shown != json.loads(raw):
            problems.append("show --json does not give the document back")
    return problems


def test_generated_journal_lines(tmp_path):
    from statetui.core.limits import LIMITS

    s = seed()
    rng = random.Random(s + 5)
    sc = _sandbox(tmp_path)
    common = _common(sc)
    journal = sc.state.with_name("trading_state.journal.jsonl")
    original = journal.read_bytes().splitlines()
    tally = Tally()
    per_input = 5
    for i in range(max(1, SIZES["journal_lines"] // per_input)):
        lines = list(original)
        bad_numbers = []
        names = []
        for _ in range(rng.randint(1, 3)):
            name, line, is_entry = journal_line(rng, LIMITS.journal_line_bytes)
            lines.insert(rng.randint(0, len(lines)), (line, is_entry, name))
            names.append(name)
        data = b""
        for n, item in enumerate(lines, 1):
            line, is_entry = (item, True) if isinstance(item, bytes) else item[:2]
            data += line + b"\n"
            if not is_entry and line.strip():
                bad_numbers.append(n)
        journal.write_bytes(data)
        before = snapshot(sc.root)
        keep = _unchanged(sc.root, before)
        label = f"journal {i}: {', '.join(names)}"

        def warned(res, bad=tuple(bad_numbers)):
            problems = judge(res, 0, error_line=False, warnings=bool(bad))
            shown = sorted(int(line.split(f"{journal}:", 1)[1].split(":", 1)[0]) for line in res.err_lines
                           if line.startswith(f"statetui: warning: {journal}:") and "more unreadable" not in line)
            if len(bad) <= 5 and shown != list(bad):
                problems.append(f"warned about lines {shown}, the bad ones are {list(bad)}")
            return keep(problems)

        def listed(res, bad=tuple(bad_numbers)):
            problems = judge(res, 0, error_line=False, warnings=bool(bad))
            listed_lines = [b["line"] for b in json.loads(res.out)["bad_lines"]] if not problems else None
            if not problems and listed_lines != list(bad):
                problems.append(f"journal --json lists bad lines {listed_lines}, the bad ones are {list(bad)}")
            return keep(problems)

        cases = [
            Case(f"journal: {label}", ["journal", "-n", "0", *common], {}, warned, sc.root),
            Case(f"journal --json: {label}", ["journal", "--json", *common], {}, listed, sc.root),
            Case(f"show: {label}", ["show", *common], {}, lambda r: keep(judge(r, 0, error_line=False)), sc.root),
            Case(f"repair recompute-peak: {label}", ["repair", "recompute-peak", *common], {},
                 lambda r: keep(judge(r, 0, error_line=False)), sc.root),
            Case(f"audit: {label}", ["audit", "--check", "state-file", "--check", "peak-drawdown", *common], {},
                 lambda r: keep(judge(r, {0, 1, 2, 3}, error_line=False)), sc.root),
        ]
        run_cases("journal lines", cases, tally, s + i, subprocess_every=SIZES["subprocess_every"], workers=1)
    publish("hostile_input-journal_lines", {"cases": sum(tally.by_surface.values()), "subprocess": tally.subprocess,
                                            "problems": len(tally.problems), "seed": s})
    assert not tally.problems, "\n\n".join(tally.problems[:10])


def test_generated_backup_files(tmp_path):
    s = seed()
    rng = random.Random(s + 6)
    template = _sandbox(tmp_path / "template")
    tally = Tally()
    per_input = 6
    for i in range(max(1, SIZES["backup_files"] // per_input)):
        root = tmp_path / f"b{i}"
        shutil.copytree(template.root, root, symlinks=True)
        sc = scenarios.Scenario(root, root / "state" / "trading_state.json", root / "state" / "backups", template.store)
        common = _common(sc)
        planted = []
        for _ in range(rng.randint(1, 3)):
            name, (what, make) = rng.choice(BACKUP_NAMES), rng.choice(list(BACKUP_CONTENTS.items()))
            p = sc.backups / name
            if p.exists() or p.is_symlink():
                continue
            make(p)
            planted.append((name, what))
        label = f"backups {i}: " + ", ".join(f"{n[:24]!r} {w}" for n, w in planted)
        before = snapshot(root)
        keep = _unchanged(root, before)
        first = planted[0][0] if planted else "x.json"
        cases = [
            Case(f"backups: {label}", ["backups", *common], {}, lambda r: keep(judge(r, 0, error_line=False)), root),
            Case(f"backups --json: {label}", ["backups", "--json", *common], {}, lambda r: keep(judge(r, 0, error_line=False)), root),
            Case(f"verify: {label}", ["verify", *common], {}, lambda r, d=str(sc.backups): keep(_verify_lines(r, d)), root),
            Case(f"restore latest --plan: {label}", ["restore", "latest", "--plan", *common], {},
                 lambda r: keep(judge(r, {0}, error_line=False)), root),
            Case(f"restore <planted> --plan: {label}", ["restore", "--plan", *common, "--", first], {},
                 lambda r: keep(judge(r, {0, 4, 5}, error_line=None)), root),
            Case(f"audit backups: {label}", ["audit", "--check", "backups", *common], {},
                 lambda r: keep(judge(r, {0, 1, 2, 3}, error_line=False)), root),
        ]
        run_cases("backup files", cases, tally, s + i, subprocess_every=SIZES["subprocess_every"], workers=1)
    publish("hostile_input-backup_files", {"cases": sum(tally.by_surface.values()), "subprocess": tally.subprocess,
                                           "problems": len(tally.problems), "seed": s})
    assert not tally.problems, "\n\n".join(tally.problems[:10])


def _verify_lines(res, backups_dir: str) -> list[str]:
    """verify: exit 0, or 4 with one error line per bad backup, each naming it."""
    problems = judge(res, {0, 4}, error_line=False) if res.code == 0 else \
        [p for p in judge(res, {0, 4}, error_line=None) if "error lines on stderr" not in p]
    if res.code == 4:
        errors = [ln for ln in res.err_lines if ln.startswith("statetui: error: ")]
        if not errors or any(backups_dir not in ln for ln in errors):
            problems.append(f"verify's errors do not each name a backup: {errors[:3]}")
    return problems
