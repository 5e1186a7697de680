"""The daemon's state as others see it: states, progress, and the snapshot published to listeners."""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from daemon.files import write_json_atomic
from daemon.i18n import NO_TEXT, Text, _, as_text
from daemon.service.instance import is_same_process, process_start_token
from daemon.sync.media_folder import MeetingSummary
from daemon.sync.progress import Progress

# Progress and MeetingSummary are parts of the status document, so faces find them here too.
__all__ = [
    "Listener",
    "MeetingSummary",
    "Progress",
    "State",
    "StatusBoard",
    "StatusSnapshot",
    "now_iso",
    "read_status_file",
    "snapshot_from_json",
    "snapshot_to_json",
    "state_words",
]

logger = logging.getLogger(__name__)


class State(StrEnum):
    IDLE = "idle"
    SYNCING = "syncing"
    PAUSED = "paused"
    OFFLINE = "offline"
    ERROR = "error"
    ATTENTION = "attention"
    STOPPED = "stopped"


def state_words(state: State) -> str:
    """The state alone in words, as the tray and the panel say it."""
    words = {
        State.IDLE: _("Up to date"),
        State.SYNCING: _("Syncing…"),
        State.PAUSED: _("Paused"),
        State.OFFLINE: _("Offline"),
        State.ERROR: _("Error"),
        State.ATTENTION: _("Needs attention"),
        State.STOPPED: _("Stopped"),
    }
    return words[state]


@dataclass(frozen=True)
class StatusSnapshot:
    """Everything the tray, the CLI and the control panel show; immutable, safe to pass between threads."""

    state: State
    # what is wrong and what to do, as a fact each face says in its user's language; may be empty
    message: Text = NO_TEXT
    progress: Progress | None = None
    last_sync_at: str | None = None  # ISO 8601 of the last successful cycle
    last_result: dict[str, Any] | None = None  # SyncResult.to_json()
    next_retry_at: str | None = None  # ISO 8601, when offline/error
    next_check_at: str | None = None  # ISO 8601 of the next automatic cycle, when one is due
    paused_until: str | None = None  # ISO 8601, or None when paused until resumed
    role: str = "member"
    media_dir: str | None = None
    organizer_dir: str | None = None
    meetings: tuple[MeetingSummary, ...] = field(default_factory=tuple)
    # attention because a sync would remove many files: confirming (accept deletions) helps
    needs_confirmation: bool = False
    # when the last cycle failed as a whole: the exit code (README) a one-shot sync would end
    # with for that failure (3 password, 4 network, 6 safety stop, 7 local disk …); else None
    exit_code: int | None = None
    # the language the daemon speaks now (its tray and panel); a change re-renders the tray
    language: str = "en"

    def __post_init__(self) -> None:
        # A plain sentence (an older caller's, a test's) is a fact that is already said.
        message: object = self.message
        if not isinstance(message, Text):
            object.__setattr__(self, "message", as_text(str(message)))


# --- the live board: one current snapshot, its listeners, and the status file -----------------

Listener = Callable[[StatusSnapshot], None]

STATUS_FILE_FORMAT = 1


