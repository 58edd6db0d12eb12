"""The dashboard on other bots' schemas (tests/schemas.py, written for the tests): every
money and halt row names the role and the bot's own field, `cash (bankroll_current)`; a
role detection left unmapped shows "—" and how to map it, never a guessed value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from statetui.core.config import Config
from statetui.core.store import StateStore
from statetui.testing import scenarios
from statetui.tui.app import StateTuiApp
from statetui.tui.widgets.panels import BalancesPanel

from tests.schemas import BY_NAME, SCHEMAS
from tests.tui.conftest import ready

pytestmark = pytest.mark.anyio


def foreign_bot(name: str, halted: bool = False):
    """A sandbox builder (for frozen.sandbox too): the schema's document written through the
    store, a backup, then (halted) the same bot halted by its drawdown."""
    schema = BY_NAME[name]

    def build(root: Path) -> scenarios.Scenario:
        state = Path(root) / "state" / "bot_state.json"
        backups = state.parent / "backups"
        state.parent.mkdir(parents=True, exist_ok=True)
        store = StateStore(state, backup_dir=backups, auto_backup_interval=None, writer="bot.py")
        store.init(schema.doc)
        store.backup(reason="daily")
        if halted:
            store.save(dict(schema.halted_doc), reason="drawdown halt")
        return scenarios.Scenario(Path(root), state, backups, store)

    return build


def _row(text: str, role: str) -> str:
    return next((line for line in text.splitlines() if line.startswith(f"{role} ")), "")


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.name)
async def test_money_and_halt_rows_name_the_bots_own_field(tmp_path, schema):
    sc = foreign_bot(schema.name, halted=schema.halted_doc is not None)(tmp_path / "bot")
    app = StateTuiApp(Config(state=sc.state, backup_dir=sc.backups, pid_file=tmp_path / "bot.pid"),
                      audit_on_start=False, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot, audit=False)
        text = app.screen.query_one(BalancesPanel).render().plain
    for role in ("cash", "peak"):
        path = schema.roles.get(role)
        line = _row(text, role)
        if path:  # the field whole, or cut in the middle at 80 columns (both ends kept)
            shown = re.match(rf"{role} \((.+?)\) ", line)
            head, _, tail = (shown[1] if shown else "\0").partition("…")
            assert shown and (shown[1] == path or path.startswith(head) and path.endswith(tail)), (role, text)
            assert re.search(r"\d", line[shown.end():]), (role, text)
        else:  # unmapped: a dash, why, and no number anywhere on the row
            assert re.fullmatch(rf"{role} +— (unmapped|ambiguous)", line) and "statetui fields · [fields]" in text, text
    halt = schema.roles.get("halted") or schema.roles.get("mode")
    if halt:
        assert f"({halt.lstrip('!')})" in text or f"(not {halt.lstrip('!')})" in text, text
    elif "halted" in schema.roles or "mode" in schema.roles:
        assert "halt — no flag or mode mapped" in text, text
    if schema.currency != "USD" and schema.roles.get("cash"):
        assert _row(text, "cash").endswith(f" {schema.currency}"), text
    if schema.halted_doc is not None:
        assert "HALTED" in text, text
