"""Figures the store's reliability tests produce, written to tests/.results/ (gitignored)
and printed, so a closing note or RELIABILITY.md can quote the measured counts."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / ".results"


def record(name: str, figures: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    print(f"\n[{name}] " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    return path