def now_iso() -> str:
    """The current time as ISO 8601 with offset (UTC), the form every timestamp in status uses."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def snapshot_to_json(snapshot: StatusSnapshot) -> dict[str, Any]:
    """The snapshot as plain JSON data (the shape of the status file and of `GET /v1/status`)."""
    data = asdict(snapshot)
    data["state"] = snapshot.state.value
    # {"text": English, "msgid": …, "params": …}: "text" for readers that want a sentence
    data["message"] = snapshot.message.to_json() if snapshot.message else ""
    return data


def snapshot_from_json(data: dict[str, Any]) -> StatusSnapshot:
    """Rebuild a snapshot from `snapshot_to_json` output, ignoring keys it does not know."""
    progress = data.get("progress")
    meetings = data.get("meetings") or ()
    try:
        state = State(data.get("state", State.STOPPED))
    except ValueError:
        state = State.STOPPED
    return StatusSnapshot(
        state=state,
        message=Text.from_json(data.get("message") or ""),
        progress=Progress(**progress) if isinstance(progress, dict) else None,
        last_sync_at=data.get("last_sync_at"),
        last_result=data.get("last_result"),
        next_retry_at=data.get("next_retry_at"),
        next_check_at=data.get("next_check_at"),
        paused_until=data.get("paused_until"),
        role=str(data.get("role") or "member"),
        media_dir=data.get("media_dir"),
        organizer_dir=data.get("organizer_dir"),
        meetings=tuple(MeetingSummary.from_json(m) for m in meetings if isinstance(m, dict)),
        needs_confirmation=bool(data.get("needs_confirmation", False)),
        exit_code=exit_code if isinstance(exit_code := data.get("exit_code"), int) else None,
        language=str(data.get("language") or "en"),
    )


def read_status_file(path: Path) -> dict[str, Any]:
    """The daemon's last published status; `state` is "stopped" when no daemon owns the file.

    A missing or unreadable file, or one whose daemon process is gone (or whose pid now
    belongs to another process), reads as stopped, keeping `last_sync_at` and `last_result`.
    """
    data: dict[str, Any]
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
        data = loaded if isinstance(loaded, dict) else {}
    except (OSError, ValueError):
        data = {}
    base = snapshot_to_json(StatusSnapshot(state=State.STOPPED))
    merged = {**base, **data}
    pid = merged.get("pid")
    alive = (
        isinstance(pid, int)
        and merged.get("state") != State.STOPPED.value
        and is_same_process(pid, merged.get("start_token"))
    )
    if not alive:
        merged.update(
            state=State.STOPPED.value,
            message="",
            progress=None,
            next_retry_at=None,
            next_check_at=None,
            pid=None,
        )
    merged["running"] = alive
    return merged


class StatusBoard:
    """The one current snapshot of a daemon, published to listeners and to the status file.

    Thread-safe. Every change bumps `version` (for long-polling clients), rewrites the status
    file atomically and is handed to listeners in order on the board's own notifier thread, so
    a listener may call back into the daemon without deadlocking it; listeners should be quick.
    After `close` the board ignores further changes, so a late worker cannot overwrite "stopped".
    """

    def __init__(
        self,
        status_file: Path | None = None,
        initial: StatusSnapshot | None = None,
        *,
        pid: int | None = None,
        start_token: str | None = None,
    ) -> None:
        self._status_file = status_file
        self._pid = os.getpid() if pid is None else pid
        self._start_token = process_start_token(self._pid) if start_token is None else start_token
        self._snapshot = initial or StatusSnapshot(state=State.IDLE)
        self._version = 0
        self._cycles_started = 0
        self._cycles_finished = 0
        self._closed = False
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._listeners: list[Listener] = []
        # (listener, snapshot) for one new subscriber, (None, snapshot) for all, None to finish.
        self._queue: queue.SimpleQueue[tuple[Listener | None, StatusSnapshot] | None] = (
            queue.SimpleQueue()
        )
        self._notifier: threading.Thread | None = None
        self._write_locked()

    # -- reading ------------------------------------------------------------------------------

    def snapshot(self) -> StatusSnapshot:
        with self._lock:
            return self._snapshot

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    @property
    def cycles_started(self) -> int:
        with self._lock:
            return self._cycles_started

    @property
    def cycles_finished(self) -> int:
        with self._lock:
            return self._cycles_finished

    def document(self) -> dict[str, Any]:
        """The snapshot plus bookkeeping: exactly what the status file and the API carry."""
        with self._lock:
            return self._document_locked()

    def wait_for_change(self, since: int, timeout: float) -> dict[str, Any]:
        """Block until `version` exceeds `since` (or the board closes, or `timeout` passes)."""
        with self._changed:
            self._changed.wait_for(lambda: self._version > since or self._closed, timeout)
            return self._document_locked()

    # -- changing -----------------------------------------------------------------------------

    def update(self, **changes: Any) -> StatusSnapshot:
        """Change some fields of the snapshot (same names as `StatusSnapshot`), keep the rest."""
        with self._lock:
            return self._publish_locked(replace(self._snapshot, **changes))

    def transition(self, state: State, message: str | Text = "", **changes: Any) -> StatusSnapshot:
        """Enter `state`; progress is dropped unless given, and the message replaced."""
        changes.setdefault("progress", None)
        return self.update(state=state, message=as_text(message), **changes)

    def cycle_started(self, **changes: Any) -> StatusSnapshot:
        """A sync cycle begins: state syncing, counted so clients can wait for "their" cycle."""
        with self._lock:
            self._cycles_started += 1
            changes.setdefault("progress", Progress())
            changes.setdefault("message", NO_TEXT)
            return self._publish_locked(replace(self._snapshot, state=State.SYNCING, **changes))

    def cycle_finished(
        self, state: State, message: str | Text = "", **changes: Any
    ) -> StatusSnapshot:
        """A sync cycle ended (whatever the outcome) and left the daemon in `state`."""
        with self._lock:
            self._cycles_finished += 1
            changes.setdefault("progress", None)
            changes.setdefault("needs_confirmation", False)
            new = replace(self._snapshot, state=state, message=as_text(message), **changes)
            return self._publish_locked(new)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every new snapshot (starting with the current one).

        Returns a function that unsubscribes it.
        """
        with self._lock:
            self._listeners.append(listener)
            if self._notifier is None:
                self._notifier = threading.Thread(
                    target=self._notify_loop, name="congsync-status", daemon=True
                )
                self._notifier.start()
            # Through the queue, so the listener sees the current state before any later change.
            self._queue.put((listener, self._snapshot))
        return lambda: self.unsubscribe(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def write_file(self) -> None:
        """Write the status file again (after someone deleted it)."""
        with self._lock:
            self._write_locked()

    def forget_file(self) -> None:
        """Never write the status file again: another daemon owns it now."""
        with self._lock:
            self._status_file = None

    def close(self, final: StatusSnapshot | None = None) -> None:
        """Publish a last snapshot (by default: stopped) and ignore every later change."""
        with self._lock:
            if self._closed:
                return
            if final is None:
                final = replace(
                    self._snapshot,
                    state=State.STOPPED,
                    message=NO_TEXT,
                    progress=None,
                    next_retry_at=None,
                    paused_until=None,
                )
            self._publish_locked(final)
            self._closed = True
            self._changed.notify_all()
        self._queue.put(None)

    # -- inside -------------------------------------------------------------------------------

    def _publish_locked(self, new: StatusSnapshot) -> StatusSnapshot:
        if self._closed:
            return self._snapshot
        self._snapshot = new
        self._version += 1
        self._write_locked()
        self._changed.notify_all()
        if self._listeners:
            self._queue.put((None, new))
        return new

    def _document_locked(self) -> dict[str, Any]:
        data = snapshot_to_json(self._snapshot)
        data.update(
            format=STATUS_FILE_FORMAT,
            version=self._version,
            cycles_started=self._cycles_started,
            cycles_finished=self._cycles_finished,
            pid=self._pid,
            start_token=self._start_token,
            updated_at=now_iso(),
        )
        return data

    def _write_locked(self) -> None:
        if self._status_file is None:
            return
        try:
            write_json_atomic(self._status_file, self._document_locked())
        except OSError as exc:
            # The live state still reaches listeners and the API; only the file is behind.
            logger.warning("Could not write the status file %s: %s", self._status_file, exc)

    def _notify_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            only, snapshot = item
            with self._lock:
                listeners = list(self._listeners) if only is None else [only]
            for listener in listeners:
                try:
                    listener(snapshot)
                except Exception:
                    logger.exception("A status listener failed")
