"""Helpers for the persistence-review tests: write a small bot (a few lines per pattern,
written for these tests), review it, find lines by their `# audit: TAG` marker."""

from __future__ import annotations

import textwrap
from pathlib import Path

from statetui.audit.base import REGISTRY, AuditContext, CheckResult, run_check
from statetui.audit.checks import load
from statetui.audit.review import review
from statetui.audit.review.model import Review
from statetui.core.config import Config

STATE = "bot_state.json"


def write_bot(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def review_bot(root: Path, files: dict[str, str] | None = None, state: str = STATE, **kw) -> Review:
    if files:
        write_bot(root, files)
    return review(root, Path("/srv/bot") / state, **kw)


def run(source: Path | None, include_tests: bool = False, **config) -> CheckResult:
    load(["persistence-code"])
    ctx = AuditContext(config=Config(bot_source=source, **config), include_tests=include_tests)
    return run_check(REGISTRY["persistence-code"], ctx)


def line_of(path: Path, tag: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.rstrip().endswith(f"# audit: {tag}"):
            return n
    raise AssertionError(f"no '# audit: {tag}' marker in {path}")


def found(result: CheckResult, severity: str) -> list[tuple[str | None, int | None, str]]:
    return [(Path(f.file).name if f.file else None, f.line, f.message)
            for f in result.findings if f.severity == severity]


def only(items: list, pred) -> tuple:
    hits = [x for x in items if pred(x)]
    assert len(hits) == 1, hits
    return hits[0]
