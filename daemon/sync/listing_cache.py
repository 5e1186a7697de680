"""Child listings remembered by the version their parent reported for them, so that an idle poll
re-lists only the folders that can have changed. Kept in the journal between cycles as JSON."""

from __future__ import annotations

from typing import Any

from daemon.dav import Listing, RemoteEntry, parse_http_date

# Last-modified has one-second resolution: a folder changed this recently could hide a change
# made in the same second as the listing, so its listing is not cached (git's "racily clean").
RACY_SECONDS = 2.0


class ListingCache:
    """Listings of collections, keyed by path and valid while the collection's version stays."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})
        self._used: set[str] = set()

    def to_json(self) -> dict[str, Any]:
        return self._data

    def get(self, entry: RemoteEntry) -> Listing | None:
        self._used.add(key_of(entry))
        cached = self._data.get(key_of(entry))
        if not cached or cached.get("version") != collection_version(entry):
            return None
        children = tuple(entry_from_json(c) for c in cached["children"])
        return Listing(collection=entry, children=children)

    def put(self, entry: RemoteEntry, listing: Listing) -> None:
        """Remember `listing` of the collection `entry` (as its parent listed it), if that is safe."""
        self._used.add(key_of(entry))
        version = collection_version(entry)
        if version is None or not listing.complete or _racy(entry, listing):
            self._data.pop(key_of(entry), None)
            return
        self._data[key_of(entry)] = {
            "version": version,
            "children": [entry_to_json(c) for c in listing.children],
        }

    def prune(self) -> None:
        """Forget the collections this look did not touch (a past date, a removed folder)."""
        for key in list(self._data):
            if key not in self._used:
                del self._data[key]
        self._used.clear()


def key_of(entry: RemoteEntry) -> str:
    return "/".join(entry.path)


def _racy(entry: RemoteEntry, listing: Listing) -> bool:
    """True when the folder changed so recently that a same-second change could hide behind it.

    The server's own clock (the Date header) is used, so clock skew does not matter.
    """
    if entry.etag:
        return False  # ETags change with every change, whatever the clock
    if entry.modified is None or listing.server_date is None:
        return True
    return (listing.server_date - entry.modified).total_seconds() < RACY_SECONDS


def collection_version(entry: RemoteEntry) -> str | None:
    if entry.etag:
        return f"etag:{entry.etag}"
    if entry.modified:
        return f"mtime:{entry.modified.isoformat()}"
    return None


def entry_to_json(entry: RemoteEntry) -> dict[str, Any]:
    return {
        "path": list(entry.path),
        "dir": entry.is_dir,
        "size": entry.size,
        "etag": entry.etag,
        "etag_raw": entry.etag_raw,
        "modified_raw": entry.modified_raw,
    }


def entry_from_json(data: dict[str, Any]) -> RemoteEntry:
    return RemoteEntry(
        path=tuple(data["path"]),
        is_dir=bool(data["dir"]),
        size=data["size"],
        etag=data["etag"],
        modified=parse_http_date(data["modified_raw"]),
        etag_raw=data["etag_raw"],
        modified_raw=data["modified_raw"],
    )
