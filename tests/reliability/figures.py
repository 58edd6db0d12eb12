"""Where the reliability tests leave their figures (tests/.results/reliability-*.json);
scripts/reliability.py gathers them into RELIABILITY.md."""

from __future__ import annotations

from tests.reliability.tier import TIER
from tests.store_results import record


def publish(name: str, figures: dict) -> None:
    record(f"reliability-{name}", {"tier": TIER, **figures})
