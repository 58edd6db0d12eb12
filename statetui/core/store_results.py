"""What the store's calls return: a save's result, a restore's, a recovery's report, and
the status of the file on disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statetui.core.backups import BackupInfo, iso_time
from statetui.core.errors import StateLoadError

if TYPE_CHECKING:
    from statetui.core.state_model import TradingState


@dataclass
class SaveResult:
    changed: bool
    generation: int | None = None
    sha256: str | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    backup: BackupInfo | None = None
    removed_temp_files: list[str] = field(default_factory=list)


@dataclass
class RecoveryReport:
    action: str  # "none" (the file was fine) | "restored"
    cause: str | None = None  # the load error that triggered recovery
    cause_kind: str | None = None
    quarantined: Path | None = None
    backup: BackupInfo | None = None
    save: SaveResult | None = None

    def describe(self) -> str:
        if self.action == "none":
            return "state file loads; nothing to recover"
        moved = f"; the bad file was moved aside to {self.quarantined.name}" if self.quarantined else ""
        return f"recovered from {self.cause_kind}: restored backup {self.backup.name if self.backup else '?'}{moved}"


@dataclass
class RestoreResult:
    restored: BackupInfo
    pre_backup: BackupInfo | None
    save: SaveResult
    quarantined: Path | None = None  # the damaged file it replaced, kept here


@dataclass
class FileStatus:
    path: Path
    exists: bool
    size: int | None = None
    mtime: float | None = None
    sha256: str | None = None
    error: StateLoadError | None = None
    generation: int | None = None
    last_entry: dict[str, Any] | None = None
    written_by_store: bool | None = None  # None: no journal to tell
    stray_temp_files: list[str] = field(default_factory=list)  # statetui's own (a save removes them)
    bot_temp_files: list[str] = field(default_factory=list)  # the bot's writer's (reported, never removed)
    # The state parsed while checking the file, so a caller that wants both pays for one parse;
    # status(model=False) keeps the checked document and its bytes instead (no pydantic).
    state: TradingState | None = field(default=None, repr=False, compare=False)
    document: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    raw: bytes | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "exists": self.exists,
            "size": self.size,
            "mtime": iso_time(self.mtime) if self.mtime else None,
            "sha256": self.sha256,
            "error": {"kind": self.error.kind, "message": str(self.error)} if self.error else None,
            "generation": self.generation,
            "written_by_store": self.written_by_store,
            "last_write": self.last_entry,
            "stray_temp_files": self.stray_temp_files,
            "bot_temp_files": self.bot_temp_files,
        }
