"""Order and sections between computers: publish the organizer's `.section-order.json`, merge it into members'.

Runs at the end of a member cycle (an organizer's media folder is a member mirror too), for the
dates that hold congregation files. The journal remembers, per date, the server version last
exchanged and its entries: the organizer publishes only when his entries for the congregation's
files differ from those, and a member re-applies only when the server's version moves, so a
member's own drag stays until the organizer changes his, and an organizer's M³ and the merge
never chase each other.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from daemon.core.layout import MEDIA
from daemon.core.member_plan import Desired
from daemon.core.records import OwnedFile, RemoteFile
from daemon.core.section_order import (
    SECTION_ORDER_FILE,
    Entries,
    is_section_order_file,
    merge,
    parse,
    serialize,
    to_remote,
)
from daemon.dav import DavClient, Expect
from daemon.errors import AuthError, Cancelled, CongsyncError, PreconditionFailed
from daemon.i18n import _
from daemon.sync.discovery import Discovery, ServerSnapshot, to_remote_entry
from daemon.sync.journal import Journal
from daemon.sync.media_folder import MediaFolder, disk_error
from daemon.sync.uploads import Stager

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024  # a layout file of a few hundred entries is a few kilobytes
_FILE_ATTRIBUTE_HIDDEN = 0x2


@dataclass(frozen=True)
class _Day:
    key: str
    remote_names: Mapping[str, str]  # local name -> remote name, the congregation's files
    server_file: RemoteFile | None


def _made_of(
    owned: Mapping[tuple[str, str], OwnedFile], day: str, names: Mapping[str, str]
) -> dict[str, str]:
    """The images a conversion made of the congregation's files (a PDF's pages), keyed as they
    are: every computer derives the same names from the same remote name, as long as the
    remote name needed no safe-name mapping here."""
    return {
        record.name: record.name
        for (d, _name), record in owned.items()
        if d == day
        and record.name != record.placed_as
        and names.get(record.placed_as) == record.placed_as
    }


def disown_layouts(
    journal: Journal, owned: dict[tuple[str, str], OwnedFile]
) -> dict[tuple[str, str], OwnedFile]:
    """Layout files an earlier congsync downloaded as media become the member's own again
    (left on disk: removing them would lose this computer's order)."""
    for day, name in [place for place in owned if is_section_order_file(place[1])]:
        journal.forget_owned(day, name)
        del owned[(day, name)]
    return owned


def exchange_section_orders(
    dav: DavClient,
    journal: Journal,
    discovery: Discovery,
    found: ServerSnapshot,
    desired: Desired,
    media: MediaFolder,
    *,
    organizer_dir: Path | None,
    today: date,
) -> list[str]:
    """Publish (organizers) then apply the layout of every date with congregation files.

    Returns warnings for the cycle's result, each said once (per server version)."""
    warnings: list[str] = []
    exchanged = journal.section_orders()
    owned = journal.owned()
    for key, files in sorted(desired.files.items()):
        day = date.fromisoformat(key)
        listed = found.files_on(MEDIA, day).get(SECTION_ORDER_FILE)
        names = {local: f.path[-1] for local, f in files.items()}
        state = _Day(key, {**names, **_made_of(owned, key, names)}, listed)
        try:
            # What this computer just published is its own layout already: nothing to apply.
            if organizer_dir is None or not _publish(
                dav, journal, discovery, found, state, media, organizer_dir, exchanged
            ):
                _apply(dav, journal, state, media, exchanged, warnings)
        except (AuthError, Cancelled):
            raise
        except CongsyncError as exc:
            log.warning("section order of %s: %s", key, exc)
            warnings.append(
                _("{date}/{name}: {reason}").format(
                    date=key, name=SECTION_ORDER_FILE, reason=exc.message
                )
            )
    journal.forget_section_orders(before=today.isoformat())
    return warnings


def _publish(
    dav: DavClient,
    journal: Journal,
    discovery: Discovery,
    found: ServerSnapshot,
    day: _Day,
    media: MediaFolder,
    organizer_dir: Path,
    exchanged: dict[str, dict[str, Any]],
) -> bool:
    """The organizer's layout of `day`, from whichever of his folders M³ wrote last;
    whether it was published."""
    folders = found.media_dates.get(date.fromisoformat(day.key), ())
    if not folders:
        return False  # no date folder on the server: a layout alone never creates one
    candidates = []
    server_names = {n for n in day.remote_names.values()}
    for path, remote_names in (
        (media.file_path(day.key, SECTION_ORDER_FILE), day.remote_names),
        # The organizer folder's names are the server's names (it is published as it is).
        (organizer_dir / day.key / SECTION_ORDER_FILE, {n: n for n in server_names}),
    ):
        with contextlib.suppress(OSError):
            candidates.append((path.stat().st_mtime_ns, path, remote_names))
    if not candidates:
        return False
    _mtime, path, remote_names = max(candidates, key=lambda c: c[0])
    entries = _read(path)
    if entries is None:
        log.info("%s is not a complete layout file (yet); not published", path)
        return False
    published = to_remote(entries, remote_names)
    last = exchanged.get(day.key, {})
    if not published or published == last.get("entries"):
        return False
    target = (*folders[0], SECTION_ORDER_FILE)
    expect = (
        Expect.entry(to_remote_entry(day.server_file))
        if day.server_file is not None
        else Expect.absent()
    )
    stager = Stager(dav, journal=journal, collections=found.collections)
    try:
        entry = stager.upload_bytes(serialize(published), target, expect=expect)
    except PreconditionFailed:
        # A co-organizer published his meanwhile: the server's wins, as for media conflicts.
        log.info("the order of %s changed on the server meanwhile; not published", day.key)
        return False
    finally:
        discovery.server_changed()
    log.info("published the order of %d file(s) of %s", len(published), day.key)
    record = {"version": entry.version, "entries": published}
    journal.save_section_order(day.key, record)
    exchanged[day.key] = record
    return True


def _apply(
    dav: DavClient,
    journal: Journal,
    day: _Day,
    media: MediaFolder,
    exchanged: dict[str, dict[str, Any]],
    warnings: list[str],
) -> None:
    """The server's layout of `day` merged into this computer's, once per server version."""
    remote = day.server_file
    last = exchanged.get(day.key, {})
    if remote is None or last.get("version") == remote.version:
        return
    target = media.file_path(day.key, SECTION_ORDER_FILE)
    if not target.parent.is_dir():
        return  # nothing of the congregation's arrived there yet: applied when it has
    published = parse(dav.get_bytes(remote.path, MAX_BYTES))
    record: dict[str, Any] = {"version": remote.version, "entries": published or {}}
    if published is None:
        warnings.append(
            _(
                "The organizer's order for {date} is not a valid layout file; this computer's "
                "order is left as it is."
            ).format(date=day.key)
        )
    else:
        own: Entries = {}
        if target.exists():
            found = _read(target)
            if found is None:
                kept = _keep_broken(media, target, day.key)
                warnings.append(
                    _(
                        "{path} was not a valid layout file (Meeting Media Manager ignores such a "
                        "file); it was kept as {kept} and replaced by the organizer's order."
                    ).format(path=target, kept=kept)
                )
            else:
                own = found
        local_names = {remote_name: local for local, remote_name in day.remote_names.items()}
        merged = merge(own, published, local_names)
        if merged != own or not target.exists():
            write_like_m3(target, merged)
            log.info("applied the organizer's order of %s", day.key)
    journal.save_section_order(day.key, record)
    exchanged[day.key] = record


def _read(path: Path) -> Entries | None:
    try:
        return parse(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise disk_error(exc, path) from exc


def _keep_broken(media: MediaFolder, path: Path, day: str) -> Path:
    kept = media.internal / "section-order" / f"{day} {time.time_ns()}.json"
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, kept)
    except OSError as exc:
        raise disk_error(exc, path) from exc
    return kept


def write_like_m3(target: Path, entries: Mapping[str, object]) -> None:
    """Write `.section-order.json` as M³ does: a `.<ms>.tmp` beside it, renamed into place,
    hidden on Windows."""
    tmp = target.with_name(f"{target.name}.{time.time_ns() // 1_000_000}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(serialize(entries))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise disk_error(exc, target) from exc
    _hide(target)


def _hide(path: Path) -> None:
    """Windows only (M³ hides the file there too); not exercised by the tests, which run on Linux."""
    platform: str = sys.platform  # a plain str: the branch is type-checked on every system
    if platform != "win32":
        return
    import ctypes  # only on Windows

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    attributes = kernel32.GetFileAttributesW(str(path))
    if attributes == 0xFFFFFFFF or not kernel32.SetFileAttributesW(
        str(path), attributes | _FILE_ATTRIBUTE_HIDDEN
    ):
        log.info("could not hide %s", path)
