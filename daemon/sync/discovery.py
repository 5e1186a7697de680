"""Discovery: turns Depth-0/1 listings of the congregation folder into the plan's RemoteState.

Only the collections that matter are listed: the folder, `Media/`, `Hidden/`, `Recurring/` and
the date folders inside the sync window. Between full re-lists, a collection whose own version
(ETag or last-modified, as seen in its parent's listing) has not changed is served from the
listing cache, so an idle poll costs a handful of small requests whatever the server keeps.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from daemon.core.layout import HIDDEN, MEDIA, PREFS_FILE, RECURRING, parse_date_folder
from daemon.core.member_plan import RemoteState
from daemon.core.records import RemoteFile
from daemon.dav.client import DavClient, Listing, RemoteEntry, RemotePath, parse_http_date
from daemon.errors import AuthError, Cancelled, CongsyncError, FolderMissing, NetworkError, NotFound
from daemon.i18n import _

log = logging.getLogger(__name__)


@dataclass
class Discovery:
    """Everything one cycle learned about the server."""

    state: RemoteState
    prefs_entry: RemoteEntry | None  # forcedPrefs.json as listed, None when absent
    media_missing: bool
    warnings: list[str] = field(default_factory=list)
    root_etag: str | None = None


RACY_SECONDS = 2.0
ROOT_MEMORY = "\u0000root"


class ListingCache:
    """Child listings remembered by the version their parent reported for them.

    Stored in the journal between cycles as plain JSON so a restart stays cheap.
    """

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = data or {}

    def to_json(self) -> dict[str, Any]:
        return self._data

    def get(self, entry: RemoteEntry) -> Listing | None:
        cached = self._data.get("/".join(entry.path))
        if not cached or cached.get("version") != _collection_version(entry):
            return None
        children = tuple(_entry_from_json(c) for c in cached["children"])
        return Listing(collection=entry, children=children)

    def put(self, entry: RemoteEntry, listing: Listing) -> None:
        version = _collection_version(entry)
        if version is None or not listing.complete or _racy(entry, listing):
            self._data.pop("/".join(entry.path), None)
            return
        self._data["/".join(entry.path)] = {
            "version": version,
            "children": [_entry_to_json(c) for c in listing.children],
        }

    def prune(self, keep: set[str]) -> None:
        for key in list(self._data):
            if key not in keep and key != ROOT_MEMORY:
                del self._data[key]

    def root_memory(self) -> dict[str, Any]:
        """What the last cycle saw of the congregation folder itself (see `discover`)."""
        memory: dict[str, Any] = self._data.get(ROOT_MEMORY) or {}
        return memory

    def set_root_memory(self, memory: dict[str, Any]) -> None:
        self._data[ROOT_MEMORY] = memory


def _racy(entry: RemoteEntry, listing: Listing) -> bool:
    """True when the folder changed so recently that a same-second change could hide behind it.

    Last-modified has one-second resolution: a file added in the same second as our listing
    would leave the folder's date unchanged, so such a listing is not cached (as git does with
    racily clean files). The server's own clock (Date header) is used, so skew does not matter.
    """
    if entry.etag:
        return False  # ETags change with every change, whatever the clock
    if entry.modified is None or listing.server_date is None:
        return True
    return (listing.server_date - entry.modified).total_seconds() < RACY_SECONDS


def _collection_version(entry: RemoteEntry) -> str | None:
    if entry.etag:
        return f"etag:{entry.etag}"
    if entry.modified:
        return f"mtime:{entry.modified.isoformat()}"
    return None


def _entry_to_json(entry: RemoteEntry) -> dict[str, Any]:
    return {
        "path": list(entry.path),
        "dir": entry.is_dir,
        "size": entry.size,
        "etag": entry.etag,
        "etag_raw": entry.etag_raw,
        "modified_raw": entry.modified_raw,
    }


def _entry_from_json(data: dict[str, Any]) -> RemoteEntry:
    return RemoteEntry(
        path=tuple(data["path"]),
        is_dir=bool(data["dir"]),
        size=data["size"],
        etag=data["etag"],
        modified=parse_http_date(data["modified_raw"]),
        etag_raw=data["etag_raw"],
        modified_raw=data["modified_raw"],
    )


def to_remote_file(entry: RemoteEntry) -> RemoteFile:
    return RemoteFile(
        path=entry.path,
        size=entry.size,
        version=entry.version,
        etag=entry.etag,
        etag_raw=entry.etag_raw,
        modified_raw=entry.modified_raw,
    )


def discover(
    dav: DavClient,
    window: tuple[date, date],
    *,
    cache: ListingCache,
    full_listing: bool,
    owns_anything: bool,
    cancel: threading.Event | None = None,
) -> Discovery:
    """List what the window needs. Raises on any failure that makes the picture untrustworthy.

    On servers proven to propagate collection ETags upward (Nextcloud, ownCloud), an unchanged
    ETag of the congregation folder means nothing below changed: one Depth-0 request suffices.
    Proof is learned, never assumed: a change seen below without the folder's ETag moving marks
    the server as non-propagating for good (Apache, WsgiDAV).
    """
    memory = cache.root_memory()
    window_key = f"{window[0].isoformat()}..{window[1].isoformat()}"
    if not full_listing and memory.get("propagates") is True and memory.get("window") == window_key:
        root = dav.stat((), cancel)
        if root.etag and root.etag == memory.get("etag") and memory.get("snapshot"):
            return discovery_from_json(memory["snapshot"])
    found = _list_everything(
        dav,
        window,
        cache=cache,
        full_listing=full_listing,
        owns_anything=owns_anything,
        cancel=cancel,
    )
    snapshot = discovery_to_json(found)
    previous = memory.get("snapshot")
    propagates = memory.get("propagates")
    evidence = int(memory.get("evidence", 0))
    changed_below = previous is not None and previous["state"] != snapshot["state"]
    if changed_below and memory.get("window") == window_key and propagates is not False:
        if found.root_etag and memory.get("etag") and found.root_etag != memory.get("etag"):
            evidence += 1
            propagates = True if evidence >= 2 else None
        else:
            propagates = False
    trustworthy = not found.warnings and found.root_etag is not None
    cache.set_root_memory(
        {
            "etag": found.root_etag,
            "window": window_key,
            "propagates": propagates,
            "evidence": evidence,
            "snapshot": snapshot if trustworthy else None,
        }
    )
    return found


def _list_everything(
    dav: DavClient,
    window: tuple[date, date],
    *,
    cache: ListingCache,
    full_listing: bool,
    owns_anything: bool,
    cancel: threading.Event | None,
) -> Discovery:
    start, end = window
    warnings: list[str] = []
    in_use: set[str] = set()

    def child_listing(entry: RemoteEntry, always: bool) -> Listing:
        """List a child collection, or reuse the cache if its version did not move."""
        in_use.add("/".join(entry.path))
        if not always and not full_listing:
            cached = cache.get(entry)
            if cached is not None:
                return cached
        listing = dav.list(entry.path, cancel)
        # The child's own version comes from the parent's listing (WsgiDAV and Apache report it
        # there but not always on the collection itself), so key the cache by that entry.
        cache.put(entry, listing)
        return listing

    root = list_congregation_folder(dav, cancel)
    _collect(root, warnings)
    root_etag = root.collection.etag
    children = {e.name: e for e in root.children}
    prefs_entry = children.get(PREFS_FILE)
    if prefs_entry is not None and prefs_entry.is_dir:
        prefs_entry = None

    media = children.get(MEDIA)
    dated: dict[date, dict[str, RemoteFile]] = {}
    recurring: dict[str, RemoteFile] = {}
    hidden: dict[date, frozenset[str]] = {}
    incomplete: set[date] = set()
    recurring_complete = True
    hidden_complete = True

    if media is None or not media.is_dir:
        if owns_anything:
            raise FolderMissing(
                _(
                    "The Media folder is gone from the congregation folder on the server. congsync "
                    "keeps the media it has and changes nothing until this is resolved."
                )
            )
        return Discovery(
            state=RemoteState(dated={}, recurring={}, hidden={}),
            prefs_entry=prefs_entry,
            media_missing=True,
            warnings=warnings,
            root_etag=root_etag,
        )

    # Media/ and Hidden/ change only when a date folder comes or goes (their version is in the
    # root listing); past date folders pile up there, so they are re-listed only then.
    media_listing = child_listing(media, False)
    _collect(media_listing, warnings)
    for entry in media_listing.children:
        if not entry.is_dir:
            continue
        if entry.name == RECURRING:
            # Listed every time: an overwrite in place does not change the folder's version.
            listing = list_or_warn(partial(child_listing, entry, True), entry.path, warnings)
            if listing is None or not listing.complete:
                recurring_complete = False
            if listing is not None:
                _collect(listing, warnings)
                for f in listing.children:
                    if not f.is_dir:
                        recurring[f.name] = to_remote_file(f)
            continue
        day = parse_date_folder(entry.name)
        if day is None or not start <= day <= end:
            continue  # not a date (left alone), or outside the window (not our business now)
        # Files inside an in-window date folder can be overwritten in place without the folder
        # changing: list these every time.
        listing = list_or_warn(partial(child_listing, entry, True), entry.path, warnings)
        if listing is None or not listing.complete:
            incomplete.add(day)
        if listing is None:
            continue
        _collect(listing, warnings)
        files = dated.setdefault(day, {})
        # The same date can appear in two spellings (2026-11-24 and 24-11-2026 - Tuesday);
        # merge them, first spelling in sort order winning a name clash.
        for f in listing.children:
            if not f.is_dir and f.name not in files:
                files[f.name] = to_remote_file(f)

    hidden_entry = children.get(HIDDEN)
    if hidden_entry is not None and hidden_entry.is_dir:
        try:
            hidden_listing = child_listing(hidden_entry, False)
        except CongsyncError as exc:
            if isinstance(exc, NotFound):
                hidden_listing = None
            else:
                raise
        if hidden_listing is None or not hidden_listing.complete:
            hidden_complete = False
        if hidden_listing is not None:
            _collect(hidden_listing, warnings)
            collected: dict[date, set[str]] = {}
            for entry in hidden_listing.children:
                day = parse_date_folder(entry.name) if entry.is_dir else None
                if day is None or not start <= day <= end:
                    continue
                # A marker added to an existing Hidden/<date>/ changes only that folder.
                listing = list_or_warn(partial(child_listing, entry, True), entry.path, warnings)
                if listing is None or not listing.complete:
                    hidden_complete = False
                if listing is None:
                    continue
                _collect(listing, warnings)
                collected.setdefault(day, set()).update(
                    f.name for f in listing.children if not f.is_dir
                )
            hidden = {d: frozenset(n) for d, n in collected.items()}

    cache.prune(in_use)
    state = RemoteState(
        dated=dated,
        recurring=recurring,
        hidden=hidden,
        incomplete_dates=frozenset(incomplete),
        recurring_complete=recurring_complete,
        hidden_complete=hidden_complete,
        media_complete=media_listing.complete,
    )
    return Discovery(
        state=state,
        prefs_entry=prefs_entry,
        media_missing=False,
        warnings=warnings,
        root_etag=root_etag,
    )


def _file_to_json(f: RemoteFile) -> list[Any]:
    return [list(f.path), f.size, f.version, f.etag, f.etag_raw, f.modified_raw]


def _file_from_json(data: list[Any]) -> RemoteFile:
    path, size, version, etag, etag_raw, modified_raw = data
    return RemoteFile(tuple(path), size, version, etag, etag_raw, modified_raw)


def discovery_to_json(found: Discovery) -> dict[str, Any]:
    s = found.state
    return {
        "state": {
            "dated": {
                d.isoformat(): {n: _file_to_json(f) for n, f in sorted(files.items())}
                for d, files in sorted(s.dated.items())
            },
            "recurring": {n: _file_to_json(f) for n, f in sorted(s.recurring.items())},
            "hidden": {d.isoformat(): sorted(n) for d, n in sorted(s.hidden.items())},
        },
        "prefs": _entry_to_json(found.prefs_entry) if found.prefs_entry else None,
        "media_missing": found.media_missing,
    }


def discovery_from_json(data: dict[str, Any]) -> Discovery:
    s = data["state"]
    state = RemoteState(
        dated={
            date.fromisoformat(d): {n: _file_from_json(f) for n, f in files.items()}
            for d, files in s["dated"].items()
        },
        recurring={n: _file_from_json(f) for n, f in s["recurring"].items()},
        hidden={date.fromisoformat(d): frozenset(n) for d, n in s["hidden"].items()},
    )
    return Discovery(
        state=state,
        prefs_entry=_entry_from_json(data["prefs"]) if data["prefs"] else None,
        media_missing=data["media_missing"],
    )


def _collect(listing: Listing, warnings: list[str]) -> None:
    warnings.extend(listing.warnings)


def list_congregation_folder(dav: DavClient, cancel: threading.Event | None) -> Listing:
    """The folder's own Depth-1 listing; its absence is a safety stop, not an empty folder."""
    try:
        return dav.list((), cancel)
    except NotFound:
        raise FolderMissing(
            _(
                "The congregation folder is gone from the server. congsync changes nothing until "
                "it is back or the configuration points to the right folder."
            )
        ) from None


def list_or_warn(
    lister: Callable[[], Listing], path: RemotePath, warnings: list[str]
) -> Listing | None:
    """A failing date folder must not sink the whole cycle: keep its files, try again later."""
    try:
        return lister()
    except CongsyncError as exc:
        if isinstance(exc, AuthError | NetworkError | Cancelled):
            raise  # these concern the whole server, not this folder: surface them
        warnings.append(
            _("The folder {folder} could not be listed ({reason}); its files are kept.").format(
                folder="/".join(path), reason=exc.message
            )
        )
        log.warning("listing %s failed: %s", "/".join(path), exc.message)
        return None
