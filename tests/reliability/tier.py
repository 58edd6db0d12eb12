"""The two tiers of the reliability suite: the same code, different sizes.

CI runs the small tier. STATETUI_LONG=1 (or `scripts/reliability.py --tier long`) runs the
long one. STATETUI_SEED replays a run."""

from __future__ import annotations

import os
import random

LONG = os.environ.get("STATETUI_LONG") == "1" or os.environ.get("STATETUI_RELIABILITY_TIER") == "long"
TIER = "long" if LONG else "ci"

SIZES = {
    "ci": {
        "powerloss_sequences": 8, "powerloss_steps": 12, "powerloss_cap": 24,
        "kill_points": 300,
        "writers": 4, "transactions": 100, "readers": 2,
        "bad_inputs": 1000, "bad_inputs_cli": 10,
        "console_saves": 1000,
    },
    "long": {
        "powerloss_sequences": 100, "powerloss_steps": 16, "powerloss_cap": 48,
        "kill_points": 10000,
        "writers": 8, "transactions": 1000, "readers": 2,
        "bad_inputs": 10000, "bad_inputs_cli": 100,
        "console_saves": 1000,
    },
}[TIER]


def seed() -> int:
    return int(os.environ.get("STATETUI_SEED", random.randrange(1 << 30)))


def scratch_root() -> str | None:
    """/dev/shm when there is one: the simulator writes thousands of small trees."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
