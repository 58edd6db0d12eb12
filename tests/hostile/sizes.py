"""How many generated cases each surface gets: the CI tier (part of `bash .ci/run`, ~2 min on
2 cores) and the long tier (STATETUI_LONG=1; see tests/reliability/tier.py)."""

from __future__ import annotations

from tests.reliability.tier import TIER, seed  # noqa: F401  (re-exported: one seed per run)

SIZES = {
    "ci": {"config_files": 600, "environment": 350, "flags": 250, "cli_args": 250, "state_contents": 200,
           "journal_lines": 100, "backup_files": 60, "rpc_answers": 300, "rpc_cli": 40, "console": 2,
           "subprocess_every": 25},
    "long": {"config_files": 3000, "environment": 1500, "flags": 1000, "cli_args": 800, "state_contents": 600,
             "journal_lines": 400, "backup_files": 250, "rpc_answers": 1000, "rpc_cli": 200, "console": 12,
             "subprocess_every": 10},
}[TIER]
