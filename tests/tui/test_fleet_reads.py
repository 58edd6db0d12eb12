"""The fleet screen's read scheduling (statetui.tui.fleet_reads.ReadQueue): full reads
with checks on demand, light reads for file changes at most once a second per bot, the
checks after the writes pause. Times are given, not waited for."""

from __future__ import annotations

from statetui.tui.fleet_reads import CHECKS_MAX_S, CHECKS_QUIET_S, FORCED, LIGHT, LIGHT_MIN_S, ReadQueue


def test_full_reads_in_order_each_once():
    q = ReadQueue()
    q.want_full(["a", "b", "c"])
    q.want_full(["b"])
    assert q.take(0.0) == [("a", FORCED), ("b", FORCED), ("c", FORCED)]
    assert q.take(0.0) == [] and q.next_due(0.0) is None


def test_a_bot_writing_fast_is_read_lightly_once_a_second_then_checked_when_quiet():
    q = ReadQueue()
    q.changed(["a"], 0.0)
    assert q.take(0.0) == [("a", LIGHT)]
    q.changed(["a"], 0.2)
    assert q.take(0.2) == []  # read 0.2 s ago: held back
    assert q.next_due(0.2) == LIGHT_MIN_S - 0.2
    assert q.take(LIGHT_MIN_S) == [("a", LIGHT)]
    # Quiet since 0.2: its checks run CHECKS_QUIET_S later, as a full read (never reused).
    assert q.take(0.2 + CHECKS_QUIET_S) == [("a", FORCED)]
    assert not q


def test_checks_run_while_writes_never_pause():
    q = ReadQueue()
    t = 0.0
    fulls = []
    while t < CHECKS_MAX_S + 2:
        q.changed(["a"], t)
        fulls += [t for _n, full in q.take(t) if full]
        t += 0.5
    assert fulls and fulls[0] <= CHECKS_MAX_S  # never starved by a bot that writes every 0.5 s


def test_a_full_read_covers_a_pending_light_one_and_put_back_keeps_order():
    q = ReadQueue()
    q.changed(["a"], 0.0)
    q.want_full(["a", "b"])
    assert q.take(0.0) == [("a", FORCED), ("b", FORCED)]
    assert not q.checks_due  # the full read ran the checks the writes asked for
    q.want_full(["c"])
    q.put_back([("a", FORCED), ("b", LIGHT)])
    assert q.take(5.0) == [("a", FORCED), ("b", LIGHT), ("c", FORCED)]


def test_a_light_read_keeps_the_last_checks_only_while_the_state_loads():
    from statetui.core.fleet_status import BotStatus
    from statetui.tui.fleet_rows import Seen, carry_checks, cells, detail_lines, verdict

    full = BotStatus("a", loads=True, checks={"state-file": "PASS", "peak-drawdown": "FAIL"}, worst="FAIL",
                     repair_hint="statetui --bot a repair recompute-peak")
    old = Seen(full, at=100.0, checks_at=100.0)
    light = BotStatus("a", loads=True)
    assert verdict(light) == "READING"  # no checks: no verdict guessed
    assert carry_checks(light, old) == 100.0
    assert verdict(light) == "FAIL" and light.repair_hint == full.repair_hint
    seen = Seen(light, at=130.0, checks_at=100.0)
    assert "peak-drawdown FAIL (run 30s ago" in dict(detail_lines("a", seen, 130.0))["checks"]
    broken = BotStatus("a", loads=False, error="a.json: truncated JSON", worst="CRITICAL")
    assert carry_checks(broken, old) is None and verdict(broken) == "UNREADABLE"
    assert cells("a", Seen(broken, 130.0), 130.0)[-1] == "?"  # its audit column: not run, not guessed


def test_a_sweep_reuses_the_checks_of_a_bot_whose_files_did_not_change(tmp_path):
    import time

    from tests.tui import fleets
    from statetui.tui.fleet_reads import FORCED, FULL, REUSE_S, read_statuses

    bot = fleets.make_bot(tmp_path, "a", "small")
    bots = {"a": bot}
    stamps: dict = {}
    full_reads: dict = {}
    got: list = []

    def read(mode: int) -> bool:
        got.clear()
        read_statuses(bots, [("a", mode)], time.time, lambda: False, got.extend, stamps, full_reads, 0.0)
        return got[0][2]  # whether it ran the checks

    assert read(FULL) is True  # never read before
    assert read(FULL) is False and got[0][0].loads  # unchanged: figures and running read, checks reused
    assert read(FORCED) is True  # r: always
    with bot.config.state.open("a") as f:
        f.write(" ")  # a change to a file the checks read
    assert read(FULL) is True
    full_reads["a"] = (full_reads["a"][0], full_reads["a"][1] - REUSE_S)  # its checks grew old
    assert read(FULL) is True
