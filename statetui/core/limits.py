"""Size caps on what statetui reads: a file over its cap is refused with a typed error
before a byte of it is read, so a 2 GiB file planted in backups/ costs a stat, not 18 s and
4 GB of memory. The defaults sit far above any bot's state; the CLI and the console set
them from the configuration (max_state_bytes, max_journal_line_bytes); a library user may
set them here or pass max_bytes to StateStore."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass
class Limits:
    state_bytes: int = 64 * MIB  # the state file and each backup
    journal_line_bytes: int = 1 * MIB  # one journal line
    playbook_bytes: int = 1 * MIB  # the console's guided-recovery progress


LIMITS = Limits()


def configure(config) -> None:
    """Take the caps from a Config (statetui.core.config)."""
    LIMITS.state_bytes = config.max_state_bytes
    LIMITS.journal_line_bytes = config.max_journal_line_bytes


def human(n: int) -> str:
    for unit, size in (("GiB", 1024 * MIB), ("MiB", MIB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"
