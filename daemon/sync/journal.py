"""SQLite record of what congsync owns locally and the last state it synced, so sides can be told apart."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from daemon.core.records import OrganizerRecord, OwnedFile
from daemon.errors import LocalDiskError
from daemon.i18n import _

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS owned (
    date TEXT NOT NULL,          -- local date folder, YYYY-MM-DD
    name TEXT NOT NULL,          -- local file name inside it
    remote_path TEXT NOT NULL,   -- JSON list of remote names, relative to the congregation folder
    version TEXT NOT NULL,       -- RemoteEntry.version of what was downloaded
    size INTEGER NOT NULL,       -- local size after writing
    mtime_ns INTEGER NOT NULL,   -- local mtime after writing (a change means someone edited it)
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
            self._db.execute(
                "INSERT OR IGNORE INTO kv(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
            )
        except sqlite3.Error as exc:
            raise LocalDiskError(
                _("congsync's journal {path} cannot be opened: {reason}.").format(
                    path=path, reason=exc
                )
            ) from exc

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
                "SELECT date, name, remote_path, version, size, mtime_ns FROM owned"
            ).fetchall()
        return {
            (r[0], r[1]): OwnedFile(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5])
            for r in rows
        }

    def record_owned(self, file: OwnedFile) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO owned(date, name, remote_path, version, size, mtime_ns) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    file.date,
                    file.name,
                    json.dumps(list(file.remote_path)),
                    file.version,
                    file.size,
                    file.mtime_ns,
                ),
            )

    def forget_owned(self, date: str, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM owned WHERE date = ? AND name = ?", (date, name))

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

    # -- small values (last result, listing cache, congregation settings) ---------------------

    def get(self, key: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (key, json.dumps(value))
            )
