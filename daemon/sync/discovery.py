"""Discovery: one look at the congregation folder, the snapshot every other part works from.

The member cycle, the organizer cycle, the publishing commands and cleanup all ask `Discovery`
for a `ServerSnapshot`: the folder's own entries (forcedPrefs.json, the staging folder), every
date folder of `Media/` and `Hidden/` in whatever spelling, `Media/Recurring/`, the contents of
the date folders in the span asked for, and how complete each listing was.

Only Depth-0/1 listings of the collections that matter are sent. Between full re-lists, `Media/`
and `Hidden/` (which grow with past dates) are served from the listing cache while the version
their parent reports for them stays; the date folders in the span and `Recurring/` are listed
every time, since a file overwritten in place does not move its folder's version.

On a server that has *proven* that folder ETags follow every change below (dav.Capabilities:
Nextcloud, ownCloud), an unchanged ETag of the congregation folder means nothing below changed,
so one Depth-0 request suffices. The belief is learned only from changes below a direct child
that moved the folder's ETag, is re-checked by an ordinary look every `RECHECK_SECONDS`, and is
dropped at the first counter-example.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from daemon.core.layout import HIDDEN, MEDIA, PREFS_FILE, RECURRING, parse_date_folder
from daemon.core.member_plan import RemoteState
from daemon.core.organizer_plan import (
    RECURRING_SCOPE,
    RemoteSnapshot,
    Scope,
    date_scope,
    hidden_scope,
)
from daemon.core.records import RemoteFile
from daemon.core.section_order import is_section_order_file
from daemon.dav import DavClient, Listing, RemoteEntry, RemotePath
from daemon.errors import AuthError, Cancelled, CongsyncError, FolderMissing, NetworkError, NotFound
from daemon.i18n import _, fact
from daemon.sync.listing_cache import ListingCache

log = logging.getLogger(__name__)

STAGING_FOLDER = ".congsync-uploads"  # where organizers' uploads wait to be moved into place
# Written by the export publisher beside a date's media: for that date, only the files it lists
# are the congregation's selection (sync.export).
SELECTION_MARKER = ".congsync-export.json"
SELECTION_LIMIT = 1 << 20
RECHECK_SECONDS = 600.0  # how long a Depth-0 answer alone is trusted before an ordinary look
MEMORY_FORMAT = 2

Span = tuple[date, date | None]  # the meeting dates whose folders are looked into (None: all later)


@dataclass(frozen=True)
class FolderContents:
    """The files directly inside one listed folder (`listed` False: the listing failed)."""

    path: RemotePath
    files: Mapping[str, RemoteFile]
    listed: bool = True
    complete: bool = True  # False when the listing failed or dropped entries
    # The names its selection marker lists (None: no marker; () when it could not be read).
    selection: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ServerSnapshot:
    """Everything one look learned about the congregation folder."""

    span: Span
    root_version: str | None  # the folder's own ETag, None where the server gives none
    prefs: RemoteFile | None  # forcedPrefs.json as listed
    staging_exists: bool
    media_exists: bool
    hidden_exists: bool
    root_complete: bool  # the folder's own listing dropped nothing
    media_complete: bool  # the Media/ listing dropped nothing (else any date may be missing)
    hidden_complete: bool  # the Hidden/ listing dropped nothing and did not fail
    # Every date folder, in every spelling and for every date, sorted (first spelling first).
    media_dates: Mapping[date, tuple[RemotePath, ...]] = field(default_factory=dict)
    hidden_dates: Mapping[date, tuple[RemotePath, ...]] = field(default_factory=dict)
    recurring: FolderContents | None = None  # None: there is no Recurring folder
    folders: Mapping[RemotePath, FolderContents] = field(default_factory=dict)  # those in span
    warnings: tuple[str, ...] = ()

    def covers(self, span: Span) -> bool:
        start, end = self.span
        want_start, want_end = span
        return start <= want_start and (end is None or (want_end is not None and want_end <= end))

    @property
    def collections(self) -> set[RemotePath]:
        """Folders known to exist (no MKCOL needed)."""
        known: set[RemotePath] = {()}
        for exists, path in (
            (self.media_exists, (MEDIA,)),
            (self.hidden_exists, (HIDDEN,)),
            (self.staging_exists, (STAGING_FOLDER,)),
        ):
            if exists:
                known.add(path)
        for folders in (self.media_dates, self.hidden_dates):
            known.update(p for paths in folders.values() for p in paths)
        if self.recurring is not None:
            known.add(self.recurring.path)
        return known

    def contents(self, path: RemotePath) -> FolderContents | None:
        """The listed contents of one folder (a date folder in the span, or Recurring)."""
        if self.recurring is not None and self.recurring.path == path:
            return self.recurring
        return self.folders.get(path)

    def files_on(self, top: str, day: date) -> dict[str, RemoteFile]:
        """The files of `day` in Media/ or Hidden/, merged across spellings (first one wins)."""
        folders = self.media_dates if top == MEDIA else self.hidden_dates
        files: dict[str, RemoteFile] = {}
        for path in folders.get(day, ()):
            contents = self.folders.get(path)
            if contents is not None:
                for name, file in contents.files.items():
                    files.setdefault(name, file)
        return files

    def past_date_folders(self, before: date) -> list[tuple[date, RemotePath]]:
        """Date folders in Media/ and Hidden/ for meetings before `before` (for cleanup)."""
        found = [
            (day, path)
            for folders in (self.media_dates, self.hidden_dates)
            for day, paths in folders.items()
            if day < before
            for path in paths
        ]
        return sorted(found)

    # -- the views the cycles plan with --------------------------------------------------------

    def member_state(self, window: tuple[date, date]) -> RemoteState:
        """The member planner's view of the dates in `window`."""
        start, end = window
        dated: dict[date, dict[str, RemoteFile]] = {}
        incomplete: set[date] = set()
        exported: set[date] = set()
        for day, paths in sorted(self.media_dates.items()):
            if not start <= day <= end:
                continue
            for path in paths:
                contents = self.folders.get(path)
                if contents is None or not contents.complete:
                    incomplete.add(day)
                if contents is None or not contents.listed:
                    continue
                files = dated.setdefault(day, {})
                if contents.selection is not None:
                    exported.add(day)
                for name, file in contents.files.items():
                    if name != SELECTION_MARKER and not is_section_order_file(name):
                        files.setdefault(name, file)  # M³'s layout and the marker are not media
        for day in exported:
            # The export is the date's complete selection: only the marked files, from any
            # spelling of the date's folder.
            dated[day] = {
                n: f
                for n, f in dated[day].items()
                if any(
                    n in (c.selection or ())
                    for p in self.media_dates.get(day, ())
                    if (c := self.folders.get(p)) is not None
                )
            }
        hidden: dict[date, frozenset[str]] = {}
        hidden_complete = self.hidden_complete
        for day, paths in sorted(self.hidden_dates.items()):
            if not start <= day <= end:
                continue
            names: set[str] = set()
            for path in paths:
                contents = self.folders.get(path)
                if contents is None or not contents.complete:
                    hidden_complete = False
                if contents is not None:
                    names.update(contents.files)
            if names:
                hidden[day] = frozenset(names)
        recurring = self.recurring
        return RemoteState(
            dated=dated,
            recurring=dict(recurring.files) if recurring is not None else {},
            hidden=hidden,
            incomplete_dates=frozenset(incomplete),
            recurring_complete=recurring is None or recurring.complete,
            hidden_complete=hidden_complete,
            media_complete=self.media_complete,
            exported=frozenset(exported),
        )

    def organizer_state(self, today: date, *, exported: bool = False) -> RemoteSnapshot:
        """The organizer planner's view: Recurring and every folder from `today` on, by scope.

        Files a selection marker lists (published from M³'s export) are left out unless
        `exported` (the export publisher's own view)."""
        files: dict[Scope, dict[RemotePath, RemoteFile]] = {}
        folders: dict[Scope, list[RemotePath]] = {}
        uncertain: set[Scope] = set()

        def add(scope: Scope, contents: FolderContents | None, path: RemotePath) -> None:
            folders.setdefault(scope, []).append(path)
            if contents is None or not contents.complete:
                uncertain.add(scope)
            if contents is None or not contents.listed:
                return
            bucket = files.setdefault(scope, {})
            for name, file in contents.files.items():
                # The export's files and their marker are published one way, never synced back;
                # M³'s layout is published from the media folder.
                if (
                    name != SELECTION_MARKER
                    and not is_section_order_file(name)
                    and (exported or name not in (contents.selection or ()))
                ):
                    bucket[file.path] = file

        if self.recurring is not None:
            add(RECURRING_SCOPE, self.recurring, self.recurring.path)
        for dates, make_scope in (
            (self.media_dates, date_scope),
            (self.hidden_dates, hidden_scope),
        ):
            for day, paths in sorted(dates.items()):
                if day >= today:
                    for path in paths:
                        add(make_scope(day), self.folders.get(path), path)
        return RemoteSnapshot(
            files=files,
            folders={scope: tuple(sorted(paths)) for scope, paths in folders.items()},
            uncertain=frozenset(uncertain),
            media_complete=self.root_complete and self.media_complete,
            hidden_complete=self.root_complete and self.hidden_complete,
        )

    # -- memory ----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        def contents(c: FolderContents) -> dict[str, Any]:
            return {
                "path": list(c.path),
                "files": {n: _file_to_json(f) for n, f in sorted(c.files.items())},
                "listed": c.listed,
                "complete": c.complete,
                "selection": list(c.selection) if c.selection is not None else None,
            }

        def dates(d: Mapping[date, tuple[RemotePath, ...]]) -> dict[str, Any]:
            return {day.isoformat(): [list(p) for p in paths] for day, paths in sorted(d.items())}

        return {
            "span": [self.span[0].isoformat(), self.span[1].isoformat() if self.span[1] else None],
            "root_version": self.root_version,
            "prefs": _file_to_json(self.prefs) if self.prefs else None,
            "staging_exists": self.staging_exists,
            "media_exists": self.media_exists,
            "hidden_exists": self.hidden_exists,
            "root_complete": self.root_complete,
            "media_complete": self.media_complete,
            "hidden_complete": self.hidden_complete,
            "media_dates": dates(self.media_dates),
            "hidden_dates": dates(self.hidden_dates),
            "recurring": contents(self.recurring) if self.recurring else None,
            "folders": [contents(c) for _p, c in sorted(self.folders.items())],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ServerSnapshot:
        def contents(c: dict[str, Any]) -> FolderContents:
            return FolderContents(
                path=tuple(c["path"]),
                files={n: _file_from_json(f) for n, f in c["files"].items()},
                listed=c["listed"],
                complete=c["complete"],
                selection=tuple(c["selection"]) if c.get("selection") is not None else None,
            )

        def dates(d: dict[str, Any]) -> dict[date, tuple[RemotePath, ...]]:
            return {
                date.fromisoformat(day): tuple(tuple(p) for p in paths) for day, paths in d.items()
            }

        start, end = data["span"]
        folders = [contents(c) for c in data["folders"]]
        return cls(
            span=(date.fromisoformat(start), date.fromisoformat(end) if end else None),
            root_version=data["root_version"],
            prefs=_file_from_json(data["prefs"]) if data["prefs"] else None,
            staging_exists=data["staging_exists"],
            media_exists=data["media_exists"],
            hidden_exists=data["hidden_exists"],
            root_complete=data["root_complete"],
            media_complete=data["media_complete"],
            hidden_complete=data["hidden_complete"],
            media_dates=dates(data["media_dates"]),
            hidden_dates=dates(data["hidden_dates"]),
            recurring=contents(data["recurring"]) if data["recurring"] else None,
            folders={c.path: c for c in folders},
        )


class Discovery:
    """The one way congsync looks at the server: snapshots, their cache, and what they teach.

    `memory` is the journal's record of earlier looks (listing cache, last snapshot, the folder's
    last version); it is updated in place and the caller saves it. `full_listing` makes every
    look list everything afresh (the first cycle, "Sync now", every couple of hours).
    """

    def __init__(
        self,
        dav: DavClient,
        memory: dict[str, Any],
        *,
        full_listing: bool,
        cancel: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dav = dav
        if memory.get("format") != MEMORY_FORMAT:
            memory.clear()
            memory["format"] = MEMORY_FORMAT
        self.memory = memory
        self.full_listing = full_listing
        self.cancel = cancel
        self._clock = clock
        self._cache = ListingCache(memory.get("children"))
        self._last: ServerSnapshot | None = None

    def snapshot(self, span: Span) -> ServerSnapshot:
        """The server folder for `span`: the last snapshot if it covers it and nothing was
        written since, else a new look."""
        if self._last is not None and self._last.covers(span):
            return self._last
        found = self._shortcut(span)
        if found is None:
            found = self._look(span)
        self._last = found
        return found

    def server_changed(self) -> None:
        """congsync itself wrote to the server: the next snapshot is a new look."""
        self._last = None

    def staged_uploads(self) -> list[RemoteEntry]:
        """The files waiting in the staging folder (organizers sweep abandoned ones); looked at
        only when asked, so that members' polls never pay for it."""
        try:
            listing = self.dav.list((STAGING_FOLDER,), self.cancel)
        except NotFound:
            return []
        return [entry for entry in listing.children if not entry.is_dir]

    # -- the Depth-0 shortcut ------------------------------------------------------------------

    def _shortcut(self, span: Span) -> ServerSnapshot | None:
        root = self.memory.get("root") or {}
        trusted = (
            not self.full_listing
            and self.dav.capabilities.folder_etags_propagate is True
            and root.get("span") == _span_key(span)
            and root.get("snapshot") is not None
            and self._clock() - float(root.get("checked_at") or 0) < RECHECK_SECONDS
        )
        if not trusted:
            return None
        entry = self.dav.stat((), self.cancel)
        if entry.etag is None or entry.etag != root.get("version"):
            return None
        return ServerSnapshot.from_json(root["snapshot"])

    # -- an ordinary look ----------------------------------------------------------------------

    def _look(self, span: Span) -> ServerSnapshot:
        start, end = span
        warnings: list[str] = []
        folders: dict[RemotePath, FolderContents] = {}

        def in_span(day: date) -> bool:
            return start <= day and (end is None or day <= end)

        root = list_congregation_folder(self.dav, self.cancel)
        warnings.extend(root.warnings)
        children = {e.name: e for e in root.children}
        prefs_entry = children.get(PREFS_FILE)
        staging = children.get(STAGING_FOLDER)
        media = _folder(children.get(MEDIA))
        hidden = _folder(children.get(HIDDEN))

        media_dates: dict[date, list[RemotePath]] = {}
        recurring: FolderContents | None = None
        media_complete = True
        if media is not None:
            # Media/ changes only when a date folder comes or goes (its version is in the root
            # listing); past date folders pile up there, so it is re-listed only then.
            listing = self._child(media, always=False)
            warnings.extend(listing.warnings)
            media_complete = listing.complete
            for entry in listing.children:
                if not entry.is_dir:
                    continue
                if entry.name == RECURRING:
                    recurring = self._contents(entry, warnings)
                    continue
                day = parse_date_folder(entry.name)
                if day is None:
                    continue  # not a date: left alone
                media_dates.setdefault(day, []).append(entry.path)
                if in_span(day):
                    folders[entry.path] = self._contents(entry, warnings)

        hidden_dates: dict[date, list[RemotePath]] = {}
        hidden_complete = True
        if hidden is not None:
            try:
                hidden_listing: Listing | None = self._child(hidden, always=False)
            except NotFound:
                hidden_listing = None  # removed between the two listings
            hidden_complete = hidden_listing is not None and hidden_listing.complete
            if hidden_listing is not None:
                warnings.extend(hidden_listing.warnings)
                for entry in hidden_listing.children:
                    day = parse_date_folder(entry.name) if entry.is_dir else None
                    if day is None:
                        continue
                    hidden_dates.setdefault(day, []).append(entry.path)
                    if in_span(day):
                        # A marker added to an existing Hidden/<date>/ changes only that folder.
                        folders[entry.path] = self._contents(entry, warnings)

        self._cache.prune()
        # Selection markers no longer seen are forgotten (their dates passed or lost the export).
        seen = {"/".join(c.path) + "/" + SELECTION_MARKER for c in folders.values()}
        selections = self.memory.get("selections") or {}
        self.memory["selections"] = {k: v for k, v in selections.items() if k in seen}
        found = ServerSnapshot(
            span=span,
            root_version=root.collection.etag,
            prefs=to_remote_file(prefs_entry)
            if prefs_entry is not None and not prefs_entry.is_dir
            else None,
            staging_exists=staging is not None and staging.is_dir,
            media_exists=media is not None,
            hidden_exists=hidden is not None,
            root_complete=root.complete,
            media_complete=media_complete,
            hidden_complete=hidden_complete,
            media_dates={d: tuple(sorted(p)) for d, p in media_dates.items()},
            hidden_dates={d: tuple(sorted(p)) for d, p in hidden_dates.items()},
            recurring=recurring,
            folders=folders,
            warnings=tuple(warnings),
        )
        self._learn(found, root)
        self.memory["children"] = self._cache.to_json()
        return found

    def _child(self, entry: RemoteEntry, *, always: bool) -> Listing:
        """List a child collection, or reuse the cache if its version did not move."""
        if not always and not self.full_listing:
            cached = self._cache.get(entry)
            if cached is not None:
                return cached
        listing = self.dav.list(entry.path, self.cancel)
        # The child's version comes from the parent's listing (WsgiDAV and Apache report it there
        # but not always on the collection itself), so the cache is keyed by that entry.
        self._cache.put(entry, listing)
        return listing

    def _contents(self, entry: RemoteEntry, warnings: list[str]) -> FolderContents:
        """A date folder or Recurring, listed every time; a failure keeps its files (later)."""
        listing = list_or_warn(lambda: self._child(entry, always=True), entry.path, warnings)
        if listing is None:
            return FolderContents(entry.path, {}, listed=False, complete=False)
        warnings.extend(listing.warnings)
        files = {f.name: to_remote_file(f) for f in listing.children if not f.is_dir}
        marker = files.get(SELECTION_MARKER)
        if marker is None:
            return FolderContents(entry.path, files, complete=listing.complete)
        selection = self._selection(marker, warnings)
        return FolderContents(
            entry.path,
            files,
            complete=listing.complete and selection is not None,
            selection=selection if selection is not None else (),
        )

    def _selection(self, marker: RemoteFile, warnings: list[str]) -> tuple[str, ...] | None:
        """The names a selection marker lists (read once per version), or None if unreadable."""
        known = self.memory.setdefault("selections", {})
        key = "/".join(marker.path)
        cached = known.get(key)
        if cached is not None and cached[0] == marker.version:
            return tuple(cached[1])
        try:
            try:
                data = json.loads(self.dav.get_bytes(marker.path, SELECTION_LIMIT))
            except RecursionError:  # nested deeper than Python's stack: no list of names either
                raise ValueError("nested too deeply") from None
            names = data["files"]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError("files is not a list of names")
        except (CongsyncError, ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, AuthError | NetworkError | Cancelled):
                raise
            reason = exc.message if isinstance(exc, CongsyncError) else str(exc)
            log.warning("selection marker %s unreadable: %s", key, reason)
            warnings.append(
                _(
                    "The list of the organizer's selection {path} could not be read ({reason}); "
                    "that meeting's files are kept as they are until it can."
                ).format(path=key, reason=reason)
            )
            return None
        known[key] = [marker.version, names]
        return tuple(names)

    # -- what a look teaches --------------------------------------------------------------------

    def _learn(self, found: ServerSnapshot, root: Listing) -> None:
        """Compare with the last look: evidence for (or against) propagating folder ETags."""
        previous = self.memory.get("root") or {}
        direct = _digest(
            sorted([e.name, e.is_dir, None if e.is_dir else e.version] for e in root.children)
        )
        data = found.to_json()
        # What lies inside the folder's direct children, as one hash (to see it change).
        below = _digest(
            {k: data[k] for k in ("media_dates", "hidden_dates", "recurring", "folders")}
        )
        span = _span_key(found.span)
        if (
            previous.get("span") == span
            and previous.get("version") is not None
            and found.root_version is not None
            and found.root_complete
            and not found.warnings
        ):
            self.dav.capabilities.observe_folder(
                changed_below=previous.get("below") != below,
                version_moved=previous.get("version") != found.root_version,
                direct_entries_changed=previous.get("direct") != direct,
            )
        trustworthy = not found.warnings and found.root_version is not None
        self.memory["root"] = {
            "span": span,
            "version": found.root_version,
            "direct": direct,
            "below": below,
            "checked_at": self._clock(),
            "snapshot": data if trustworthy else None,
        }


def list_congregation_folder(dav: DavClient, cancel: threading.Event | None) -> Listing:
    """The folder's own Depth-1 listing; its absence is a safety stop, not an empty folder."""
    try:
        return dav.list((), cancel)
    except NotFound:
        raise FolderMissing(
            fact(
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
        log.warning("listing %s failed: %s", "/".join(path), exc)
        return None


def to_remote_file(entry: RemoteEntry) -> RemoteFile:
    return RemoteFile(
        path=entry.path,
        size=entry.size,
        version=entry.version,
        etag=entry.etag,
        etag_raw=entry.etag_raw,
        modified_raw=entry.modified_raw,
    )


def to_remote_entry(remote: RemoteFile) -> RemoteEntry:
    """The dav entry for a file the core planned with (to download or condition on it)."""
    return RemoteEntry(
        path=remote.path,
        is_dir=False,
        size=remote.size,
        etag=remote.etag,
        modified=None,
        etag_raw=remote.etag_raw,
        modified_raw=remote.modified_raw,
    )


def _folder(entry: RemoteEntry | None) -> RemoteEntry | None:
    return entry if entry is not None and entry.is_dir else None


def _span_key(span: Span) -> str:
    return f"{span[0].isoformat()}..{span[1].isoformat() if span[1] else ''}"


def _digest(data: Any) -> str:
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=True).encode()
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


def _file_to_json(f: RemoteFile) -> list[Any]:
    return [list(f.path), f.size, f.version, f.etag, f.etag_raw, f.modified_raw]


def _file_from_json(data: list[Any]) -> RemoteFile:
    path, size, version, etag, etag_raw, modified_raw = data
    return RemoteFile(tuple(path), size, version, etag, etag_raw, modified_raw)
