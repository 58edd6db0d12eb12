"""bot_status: figures through the role map, ages, checks, never the chain."""

from __future__ import annotations

import json
import time
from decimal import Decimal

from statetui.core.fleet import load_fleet
from statetui.core.fleet_status import bot_status
from statetui.core.store import StateStore
from tests.fleet.fleetkit import fleet_config


def test_status_of_a_halted_bot_and_a_missing_one(tmp_path):
    config = fleet_config(tmp_path, {"alpha": {"cash": 60, "peak": 100, "halted": True}, "beta": {"state": False}})
    alpha, beta = load_fleet({}, env={}, config_file=config)
    now = time.time() + 100
    a = bot_status(alpha, now=now)
    assert a.loads and a.error is None
    assert (a.cash, a.peak, a.drawdown, a.halted) == (Decimal(60), Decimal(100), Decimal("0.4"), True)
    assert 100 <= a.state_age < 200 and 100 <= a.peak_age < 200 and 100 <= a.backup_age < 200
    assert set(a.checks) == {"state-file", "persistence-code", "peak-drawdown", "recovery", "process-safety", "backups"}
    assert a.chain_mismatch is None  # no chain configured
    b = bot_status(beta, now=now)
    assert not b.loads and "not found" in b.error and b.worst == "CRITICAL" and b.checks["state-file"] == "CRITICAL"
    assert b.repair_hint == "statetui --bot beta repair init-state"
    assert bot_status(beta, checks=False).worst == "CRITICAL" and bot_status(beta, checks=False).checks == {}


def test_figures_follow_another_schema_through_fields(tmp_path):
    state = tmp_path / "other" / "s.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"account": {"bankroll": 40.5, "high_water": 90}, "paused": True}))
    (tmp_path / "c.toml").write_text(f'[[bots]]\nname = "other"\nstate = "{state}"\n[bots.fields]\n'
                                     'cash = "account.bankroll"\npeak = "account.high_water"\nhalted = "paused"\n')
    (bot,) = load_fleet({}, env={}, config_file=tmp_path / "c.toml")
    s = bot_status(bot, checks=False)
    assert (s.cash, s.peak, s.halted) == (Decimal("40.5"), Decimal(90), True)
    assert s.peak_age is None  # no journal: nothing says when the peak last changed
    assert s.backup_age is None


def test_peak_age_is_the_journals_last_peak_change(tmp_path):
    config = fleet_config(tmp_path, {"alpha": {"cash": 100, "peak": 100}})
    (bot,) = load_fleet({}, env={}, config_file=config)
    store = StateStore(bot.config.state, auto_backup_interval=None)
    time.sleep(0.05)
    with store.transaction("trade") as state:  # cash moves, the peak does not
        state.current_balance = 90.0
    first = bot_status(bot, checks=False)
    with store.transaction("new high") as state:
        state.current_balance = 130.0
        state.peak_balance = 130.0
    second = bot_status(bot, checks=False)
    assert first.peak_age >= 0.05 and second.peak_age < first.peak_age


def test_one_host_snapshot_keeps_each_bots_own_answer(tmp_path):
    """fleet_status shares one look at /proc between bots: a bot whose pid lock a real
    process holds is running, its neighbour is not, exactly as bot_status says alone."""
    from statetui.core.fleet_status import fleet_status
    from statetui.core.scanmemo import host_snapshot, memoized
    from tests.conftest import LockHolder

    config = fleet_config(tmp_path, {"alpha": {}, "beta": {}})
    alpha, beta = load_fleet({}, env={}, config_file=config)
    holder = LockHolder(alpha.config.pid_file)
    try:
        together = fleet_status([alpha, beta])
        alone = [bot_status(alpha), bot_status(beta)]
        assert [s.running for s in together] == [s.running for s in alone] == [True, None]
        assert together[0].checks["process-safety"] == alone[0].checks["process-safety"]
    finally:
        holder.stop()
    calls = []
    with host_snapshot():
        assert memoized("k", lambda: calls.append(1) or len(calls)) == memoized("k", lambda: calls.append(1) or len(calls)) == 1
    assert memoized("k", lambda: calls.append(1) or len(calls)) == 2  # outside a snapshot: looked at afresh


def test_the_cache_reuses_an_unchanged_bot_but_not_past_a_new_chain_reading(tmp_path):
    from statetui.core.chain_status import remember
    from statetui.core.fleet_cache import CachedFleet

    config = fleet_config(tmp_path, {"alpha": {"cash": 100, "peak": 100}},
                          top='[chain]\nrpc_url = "http://127.0.0.1:9"\n'
                              'wallet = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"\n')
    (bot,) = load_fleet({}, env={}, config_file=config)
    fleet = CachedFleet([bot])
    (first,) = fleet()
    assert first.chain_mismatch is None  # no reading yet: nothing says
    (again,) = fleet()
    assert again.checks == first.checks and again.state_age >= first.state_age
    remember(bot.config, Decimal(100), Decimal("96.5"), 1, "refresh")  # what the exporter's refresh does
    (after,) = fleet()
    assert after.chain_mismatch == Decimal("3.5")


def test_the_next_step_follows_the_worst_check():
    from statetui.audit.base import CheckResult, Status
    from statetui.core.fleet_status import repair_hint

    warn = CheckResult("backups", "Backups", Status.WARNING, "no backup", repairs=["backup-now"])
    fail = CheckResult("peak-drawdown", "Peak", Status.FAIL, "FALSE PEAK", repairs=["recompute-peak"])
    bare = CheckResult("process-safety", "Guard", Status.FAIL, "no guard")
    ok = CheckResult("state-file", "State", Status.PASS, "ok")
    assert repair_hint("a", [ok, warn, fail]) == "statetui --bot a repair recompute-peak"
    assert repair_hint("a", [ok, warn, bare]) == "statetui --bot a audit --check process-safety"
    assert repair_hint("a", [ok, warn]) == "statetui --bot a repair backup-now"
    assert repair_hint("a", [ok]) is None
