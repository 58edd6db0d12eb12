"""Simulated power loss at every point of saves, backups, restores, recoveries and journal
appends (see tests/reliability/powerloss.py, statetui/testing/faults.py and crashmodel.py).

CI: 8 random sequences (>= 1,000 distinct crash states); the long tier: 100. Every crash
state must load (with recovery) as the last acknowledged state or the one in flight, keep
every acknowledged journal entry and backup, and let the next save carry on."""

from __future__ import annotations

import os

from tests.reliability.figures import publish
from tests.reliability.powerloss import run_powerloss
from tests.reliability.tier import SIZES, seed

MUTANT = os.environ.get("STATETUI_MUTANT") is not None  # stop at the first violation


def test_power_loss_anywhere_leaves_the_acknowledged_or_in_flight_state():
    first = seed()
    seeds = [first + i for i in range(SIZES["powerloss_sequences"])]
    tally, states = run_powerloss(seeds, SIZES["powerloss_steps"], SIZES["powerloss_cap"], stop_at_first=MUTANT)
    if not MUTANT:
        publish("powerloss", {
            "seed": first, "sequences": tally.sequences, "recorded_operations": tally.operations,
            "crash_points": tally.crash_points, "crash_states": states, "checks": tally.checks,
            "violations": len(tally.violations), "outcomes": tally.outcomes, "journal_seals": tally.seals,
        })
    assert not tally.violations, (f"{len(tally.violations)} violation(s) (STATETUI_SEED={first} replays):\n"
                                  + "\n".join(tally.violations[:15]))
    assert states >= 1000, f"only {states} distinct crash states were checked (target 1,000)"
    assert tally.seals >= 4, f"only {tally.seals} journal seals were recorded: rotation is not covered"
