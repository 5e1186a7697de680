"""Pure two-way reconciliation of the organizer folder: (local snapshot, server snapshot, journal) -> actions.

Nothing here touches the disk or the network, so every rule is testable with plain data.

Paths in the organizer folder ("rels") are '/'-separated and relative to it:
`2026-11-24/talk.mp4` <-> `Media/<date folder>/talk.mp4`, `Recurring/song.mp4` <->
`Media/Recurring/song.mp4`, `Hidden/2026-11-24/talk.mp4` <-> `Hidden/<date folder>/talk.mp4`.
Local date folders are always `YYYY-MM-DD`; server date folders may be spelled any way
layout.parse_date_folder reads. The journal holds the last state both sides agreed on, so a
change on one side is told apart from a change on the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from daemon.core.layout import HIDDEN, MEDIA, RECURRING, format_date_folder, parse_date_folder
from daemon.core.names import assign_local_names, collision_key, safe_local_name
from daemon.core.records import LocalFile, OrganizerRecord, RemoteFile, is_mass_deletion
from daemon.i18n import _

RemotePath = tuple[str, ...]

# Files no organizer means to publish: downloads and copies in progress, editors' lock and swap
# files, the OS's folder litter, and congsync's own conflict copies (never sent to members).
_IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})
_IGNORED_SUFFIXES = (".part", ".crdownload", ".tmp", ".download", ".partial", ".crswap")
CONFLICT_MARK = "(conflicted copy "


def is_ignored(name: str) -> bool:
    """Whether a file name in the organizer folder is never synced (temporary or system file)."""
    lowered = name.casefold()
    return (
        name.startswith((".", "~$"))  # dot-files, .~lock.*#, .DS_Store, Office's ~$ owner files
        or lowered in _IGNORED_NAMES
        or lowered.endswith(_IGNORED_SUFFIXES)
        or CONFLICT_MARK in name
    )


def conflict_name(name: str, when: datetime, attempt: int = 1) -> str:
    """`talk (conflicted copy 2026-11-24 193000).mp4`; `attempt` > 1 adds a number."""
    dot = name.rfind(".")
    stem, extension = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    stamp = when.strftime("%Y-%m-%d %H%M%S")
    suffix = f" {attempt}" if attempt > 1 else ""
    return f"{stem} {CONFLICT_MARK}{stamp}{suffix}){extension}"


_CONFLICT_SUFFIX = re.compile(r" \(conflicted copy [0-9-]+ [0-9]{6}(?: [0-9]+)?\)")


def conflict_original(name: str) -> str:
    """The name a conflict copy was set aside from (`conflict_name` undone)."""
    return _CONFLICT_SUFFIX.sub("", name, count=1)


# ---------------------------------------------------------------------------------------------
# Scopes: the folders that are synced


@dataclass(frozen=True, order=True)
class Scope:
    """One synced folder: a meeting date, Recurring, or the hidden markers of a date."""

    kind: str  # "date", "recurring" or "hidden"
    day: date | None = None

    @property
    def local(self) -> str:
        """The folder's path inside the organizer folder."""
        if self.kind == "recurring":
            return RECURRING
        assert self.day is not None
        if self.kind == "hidden":
            return f"{HIDDEN}/{self.day.isoformat()}"
        return self.day.isoformat()

    def default_folder(self, date_format: str | None) -> RemotePath:
        """Where this scope lives on the server when no folder for it exists yet."""
        if self.kind == "recurring":
            return (MEDIA, RECURRING)
        assert self.day is not None
        top = HIDDEN if self.kind == "hidden" else MEDIA
        return (top, format_date_folder(self.day, date_format))

    def in_range(self, today: date) -> bool:
        return self.day is None or self.day >= today


RECURRING_SCOPE = Scope("recurring")


def date_scope(day: date) -> Scope:
    return Scope("date", day)


def hidden_scope(day: date) -> Scope:
    return Scope("hidden", day)


def parse_iso_day(name: str) -> date | None:
    """A local date folder name (`YYYY-MM-DD` only) as a date."""
    if len(name) != 10:
        return None
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def folder_day(name: str) -> date | None:
    """The meeting date a local folder name stands for without doubt: `YYYY-MM-DD`, or another
    spelling the server format reads (`DD-MM-YYYY`, either followed by ` - ` and a weekday)."""
    return parse_iso_day(name) or parse_date_folder(name)


_LOOSE_DATE = re.compile(r"([0-9]{4})[-_. ]?([0-9]{1,2})[-_. ]?([0-9]{1,2})")


