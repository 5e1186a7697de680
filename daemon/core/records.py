"""The plain records the planners reason about: a file on the server, a file on disk, and what the
journal remembers of each side, plus the one rule that tells a mass deletion."""

from __future__ import annotations

from dataclasses import dataclass

# Fewer removals than this are never a "mass" deletion, however few files are owned.
MASS_DELETION_MINIMUM = 3


@dataclass(frozen=True)
class RemoteFile:
    """A file in the congregation folder as the server listed it."""

    path: tuple[str, ...]  # relative to the congregation folder
    size: int | None
    version: str  # changes whenever the server's content changes (ETag, else size + date)
    # opaque validators for resuming a download of exactly this version (If-Range)
    etag: str | None = None
    etag_raw: str | None = None
    modified_raw: str | None = None


@dataclass(frozen=True)
class LocalFile:
    """A file on this computer's disk, as far as telling versions apart goes."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class OwnedFile:
    """A file in a date folder of the media folder that congsync wrote and keeps identical.

    `placement` is the local name the plan placed the download under; a post-download step may
    turn one download into several files (a PDF into its pages), each owned under the name it
    has on disk and all sharing the placement, the remote file and its version. None means the
    file is the download itself (`placement` equals `name`).
    """

    date: str
    name: str
    remote_path: tuple[str, ...]
    version: str
    size: int
    mtime_ns: int
    placement: str | None = None

    @property
    def placed_as(self) -> str:
        return self.placement or self.name


@dataclass(frozen=True)
class DifferingFile:
    """A file congsync does not own, at a place where the server has a file, that was found to
    differ from the server's version: the user's, kept as it is.

    Remembered with what was compared (the local size and mtime, the server's version), so the
    server's copy is not downloaded again until one side changes.
    """

    date: str
    name: str  # the local name in the date folder
    version: str  # the server's version it was compared with
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class OrganizerRecord:
    """The last state of one organizer-folder file that both sides agreed on."""

    rel: str
    remote_path: tuple[str, ...]
    version: str
    etag_raw: str | None
    size: int
    mtime_ns: int


def is_mass_deletion(removals: int, kept: int) -> bool:
    """More than half of what congsync keeps would go at once: stop and ask (Syncthing's lesson)."""
    return removals >= MASS_DELETION_MINIMUM and removals * 2 > kept
