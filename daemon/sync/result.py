"""What one sync cycle did, in the words the CLI, status file and tray report it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SyncResult:
    """Counts and messages of one cycle; `errors` are plain sentences, one per failed item."""

    downloaded: int = 0  # files new to this computer
    updated: int = 0  # owned files replaced because the server's version changed (or was restored)
    removed: int = 0  # owned files removed (gone from the server, or past date)
    hidden: int = 0  # files moved to the hidden quarantine
    unhidden: int = 0  # files moved back out of quarantine
    unchanged: int = 0
    # files already in their place, not put there by congsync, that proved to be the server's
    # version (same size and time, or byte for byte): owned from now on, kept up to date
    adopted: int = 0
    uploaded: int = 0  # organizer only
    moved: int = 0  # organizer: renames carried to the other side (a MOVE, not delete + upload)
    deleted_remote: int = 0  # organizer: files deleted on the server because they were deleted here
    conflicts: int = 0  # organizer: changed on both sides; the local one kept as a conflict copy
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bytes_downloaded: int = 0
    bytes_uploaded: int = 0
    # ISO date -> number of files that appeared for that meeting (for one summary notification)
    new_by_date: dict[str, int] = field(default_factory=dict)
    started_at: str | None = None  # ISO 8601
    finished_at: str | None = None

    def absorb_publishing(self, organizer: SyncResult) -> None:
        """Add what the organizer side of the same cycle did (its downloads went to the
        organizer folder, not to a meeting, so they do not count as new meeting media)."""
        self.uploaded += organizer.uploaded
        self.moved += organizer.moved
        self.deleted_remote += organizer.deleted_remote
        self.conflicts += organizer.conflicts
        self.bytes_uploaded += organizer.bytes_uploaded
        self.errors.extend(organizer.errors)
        self.warnings.extend(organizer.warnings)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncResult:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})