def guess_day(name: str) -> date | None:
    """A date a folder name probably means though it is not a date folder (`2026-12-3`,
    `20261203`): suggested to the organizer, never acted on."""
    match = _LOOSE_DATE.fullmatch(name.strip())
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def split_rel(rel: str) -> tuple[Scope, str] | None:
    """The scope and file name of a rel, or None if the rel is not in a synced folder."""
    parts = rel.split("/")
    if len(parts) == 2 and parts[0] == RECURRING:
        return RECURRING_SCOPE, parts[1]
    if len(parts) == 2:
        day = parse_iso_day(parts[0])
        return (date_scope(day), parts[1]) if day else None
    if len(parts) == 3 and parts[0] == HIDDEN:
        day = parse_iso_day(parts[1])
        return (hidden_scope(day), parts[2]) if day else None
    return None


def join_rel(scope: Scope, name: str) -> str:
    return f"{scope.local}/{name}"


# ---------------------------------------------------------------------------------------------
# Snapshots and actions


@dataclass(frozen=True)
class LocalSnapshot:
    """Stable files in the synced folders, and those still being written (left for later)."""

    files: Mapping[str, LocalFile]
    busy: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RemoteSnapshot:
    """The server's synced folders: files by full remote path, and each scope's folders."""

    files: Mapping[Scope, Mapping[RemotePath, RemoteFile]]
    # Existing server folders per scope, in sort order; new files go into the first one.
    folders: Mapping[Scope, tuple[RemotePath, ...]] = field(default_factory=dict)
    # Scopes whose listing failed or dropped entries: nothing missing there counts as deleted.
    uncertain: frozenset[Scope] = frozenset()
    media_complete: bool = True  # the Media/ listing itself (else every date may be missing)
    hidden_complete: bool = True

    def certain(self, scope: Scope) -> bool:
        if scope in self.uncertain:
            return False
        return self.hidden_complete if scope.kind == "hidden" else self.media_complete


@dataclass(frozen=True)
class Upload:
    rel: str
    target: RemotePath
    local: LocalFile  # what was seen; the file must still be so after the upload
    kind: (
        str  # "new", "replace" (a changed file) or "restore" (deleted on the server, changed here)
    )
    previous: OrganizerRecord | None = None  # replace: the version it must replace


@dataclass(frozen=True)
class Download:
    rel: str
    remote: RemoteFile
    kind: str  # "new", "update" (changed on the server) or "restore" (deleted here, changed there)
    expect: LocalFile | None  # the local file it may replace (None: there must be none)


@dataclass(frozen=True)
class Conflict:
    """Changed on both sides: the local file is kept as a conflict copy, the server's comes down."""

    rel: str
    remote: RemoteFile
    local: LocalFile


@dataclass(frozen=True)
class Compare:
    """New on both sides under one name: identical means in sync, different means a conflict."""

    rel: str
    remote: RemoteFile
    local: LocalFile


@dataclass(frozen=True)
class DeleteRemote:
    rel: str
    record: OrganizerRecord


@dataclass(frozen=True)
class TrashLocal:
    rel: str
    record: OrganizerRecord
    local: LocalFile


@dataclass(frozen=True)
class MoveRemote:
    """Renamed or moved in the organizer folder: MOVE on the server (never delete + upload)."""

    rel: str  # the old place
    new_rel: str
    record: OrganizerRecord
    target: RemotePath
    local: LocalFile


@dataclass(frozen=True)
class MoveLocal:
    """Renamed or moved on the server by a co-organizer: rename here too."""

    rel: str
    new_rel: str
    record: OrganizerRecord
    remote: RemoteFile


@dataclass(frozen=True)
class Forget:
    rel: str


Action = (
    Upload
    | Download
    | Conflict
    | Compare
    | DeleteRemote
    | TrashLocal
    | MoveRemote
    | MoveLocal
    | Forget
)


@dataclass(frozen=True)
class OrganizerPlan:
    actions: tuple[Action, ...]
    unchanged: int
    owned_in_use: int  # journal records in synced folders of today and later
    warnings: tuple[str, ...] = ()

    def of(self, kind: type) -> list[Action]:
        return [a for a in self.actions if isinstance(a, kind)]

    @property
    def deletions(self) -> int:
        return sum(1 for a in self.actions if isinstance(a, DeleteRemote | TrashLocal))

    @property
    def is_mass_deletion(self) -> bool:
        """More than half of what is synced would be deleted on one side: stop and ask."""
        return is_mass_deletion(self.deletions, self.owned_in_use)


# ---------------------------------------------------------------------------------------------
# The decision


def _same(local: LocalFile, record: OrganizerRecord) -> bool:
    return local.size == record.size and local.mtime_ns == record.mtime_ns


def _where(rel: str) -> tuple[Scope, str]:
    where = split_rel(rel)
    if where is None:
        raise ValueError(rel)  # callers only pass rels they built or filtered
    return where


