"""Telling finished files from busy ones in a folder congsync publishes from (organizer, export).

Shared by the organizer folder and M³'s media auto-export folder: both publish only files that
are complete (settled, held open by no writer, structurally whole). Reads only: nothing here
writes into the folder.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from daemon.core.organizer_plan import LocalSnapshot
from daemon.core.records import LocalFile, OrganizerRecord
from daemon.core.structure import required_quiet
from daemon.i18n import _
from daemon.sync.organizer_folder import OrganizerFolder

log = logging.getLogger(__name__)

EXTRA_WAIT_MAX = 10.0  # a cycle waits this long at most for a file to be quiet long enough

# Where a folder's "last seen" memory is read from and saved to (the journal, one key per folder).
SeenMemory = tuple[Callable[[], dict[str, list[Any]]], Callable[[dict[str, list[Any]]], None]]


def settled_snapshot(
    folder: OrganizerFolder,
    scanned: Mapping[str, LocalFile],
    records: Mapping[str, OrganizerRecord],
    scanned_at: float,
    settle_seconds: float,
    cancel: threading.Event,
    memory_io: SeenMemory,
) -> tuple[LocalSnapshot, set[str], list[str]]:
    """The scan's files that may be published, those still busy, and warnings for cut-short ones.

    Only files that would be uploaded (unknown to `records`, or changed since) need to prove
    they are finished; the others are taken as scanned.
    """
    candidates = {
        rel: f
        for rel, f in scanned.items()
        if (r := records.get(rel)) is None or (r.size, r.mtime_ns) != (f.size, f.mtime_ns)
    }
    stable, busy, truncated = _settle(
        folder, candidates, scanned_at, settle_seconds, cancel, memory_io
    )
    warnings: list[str] = []
    for rel, kind in sorted(truncated.items()):
        log.warning("%s is an incomplete %s file; not published", rel, kind)
        warnings.append(
            _(
                "{rel} is not published: it is an incomplete {format} file (still being copied "
                "or exported, or damaged). It is published as soon as it is complete."
            ).format(rel=rel, format=kind)
        )
    files = {rel: f for rel, f in scanned.items() if rel not in candidates}
    files.update(stable)
    return LocalSnapshot(files=files, busy=frozenset(busy)), busy, warnings


def _settle(
    folder: OrganizerFolder,
    candidates: dict[str, LocalFile],
    scanned_at: float,
    settle_seconds: float,
    cancel: threading.Event,
    memory_io: SeenMemory,
) -> tuple[dict[str, LocalFile], set[str], dict[str, str]]:
    """Which new or changed files are finished, which are busy, and which say they are cut short.

    Finished means all of: left alone for a quiet time that grows with the size and with how
    often earlier cycles saw the file change (`core.structure.required_quiet`), counted from an
    earlier cycle's sighting or the file's modification time; unchanged across a
    `settle_seconds` wait now (unless an earlier cycle already proved it, so that a file that
    stays unpublishable does not make every cycle wait); readable; held open for writing by no
    process the OS tells of; and, for formats that state their length, structurally complete.
    Returns (finished, busy, {rel: format} of the structurally truncated ones).
    """
    load_seen, save_seen = memory_io
    earlier = load_seen()
    wall = time.time()
    memory: dict[str, list[Any]] = {}
    needed: dict[str, float] = {}
    proven: dict[str, LocalFile] = {}
    for rel, f in candidates.items():
        seen = earlier.get(rel)
        unchanged = seen is not None and seen[:2] == [f.size, f.mtime_ns]
        changes = int(seen[3]) if seen is not None and len(seen) > 3 else 0
        if seen is not None and not unchanged:
            changes += 1  # it changed again since the last look: wait longer for it
        since = float(seen[2]) if seen is not None and unchanged else wall
        memory[rel] = [f.size, f.mtime_ns, since, changes]
        needed[rel] = required_quiet(f.size, settle_seconds, changes)
        if unchanged and wall - since >= needed[rel]:
            proven[rel] = f
    save_seen(memory)

    waited, busy = folder.settle(
        {rel: f for rel, f in candidates.items() if rel not in proven},
        scanned_at,
        settle_seconds,
        cancel,
    )
    stable: dict[str, LocalFile] = {}
    for attempt in range(2):
        now = time.time()
        short: dict[str, float] = {}  # rel -> seconds of quiet still missing
        for rel, f in waited.items():
            missing = needed[rel] - max(now - memory[rel][2], now - f.mtime_ns / 1e9)
            if missing <= 0:
                stable[rel] = f
            else:
                short[rel] = missing
        # Files that stood still but not yet long enough: wait for them once, briefly, rather
        # than leave them to the next poll (a minute later).
        soon = {rel: waited[rel] for rel, m in short.items() if m <= EXTRA_WAIT_MAX}
        busy.update(rel for rel in short if rel not in soon)
        if attempt or not soon:
            busy.update(soon)
            break
        waited, changed = folder.settle(soon, time.monotonic(), max(short[r] for r in soon), cancel)
        busy.update(changed)
    for rel, f in proven.items():
        if folder.readable(rel):
            stable[rel] = f
        else:
            busy.add(rel)
    for rel in folder.being_written(stable):
        del stable[rel]
        busy.add(rel)
    truncated: dict[str, str] = {}
    for rel in list(stable):
        kind = folder.truncation(rel)
        if kind is not None:
            truncated[rel] = kind
            del stable[rel]
            busy.add(rel)
    return stable, busy, truncated
