"""What the server says about its resources, in congsync's terms: entries, listings, versions, and
the conditions a write may carry."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime

RemotePath = tuple[str, ...]


@dataclass(frozen=True)
class RemoteEntry:
    """One file or collection as the server listed it (names decoded, ETag normalised)."""

    path: RemotePath
    is_dir: bool
    size: int | None
    etag: str | None  # normalised: no W/, no quotes, no -gzip suffix
    modified: datetime | None
    etag_raw: str | None = None  # as the server sent it, for If-Match / If-Range
    modified_raw: str | None = None

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else ""

    @property
    def version(self) -> str:
        """What tells one version of this resource from another: ETag, else size + date."""
        if self.etag:
            return f"etag:{self.etag}"
        stamp = self.modified.isoformat() if self.modified else "?"
        return f"size:{self.size}:mtime:{stamp}"


@dataclass(frozen=True)
class Listing:
    """A Depth-1 listing: the collection itself and its direct children."""

    collection: RemoteEntry
    children: tuple[RemoteEntry, ...]
    warnings: tuple[str, ...] = ()
    server_date: datetime | None = None  # the response's Date header: the server's "now"

    @property
    def complete(self) -> bool:
        """False when the server listed things we had to drop: never delete on such a listing."""
        return not self.warnings


def normalise_etag(value: str | None) -> str | None:
    if not value:
        return None
    tag = value.strip()
    if tag.startswith(("W/", "w/")):
        tag = tag[2:]
    tag = tag.strip('"')
    # Apache with mod_deflate appends -gzip (or ;gzip) to the ETag of compressed responses
    for suffix in ("-gzip", ";gzip", "-br"):
        if tag.endswith(suffix):
            tag = tag[: -len(suffix)]
    return tag or None


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:  # some servers send ISO 8601 in getlastmodified
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def is_strong_etag(raw: str | None) -> bool:
    """Whether `raw` can be used in If-Match (strong comparison): quoted and not weak."""
    return raw is not None and len(raw) >= 2 and raw.startswith('"') and raw.endswith('"')


@dataclass(frozen=True)
class Expect:
    """A condition on the resource a write touches: it must still be `version` (as listed, with
    its raw ETag for the server to check), or, with `version` None, it must not exist."""

    version: str | None
    etag_raw: str | None = None

    @classmethod
    def absent(cls) -> Expect:
        return cls(None)

    @classmethod
    def entry(cls, entry: RemoteEntry) -> Expect:
        return cls(entry.version, entry.etag_raw)

    @property
    def must_be_absent(self) -> bool:
        return self.version is None

    def met_by(self, current: RemoteEntry | None) -> bool:
        if self.version is None:
            return current is None
        return current is not None and current.version == self.version