def _unique_pairs(
    sources: Iterable[tuple[object, str]], targets: Iterable[tuple[object, str]]
) -> dict[str, str]:
    """Pair source -> target ids sharing a key, only where the key is unique on both sides."""
    by_key_s: dict[object, list[str]] = {}
    by_key_t: dict[object, list[str]] = {}
    for key, ident in sources:
        by_key_s.setdefault(key, []).append(ident)
    for key, ident in targets:
        by_key_t.setdefault(key, []).append(ident)
    return {
        ids[0]: by_key_t[key][0]
        for key, ids in by_key_s.items()
        if len(ids) == 1 and len(by_key_t.get(key, ())) == 1
    }


def plan_organizer(
    local: LocalSnapshot,
    remote: RemoteSnapshot,
    journal: Mapping[str, OrganizerRecord],
    *,
    today: date,
    date_format: str | None = None,
) -> OrganizerPlan:
    """Decide every action of one organizer cycle.

    Rules: a change on one side since the journal's state is carried to the other; changed on
    both sides, the server wins and the local file is kept as a conflict copy; a deletion on
    one side of a file changed on the other loses to the change; a rename (a vanished file and
    a new one with identical size and mtime) is a MOVE; what a partial listing does not show is
    never taken as deleted; a file still being written is left alone.
    """
    actions: list[Action] = []
    warnings: list[str] = []
    unchanged = 0

    remote_by_path: dict[RemotePath, tuple[Scope, RemoteFile]] = {}
    for scope, files in remote.files.items():
        if not scope.in_range(today):
            continue
        for path, file in files.items():
            remote_by_path[path] = (scope, file)

    # 1. Journal records: which side changed?
    records: dict[str, tuple[Scope, str, OrganizerRecord]] = {}
    for rel, record in sorted(journal.items()):
        where = split_rel(rel)
        if where is None or not where[0].in_range(today):
            actions.append(Forget(rel))  # a past meeting: neither side is touched any more
            continue
        records[rel] = (where[0], where[1], record)
    claimed_remote = {r.remote_path for _s, _n, r in records.values()}

    # 2. Remote files no record knows, with the local names they would get.
    unknown_remote: dict[str, tuple[Scope, RemoteFile]] = {}  # proposed rel -> remote
    local_keys: dict[Scope, set[str]] = {}  # names in use here, as a case-blind disk sees them
    remote_keys: dict[Scope, set[str]] = {}  # names in use on the server, the same way
    for scope, name, record in records.values():
        local_keys.setdefault(scope, set()).add(collision_key(name))
        remote_keys.setdefault(scope, set()).add(collision_key(record.remote_path[-1]))
    for scope, files in sorted(remote.files.items()):
        if not scope.in_range(today):
            continue
        keys = local_keys.setdefault(scope, set())
        remote_keys.setdefault(scope, set()).update(collision_key(p[-1]) for p in files)
        candidates: dict[str, RemotePath] = {}
        for path in sorted(files):
            if path in claimed_remote:
                continue
            if path[-1] in candidates:
                warnings.append(
                    _(
                        "“{name}” exists in two server folders for {folder}; only the first is "
                        "synced with the organizer folder."
                    ).format(name=path[-1], folder=scope.local)
                )
                continue
            candidates[path[-1]] = path
        assignment = assign_local_names(candidates)
        for remote_name, reason in assignment.skipped:
            warnings.append(
                _("Skipped “{name}” ({where}): {reason}").format(
                    name=remote_name, where=scope.local, reason=reason
                )
            )
        for remote_name, local_name in assignment.mapping.items():
            if collision_key(local_name) in keys:
                warnings.append(
                    _(
                        "“{name}” on the server ({where}) would be the same file as another one "
                        "in the organizer folder, so it is not synced."
                    ).format(name=remote_name, where=scope.local)
                )
                continue
            unknown_remote[join_rel(scope, local_name)] = (scope, files[candidates[remote_name]])

    # 3. Local files no record knows; pair those that meet an unknown remote file by name.
    unknown_local: dict[str, LocalFile] = {
        rel: f for rel, f in local.files.items() if rel not in journal and split_rel(rel)
    }
    remote_by_key = {
        (scope, collision_key(_where(rel)[1])): rel for rel, (scope, _f) in unknown_remote.items()
    }
    for rel in sorted(unknown_local):
        scope, name = _where(rel)
        match = remote_by_key.pop((scope, collision_key(name)), None)
        if match is not None:
            _scope, remote_file = unknown_remote.pop(match)
            actions.append(Compare(rel, remote_file, unknown_local.pop(rel)))
    busy_keys = {(w[0], collision_key(w[1])) for rel in local.busy if (w := split_rel(rel))}

    # 4. Renames on either side, paired by identical content metadata.
    vanished_here = {
        rel: record
        for rel, (scope, _name, record) in records.items()
        if rel not in local.files
        and rel not in local.busy
        and (seen := remote_by_path.get(record.remote_path)) is not None
        and seen[1].version == record.version
    }
    local_moves = _unique_pairs(
        (((r.size, r.mtime_ns), rel) for rel, r in vanished_here.items()),
        (((f.size, f.mtime_ns), rel) for rel, f in unknown_local.items()),
    )
    vanished_there = {
        rel: record
        for rel, (scope, _name, record) in records.items()
        if record.remote_path not in remote_by_path
        and remote.certain(scope)
        and (present := local.files.get(rel)) is not None
        and _same(present, record)
        and record.version.startswith("etag:")  # size + date alone is too weak to call a rename
    }
    remote_moves = _unique_pairs(
        ((r.version, rel) for rel, r in vanished_there.items()),
        (
            (f.version, rel)
            for rel, (scope, f) in unknown_remote.items()
            if (scope, collision_key(_where(rel)[1])) not in busy_keys
        ),
    )

    def upload_target(rel: str, moving: tuple[Scope, str] | None = None) -> RemotePath | None:
        """The server path a local file is published at, or None (with a warning) if none fits."""
        scope, name = _where(rel)
        remote_name = safe_local_name(name)
        if remote_name is None:
            warnings.append(
                _("“{rel}” cannot be published: its name has nothing usable in it.").format(rel=rel)
            )
            return None
        key = collision_key(remote_name)
        taken = remote_keys.setdefault(scope, set())
        # A rename that only changes case collides with the file's own old name: that is fine.
        own = moving is not None and moving == (scope, key)
        if key in taken and not own:
            warnings.append(
                _(
                    "“{rel}” is not published: on some members' computers it would be the same "
                    "file as another one in {folder}. Rename it."
                ).format(rel=rel, folder=scope.local)
            )
            return None
        if remote_name != name:
            warnings.append(
                _(
                    "“{rel}” is published as “{name}” so that every member's computer can store it."
                ).format(rel=rel, name=remote_name)
            )
        taken.add(key)
        folders = remote.folders.get(scope) or (scope.default_folder(date_format),)
        return (*folders[0], remote_name)

    for old_rel, new_rel in sorted(local_moves.items()):
        record = vanished_here[old_rel]
        old_scope = records[old_rel][0]
        target = upload_target(new_rel, moving=(old_scope, collision_key(record.remote_path[-1])))
        if target is None:
            continue
        actions.append(MoveRemote(old_rel, new_rel, record, target, unknown_local.pop(new_rel)))
        records.pop(old_rel)
    for old_rel, new_rel in sorted(remote_moves.items()):
        record = vanished_there.pop(old_rel)
        _scope, remote_file = unknown_remote.pop(new_rel)
        actions.append(MoveLocal(old_rel, new_rel, record, remote_file))
        records.pop(old_rel)

    # 5. What is left of the journal: the classic three-way decision.
    for rel, (scope, _name, record) in sorted(records.items()):
        if rel in local.busy:
            continue  # still being written: decide once it is complete
        present = local.files.get(rel)
        seen = remote_by_path.get(record.remote_path)
        there = seen[1] if seen is not None else None
        here_changed = present is not None and not _same(present, record)
        if there is None and not remote.certain(scope):
            unchanged += 1  # cannot tell whether it is gone: do nothing
            continue
        if present is None and there is None:
            actions.append(Forget(rel))
        elif present is None:
            assert there is not None
            if there.version == record.version:
                actions.append(DeleteRemote(rel, record))
            else:
                actions.append(Download(rel, there, "restore", None))
        elif there is None:
            if here_changed:
                actions.append(Upload(rel, record.remote_path, present, "restore"))
            else:
                actions.append(TrashLocal(rel, record, present))
        elif there.version != record.version:
            if here_changed:
                actions.append(Conflict(rel, there, present))
            else:
                actions.append(Download(rel, there, "update", present))
        elif here_changed:
            actions.append(Upload(rel, record.remote_path, present, "replace", record))
        else:
            unchanged += 1

    # 6. New on one side only.
    for rel, (scope, remote_file) in sorted(unknown_remote.items()):
        if (scope, collision_key(_where(rel)[1])) in busy_keys:
            continue  # something is being written under that name here: later
        actions.append(Download(rel, remote_file, "new", None))
    for rel, present in sorted(unknown_local.items()):
        target = upload_target(rel)
        if target is not None:
            actions.append(Upload(rel, target, present, "new"))

    in_use = sum(1 for rel in journal if (w := split_rel(rel)) and w[0].in_range(today))
    return OrganizerPlan(
        actions=tuple(actions),
        unchanged=unchanged,
        owned_in_use=in_use,
        warnings=tuple(warnings),
    )
