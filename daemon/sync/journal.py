"""SQLite record of what congsync owns locally and the last state it synced, so sides can be told apart."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Set
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from daemon.core.records import DifferingFile, OrganizerRecord, OwnedFile
from daemon.errors import LocalDiskError
from daemon.i18n import fact

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS owned (
    date TEXT NOT NULL,          -- local date folder, YYYY-MM-DD
    name TEXT NOT NULL,          -- local file name inside it
    remote_path TEXT NOT NULL,   -- JSON list of remote names, relative to the congregation folder
    version TEXT NOT NULL,       -- RemoteEntry.version of what was downloaded
    size INTEGER NOT NULL,       -- local size after writing
    mtime_ns INTEGER NOT NULL,   -- local mtime after writing (a change means someone edited it)
    placement TEXT,              -- the planned name it came from, when a step derived it (else NULL)
    PRIMARY KEY (date, name)
);
CREATE TABLE IF NOT EXISTS quarantined (
    date TEXT NOT NULL,          -- a file of the user's we moved aside because the VO hid it
    name TEXT NOT NULL,
    PRIMARY KEY (date, name)
);
CREATE TABLE IF NOT EXISTS organizer (
    rel TEXT PRIMARY KEY,        -- path in the organizer folder, '/'-separated (2026-11-24/a.mp4)
    remote_path TEXT NOT NULL,   -- JSON list of remote names, relative to the congregation folder
    version TEXT NOT NULL,       -- RemoteEntry.version on the server after the last sync
    etag_raw TEXT,               -- that version's ETag as the server sent it (for If / If-Match)
    size INTEGER NOT NULL,       -- local size after the last sync
    mtime_ns INTEGER NOT NULL    -- local mtime after the last sync
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


class Journal:
    """Thread-safe: transfers record files from worker threads as they land."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._migrate()
        except sqlite3.Error as exc:
            raise LocalDiskError(
                fact("congsync's journal {path} cannot be opened: {reason}.", path=path, reason=exc)
            ) from exc

    def _migrate(self) -> None:
        row = self._db.execute("SELECT value FROM kv WHERE key = 'schema'").fetchone()
        found = int(row[0]) if row else SCHEMA_VERSION
        if found > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(
                f"schema {found} is newer than this congsync knows ({SCHEMA_VERSION})"
            )
        columns = {r[1] for r in self._db.execute("PRAGMA table_info(owned)")}
        if "placement" not in columns:  # version 1: every owned file was a download as it is
            self._db.execute("ALTER TABLE owned ADD COLUMN placement TEXT")
        self._db.execute(
            "INSERT OR REPLACE INTO kv(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- owned files ------------------------------------------------------------------------

    def owned(self) -> dict[tuple[str, str], OwnedFile]:
        with self._lock:
            rows = self._db.execute(
                "SELECT date, name, remote_path, version, size, mtime_ns, placement FROM owned"
            ).fetchall()
        return {
            (r[0], r[1]): OwnedFile(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5], r[6])
            for r in rows
        }

    def record_owned(self, file: OwnedFile) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO owned(date, name, remote_path, version, size, mtime_ns, "
                "placement) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    file.date,
                    file.name,
                    json.dumps(list(file.remote_path)),
                    file.version,
                    file.size,
                    file.mtime_ns,
                    file.placement if file.placement != file.name else None,
                ),
            )

    def forget_owned(self, date: str, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM owned WHERE date = ? AND name = ?", (date, name))

    # -- files of the user's found to differ from the server's ---------------------------------

    def differing(self) -> dict[tuple[str, str], DifferingFile]:
        """The remembered verdicts "this file at this place is not the server's version"."""
        rows = self.get("member_differing") or []
        return {(r[0], r[1]): DifferingFile(r[0], r[1], r[2], r[3], r[4]) for r in rows}

    def record_differing(self, file: DifferingFile) -> None:
        with self.transaction():
            verdicts = self.differing()
            verdicts[(file.date, file.name)] = file
            self._put_differing(verdicts.values())

    def keep_differing(self, places: Set[tuple[str, str]]) -> None:
        """Forget every verdict except those for `places` (the ones that still hold)."""
        with self.transaction():
            verdicts = self.differing()
            self._put_differing(v for key, v in verdicts.items() if key in places)

    def _put_differing(self, verdicts: Iterable[DifferingFile]) -> None:
        rows = sorted([v.date, v.name, v.version, v.size, v.mtime_ns] for v in verdicts)
        self.put("member_differing", rows)

    # -- quarantine ---------------------------------------------------------------------------

    def quarantined(self) -> set[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT date, name FROM quarantined").fetchall()
        return {(r[0], r[1]) for r in rows}

    def record_quarantined(self, date: str, name: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO quarantined(date, name) VALUES (?, ?)", (date, name)
            )

    def forget_quarantined(self, date: str, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM quarantined WHERE date = ? AND name = ?", (date, name))

    # -- the organizer folder ----------------------------------------------------------------

    def organizer_records(self) -> dict[str, OrganizerRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT rel, remote_path, version, etag_raw, size, mtime_ns FROM organizer"
            ).fetchall()
        return {
            r[0]: OrganizerRecord(r[0], tuple(json.loads(r[1])), r[2], r[3], r[4], r[5])
            for r in rows
        }

    def record_organizer(self, record: OrganizerRecord) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO organizer(rel, remote_path, version, etag_raw, size, "
                "mtime_ns) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.rel,
                    json.dumps(list(record.remote_path)),
                    record.version,
                    record.etag_raw,
                    record.size,
                    record.mtime_ns,
                ),
            )

    def forget_organizer(self, rel: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM organizer WHERE rel = ?", (rel,))

    # -- small values, one typed accessor per concern ------------------------------------------

    def last_result(self) -> dict[str, Any] | None:
        """The last member cycle's SyncResult as JSON."""
        value: dict[str, Any] | None = self.get("last_result")
        return value

    def last_sync_at(self) -> str | None:
        """When a cycle last finished without errors (ISO 8601)."""
        value: str | None = self.get("last_sync_at")
        return value

    def record_result(self, result: dict[str, Any], *, synced_at: str | None) -> None:
        with self.transaction():
            self.put("last_result", result)
            if synced_at is not None:
                self.put("last_sync_at", synced_at)

    def congregation_prefs(self) -> dict[str, Any]:
        """The last good forcedPrefs.json: {"version": …, "data": text}, or {} when none."""
        value = self.get("congregation_prefs")
        return value if isinstance(value, dict) else {}

    def save_congregation_prefs(self, version: str | None, data: str | None) -> None:
        self.put("congregation_prefs", {"version": version, "data": data} if data else None)

    def listing_memory(self) -> dict[str, Any]:
        """Discovery's memory between cycles: cached child listings and the last snapshot."""
        value = self.get("listing_cache")
        return value if isinstance(value, dict) else {}

    def save_listing_memory(self, memory: dict[str, Any]) -> None:
        self.put("listing_cache", memory)

    def server_capabilities(self) -> dict[str, Any] | None:
        """What the server has proven it does (dav.Capabilities as JSON)."""
        value: dict[str, Any] | None = self.get("server_capabilities")
        return value

    def save_server_capabilities(self, data: dict[str, Any]) -> None:
        self.put("server_capabilities", data)

    def organizer_cleanup_day(self) -> str | None:
        """The day (ISO) the organizer last cleaned past date folders off the server."""
        value: str | None = self.get("organizer_cleanup_day")
        return value

    def set_organizer_cleanup_day(self, day: str) -> None:
        self.put("organizer_cleanup_day", day)

    def organizer_seen(self) -> dict[str, list[Any]]:
        """New or changed organizer-folder files as last seen: {rel: [size, mtime_ns, since]}."""
        value = self.get("organizer_seen")
        return value if isinstance(value, dict) else {}

    def save_organizer_seen(self, seen: dict[str, list[Any]]) -> None:
        self.put("organizer_seen", seen)

    def export_records(self) -> dict[str, OrganizerRecord]:
        """What the publisher put on the server from M³'s export folder, by rel in that folder."""
        value = self.get("export_published")
        if not isinstance(value, dict):
            return {}
        return {
            rel: OrganizerRecord(rel, tuple(v[0]), v[1], v[2], v[3], v[4])
            for rel, v in value.items()
        }

    def record_export(self, record: OrganizerRecord) -> None:
        with self.transaction():
            value = self.get("export_published") or {}
            value[record.rel] = [
                list(record.remote_path),
                record.version,
                record.etag_raw,
                record.size,
                record.mtime_ns,
            ]
            self.put("export_published", value)

    def forget_export(self, rel: str) -> None:
        with self.transaction():
            value = self.get("export_published") or {}
            value.pop(rel, None)
            self.put("export_published", value)

    def export_seen(self) -> dict[str, list[Any]]:
        """New or changed export-folder files as last seen (like organizer_seen)."""
        value = self.get("export_seen")
        return value if isinstance(value, dict) else {}

    def save_export_seen(self, seen: dict[str, list[Any]]) -> None:
        self.put("export_seen", seen)

    def export_markers(self) -> dict[str, list[Any]]:
        """The selection markers last written: {remote path: [version, names]}."""
        value = self.get("export_markers")
        return value if isinstance(value, dict) else {}

    def save_export_markers(self, markers: dict[str, list[Any]]) -> None:
        self.put("export_markers", markers)

    def staged(self) -> set[str]:
        """Names of staged uploads this computer started and did not finish."""
        return set(self.get("organizer_staged") or [])

    def note_staged(self, name: str, active: bool) -> None:
        with self.transaction():
            names = self.staged()
            if active:
                names.add(name)
            else:
                names.discard(name)
            self.put("organizer_staged", sorted(names))

    def forget_staged(self) -> None:
        self.put("organizer_staged", [])

    def section_orders(self) -> dict[str, dict[str, Any]]:
        """Per date, the server's `.section-order.json` last exchanged: {version, entries}."""
        value = self.get("section_orders")
        return value if isinstance(value, dict) else {}

    def save_section_order(self, day: str, record: dict[str, Any]) -> None:
        with self.transaction():
            records = self.section_orders()
            records[day] = record
            self.put("section_orders", records)

    def forget_section_orders(self, before: str) -> None:
        """Meetings that are over need no layout any more."""
        with self.transaction():
            records = self.section_orders()
            kept = {day: r for day, r in records.items() if day >= before}
            if kept != records:
                self.put("section_orders", kept)

    def get(self, key: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (key, json.dumps(value))
            )
