"""The daemon's state as others see it: states, progress, and the snapshot published to listeners."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    IDLE = "idle"
    SYNCING = "syncing"
    PAUSED = "paused"
    OFFLINE = "offline"
    ERROR = "error"
    ATTENTION = "attention"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Progress:
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    current: str | None = None  # the file being transferred, for display


@dataclass(frozen=True)
class MeetingSummary:
    date: str  # ISO date of the meeting
    files_present: int
    files_expected: int


@dataclass(frozen=True)
class StatusSnapshot:
    """Everything the tray, the CLI and the control panel show; immutable, safe to pass between threads."""

    state: State
    message: str = ""  # a plain sentence for the user (what is wrong and what to do), may be empty
    progress: Progress | None = None
    last_sync_at: str | None = None  # ISO 8601 of the last successful cycle
    last_result: dict[str, Any] | None = None  # SyncResult.to_json()
    next_retry_at: str | None = None  # ISO 8601, when offline/error
    paused_until: str | None = None  # ISO 8601, or None when paused until resumed
    role: str = "member"
    media_dir: str | None = None
    organizer_dir: str | None = None
    meetings: tuple[MeetingSummary, ...] = field(default_factory=tuple)
