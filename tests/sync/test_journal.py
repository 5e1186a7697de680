"""The journal keeps what congsync owns across versions of its own schema."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from daemon.core.records import OwnedFile
from daemon.errors import LocalDiskError
from daemon.sync.journal import SCHEMA_VERSION, Journal

VERSION_1_OWNED = """
CREATE TABLE owned (
    date TEXT NOT NULL, name TEXT NOT NULL, remote_path TEXT NOT NULL, version TEXT NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, PRIMARY KEY (date, name)
);
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO kv VALUES ('schema', '1');
"""


def test_a_journal_of_the_first_schema_is_upgraded_in_place(tmp_path: Path):
    path = tmp_path / "journal.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(VERSION_1_OWNED)
    db.execute(
        "INSERT INTO owned VALUES ('2030-01-08', 'a.jpg', ?, 'etag:1', 3, 7)",
        (json.dumps(["Media", "2030-01-08", "a.jpg"]),),
    )
    db.commit()
    db.close()

    journal = Journal(path)
    try:
        assert journal.owned() == {
            ("2030-01-08", "a.jpg"): OwnedFile(
                "2030-01-08", "a.jpg", ("Media", "2030-01-08", "a.jpg"), "etag:1", 3, 7
            )
        }
        assert journal.get("schema") == SCHEMA_VERSION
    finally:
        journal.close()


def test_a_journal_from_a_newer_congsync_is_refused_not_damaged(tmp_path: Path):
    path = tmp_path / "journal.sqlite3"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE kv SET value = '99' WHERE key = 'schema'")
    db.commit()
    db.close()

    with pytest.raises(LocalDiskError, match="cannot be opened"):
        Journal(path)


def test_a_placement_is_remembered_for_the_files_a_step_made(tmp_path: Path):
    journal = Journal(tmp_path / "journal.sqlite3")
    try:
        page = OwnedFile(
            "2030-01-08", "talk 1.png", ("Media", "x", "talk.pdf"), "e", 1, 1, "talk.pdf"
        )
        plain = OwnedFile("2030-01-08", "a.jpg", ("Media", "x", "a.jpg"), "e", 1, 1, "a.jpg")
        journal.record_owned(page)
        journal.record_owned(plain)
        stored = journal.owned()
        assert stored[("2030-01-08", "talk 1.png")].placed_as == "talk.pdf"
        assert stored[("2030-01-08", "a.jpg")].placement is None  # the download as it is
    finally:
        journal.close()
