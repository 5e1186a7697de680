"""The organizer's pure reconciliation rules, with plain data (no disk, no network)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.core.layout import parse_date_folder
from daemon.core.organizer_plan import (
    RECURRING_SCOPE,
    Compare,
    Conflict,
    DeleteRemote,
    Download,
    Forget,
    LocalSnapshot,
    MoveLocal,
    MoveRemote,
    RemoteSnapshot,
    Scope,
    TrashLocal,
    Upload,
    conflict_name,
    date_scope,
    hidden_scope,
    is_ignored,
    plan_organizer,
    split_rel,
)
from daemon.core.records import LocalFile, OrganizerRecord, RemoteFile

TODAY = date(2030, 1, 7)
TUE = date(2030, 1, 8)
SUN = date(2030, 1, 13)
PAST = date(2030, 1, 1)

RemotePath = tuple[str, ...]


def rfile(path: RemotePath, version: str = "etag:v1", size: int = 10) -> RemoteFile:
    return RemoteFile(path=path, size=size, version=version, etag=version[5:], etag_raw=None)


def lfile(size: int = 10, mtime_ns: int = 1000) -> LocalFile:
    return LocalFile(size=size, mtime_ns=mtime_ns)


def record(
    rel: str, path: RemotePath, version: str = "etag:v1", size: int = 10, mtime_ns: int = 1000
) -> OrganizerRecord:
    return OrganizerRecord(rel, path, version, None, size, mtime_ns)


def remote_of(*files: RemoteFile, uncertain: frozenset[Scope] = frozenset()) -> RemoteSnapshot:
    by_scope: dict[Scope, dict[RemotePath, RemoteFile]] = {}
    folders: dict[Scope, set[RemotePath]] = {}
    for f in files:
        scope = _scope_of(f.path)
        by_scope.setdefault(scope, {})[f.path] = f
        folders.setdefault(scope, set()).add(f.path[:-1])
    return RemoteSnapshot(
        files=by_scope,
        folders={s: tuple(sorted(p)) for s, p in folders.items()},
        uncertain=uncertain,
    )


def _scope_of(path: RemotePath) -> Scope:
    if path[:2] == ("Media", "Recurring"):
        return RECURRING_SCOPE
    day = parse_date_folder(path[1])
    assert day is not None
    return hidden_scope(day) if path[0] == "Hidden" else date_scope(day)


def plan(
    local: Mapping[str, LocalFile],
    remote: RemoteSnapshot,
    journal: Mapping[str, OrganizerRecord],
    busy: frozenset[str] = frozenset(),
    date_format: str | None = None,
):
    return plan_organizer(
        LocalSnapshot(files=local, busy=busy),
        remote,
        journal,
        today=TODAY,
        date_format=date_format,
    )


A = "2030-01-08/a.mp4"
A_REMOTE = ("Media", "2030-01-08", "a.mp4")


# -- one side changed --------------------------------------------------------------------------


def test_a_dropped_file_is_uploaded_into_a_new_date_folder():
    result = plan({A: lfile()}, remote_of(), {})
    assert result.actions == (Upload(A, A_REMOTE, lfile(), "new"),)


def test_new_date_folder_follows_the_congregation_date_format():
    result = plan({A: lfile()}, remote_of(), {}, date_format="DD-MM-YYYY - dddd")
    (action,) = result.actions
    assert isinstance(action, Upload)
    assert action.target == ("Media", "08-01-2030 - Tuesday", "a.mp4")


def test_an_existing_server_folder_for_the_date_is_reused_whatever_its_spelling():
    other = rfile(("Media", "08-01-2030 - Dienstag", "b.mp4"))
    result = plan({A: lfile()}, remote_of(other), {})
    uploads = [a for a in result.actions if isinstance(a, Upload)]
    assert uploads == [Upload(A, ("Media", "08-01-2030 - Dienstag", "a.mp4"), lfile(), "new")]


def test_recurring_and_hidden_folders_map_to_their_server_folders():
    local = {"Recurring/song.mp4": lfile(), "Hidden/2030-01-08/a.mp4": lfile(0)}
    result = plan(local, remote_of(), {})
    targets = {a.rel: a.target for a in result.actions if isinstance(a, Upload)}
    assert targets == {
        "Recurring/song.mp4": ("Media", "Recurring", "song.mp4"),
        "Hidden/2030-01-08/a.mp4": ("Hidden", "2030-01-08", "a.mp4"),
    }


def test_a_changed_local_file_replaces_the_version_the_journal_knows():
    rec = record(A, A_REMOTE)
    result = plan({A: lfile(size=20)}, remote_of(rfile(A_REMOTE)), {A: rec})
    assert result.actions == (Upload(A, A_REMOTE, lfile(size=20), "replace", rec),)


def test_a_file_new_on_the_server_comes_down():
    result = plan({}, remote_of(rfile(A_REMOTE)), {})
    assert result.actions == (Download(A, rfile(A_REMOTE), "new", None),)


def test_a_file_changed_on_the_server_replaces_the_unchanged_local_one():
    result = plan({A: lfile()}, remote_of(rfile(A_REMOTE, "etag:v2")), {A: record(A, A_REMOTE)})
    assert result.actions == (Download(A, rfile(A_REMOTE, "etag:v2"), "update", lfile()),)


def test_a_local_deletion_deletes_on_the_server():
    rec = record(A, A_REMOTE)
    result = plan({}, remote_of(rfile(A_REMOTE)), {A: rec})
    assert result.actions == (DeleteRemote(A, rec),)


def test_a_server_deletion_moves_the_local_file_to_the_trash():
    rec = record(A, A_REMOTE)
    result = plan({A: lfile()}, remote_of(), {A: rec})
    assert result.actions == (TrashLocal(A, rec, lfile()),)


def test_nothing_changed_means_nothing_to_do():
    result = plan({A: lfile()}, remote_of(rfile(A_REMOTE)), {A: record(A, A_REMOTE)})
    assert result.actions == () and result.unchanged == 1


# -- both sides changed ------------------------------------------------------------------------


def test_changed_on_both_sides_is_a_conflict_the_server_wins():
    result = plan(
        {A: lfile(size=20)}, remote_of(rfile(A_REMOTE, "etag:v2")), {A: record(A, A_REMOTE)}
    )
    assert result.actions == (Conflict(A, rfile(A_REMOTE, "etag:v2"), lfile(size=20)),)


def test_new_on_both_sides_under_one_name_is_compared():
    result = plan({A: lfile()}, remote_of(rfile(A_REMOTE)), {})
    assert result.actions == (Compare(A, rfile(A_REMOTE), lfile()),)


def test_names_differing_only_in_case_are_one_file_for_pairing():
    result = plan({"2030-01-08/A.MP4": lfile()}, remote_of(rfile(A_REMOTE)), {})
    assert result.actions == (Compare("2030-01-08/A.MP4", rfile(A_REMOTE), lfile()),)


def test_a_server_deletion_of_a_locally_changed_file_uploads_it_again():
    result = plan({A: lfile(size=20)}, remote_of(), {A: record(A, A_REMOTE)})
    assert result.actions == (Upload(A, A_REMOTE, lfile(size=20), "restore"),)


def test_a_local_deletion_of_a_file_changed_on_the_server_brings_it_back():
    result = plan({}, remote_of(rfile(A_REMOTE, "etag:v2")), {A: record(A, A_REMOTE)})
    assert result.actions == (Download(A, rfile(A_REMOTE, "etag:v2"), "restore", None),)


def test_deleted_on_both_sides_is_forgotten():
    result = plan({}, remote_of(), {A: record(A, A_REMOTE)})
    assert result.actions == (Forget(A),)


# -- renames -----------------------------------------------------------------------------------


def test_a_local_rename_is_a_move_on_the_server():
    rec = record(A, A_REMOTE, mtime_ns=555)
    new = "2030-01-08/renamed.mp4"
    result = plan({new: lfile(mtime_ns=555)}, remote_of(rfile(A_REMOTE)), {A: rec})
    assert result.actions == (
        MoveRemote(A, new, rec, ("Media", "2030-01-08", "renamed.mp4"), lfile(mtime_ns=555)),
    )


def test_a_move_to_another_meeting_is_a_move_on_the_server():
    rec = record(A, A_REMOTE, mtime_ns=555)
    new = "2030-01-13/a.mp4"
    result = plan({new: lfile(mtime_ns=555)}, remote_of(rfile(A_REMOTE)), {A: rec})
    (action,) = result.actions
    assert isinstance(action, MoveRemote) and action.target == ("Media", "2030-01-13", "a.mp4")


def test_a_case_only_rename_is_a_move_not_a_collision():
    rec = record(A, A_REMOTE, mtime_ns=555)
    new = "2030-01-08/A.mp4"
    result = plan({new: lfile(mtime_ns=555)}, remote_of(rfile(A_REMOTE)), {A: rec})
    (action,) = result.actions
    assert isinstance(action, MoveRemote) and action.target[-1] == "A.mp4"


def test_ambiguous_renames_are_not_guessed():
    recs = {
        "2030-01-08/a.mp4": record("2030-01-08/a.mp4", A_REMOTE, mtime_ns=5),
        "2030-01-08/b.mp4": record(
            "2030-01-08/b.mp4", ("Media", "2030-01-08", "b.mp4"), mtime_ns=5
        ),
    }
    local = {"2030-01-08/c.mp4": lfile(mtime_ns=5), "2030-01-08/d.mp4": lfile(mtime_ns=5)}
    remote = remote_of(rfile(A_REMOTE), rfile(("Media", "2030-01-08", "b.mp4")))
    result = plan(local, remote, recs)
    assert not result.of(MoveRemote)
    assert len(result.of(DeleteRemote)) == 2 and len(result.of(Upload)) == 2


def test_a_rename_on_the_server_renames_locally():
    rec = record(A, A_REMOTE, "etag:same")
    moved = rfile(("Media", "2030-01-08", "b.mp4"), "etag:same")
    result = plan({A: lfile()}, remote_of(moved), {A: rec})
    assert result.actions == (MoveLocal(A, "2030-01-08/b.mp4", rec, moved),)


def test_a_server_rename_is_not_guessed_from_size_and_date_alone():
    rec = record(A, A_REMOTE, "size:10:mtime:x")
    moved = rfile(("Media", "2030-01-08", "b.mp4"), "size:10:mtime:x")
    result = plan({A: lfile()}, remote_of(moved), {A: rec})
    assert {type(a) for a in result.actions} == {TrashLocal, Download}


# -- safety ------------------------------------------------------------------------------------


def test_a_partial_listing_never_counts_as_a_server_deletion():
    rec = record(A, A_REMOTE)
    result = plan({A: lfile()}, remote_of(uncertain=frozenset({date_scope(TUE)})), {A: rec})
    assert result.actions == () and result.unchanged == 1


def test_a_partial_media_listing_makes_every_date_uncertain():
    rec = record(A, A_REMOTE)
    remote = RemoteSnapshot(files={}, media_complete=False)
    assert plan({A: lfile()}, remote, {A: rec}).actions == ()


def test_a_file_being_written_is_left_alone():
    rec = record(A, A_REMOTE)
    result = plan({}, remote_of(rfile(A_REMOTE)), {A: rec}, busy=frozenset({A}))
    assert result.actions == ()
    assert plan({}, remote_of(rfile(A_REMOTE)), {}, busy=frozenset({A})).actions == ()


def test_past_meetings_are_forgotten_not_touched():
    old = "2030-01-01/old.mp4"
    rec = record(old, ("Media", "2030-01-01", "old.mp4"))
    result = plan({}, remote_of(), {old: rec})
    assert result.actions == (Forget(old),)


def test_deleting_most_of_what_is_synced_is_a_mass_deletion():
    recs = {
        f"2030-01-08/{n}.jpg": record(f"2030-01-08/{n}.jpg", ("Media", "2030-01-08", f"{n}.jpg"))
        for n in "abcd"
    }
    result = plan({}, remote_of(*(rfile(r.remote_path) for r in recs.values())), recs)
    assert result.is_mass_deletion


def test_unsafe_names_are_published_under_a_safe_readable_name():
    result = plan({"2030-01-08/What? Now.mp4": lfile()}, remote_of(), {})
    (action,) = result.of(Upload)
    assert isinstance(action, Upload) and action.target[-1] == "What_ Now.mp4"
    assert any("What_ Now.mp4" in w for w in result.warnings)


def test_names_that_would_collide_on_members_computers_are_not_published():
    local = {"2030-01-08/Talk.mp4": lfile(), "2030-01-08/talk.mp4": lfile(mtime_ns=7)}
    result = plan(local, remote_of(), {})
    assert len(result.of(Upload)) == 1
    assert any("same file" in w for w in result.warnings)


def test_unsafe_server_names_come_down_under_safe_local_names():
    remote = rfile(("Media", "2030-01-08", "a:b.mp4"))
    result = plan({}, remote_of(remote), {})
    assert result.actions == (Download("2030-01-08/a_b.mp4", remote, "new", None),)


# -- names -------------------------------------------------------------------------------------


def test_temporary_and_system_files_are_ignored():
    for name in (
        "movie.mp4.part",
        "x.crdownload",
        "a.TMP",
        "~$talk.pptx",
        ".~lock.talk.odp#",
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        ".hidden",
        "talk (conflicted copy 2030-01-07 101010).mp4",
    ):
        assert is_ignored(name), name
    for name in ("talk.mp4", "partial.mp4", "tmp.jpg"):
        assert not is_ignored(name), name


def test_conflict_copies_keep_the_extension_and_are_ignored():
    name = conflict_name("talk.mp4", datetime(2030, 1, 7, 19, 30, 5))
    assert name == "talk (conflicted copy 2030-01-07 193005).mp4"
    assert is_ignored(name)
    assert conflict_name("README", datetime(2030, 1, 7), 2).endswith(" 2)")


def test_rels_outside_the_synced_folders_are_not_synced():
    assert split_rel("2030-01-08/a.mp4") == (date_scope(TUE), "a.mp4")
    assert split_rel("Hidden/2030-01-08/a.mp4") == (hidden_scope(TUE), "a.mp4")
    assert split_rel("Recurring/a.mp4") == (RECURRING_SCOPE, "a.mp4")
    for rel in ("a.mp4", "notes/a.mp4", "2030-01-08/sub/a.mp4", "Hidden/x/a.mp4", "2030-13-01/a"):
        assert split_rel(rel) is None


# -- properties --------------------------------------------------------------------------------

names = st.sampled_from(["a.mp4", "b.jpg", "c.png"])
scopes = st.sampled_from(["2030-01-08", "2030-01-13", "Recurring"])
versions = st.sampled_from(["etag:v1", "etag:v2"])
sizes = st.sampled_from([10, 20])


@st.composite
def situations(draw: st.DrawFn):
    local: dict[str, LocalFile] = {}
    remote_files: list[RemoteFile] = []
    journal: dict[str, OrganizerRecord] = {}
    for scope in ("2030-01-08", "2030-01-13", "Recurring"):
        for name in draw(st.sets(names)):
            rel = f"{scope}/{name}"
            path = ("Media", scope, name)
            if draw(st.booleans()):
                local[rel] = lfile(draw(sizes), draw(st.sampled_from([1, 2])))
            if draw(st.booleans()):
                remote_files.append(rfile(path, draw(versions)))
            if draw(st.booleans()):
                journal[rel] = record(rel, path, draw(versions), draw(sizes), 1)
    return local, remote_of(*remote_files), journal


@settings(max_examples=300, deadline=None)
@given(situations())
def test_every_path_gets_at_most_one_action(situation):
    local, remote, journal = situation
    result = plan(local, remote, journal)
    rels = [a.rel for a in result.actions]
    rels += [a.new_rel for a in result.actions if isinstance(a, MoveRemote | MoveLocal)]
    assert len(rels) == len(set(rels))


@settings(max_examples=300, deadline=None)
@given(situations())
def test_nothing_changed_on_either_side_is_never_deleted(situation):
    local, remote, journal = situation
    result = plan(local, remote, journal)
    for action in result.actions:
        if isinstance(action, DeleteRemote):
            assert action.rel not in local  # only what was deleted here
        if isinstance(action, TrashLocal):
            path = action.record.remote_path
            assert all(path not in files for files in remote.files.values())


@settings(max_examples=300, deadline=None)
@given(situations())
def test_a_local_change_is_never_silently_overwritten(situation):
    local, remote, journal = situation
    for action in plan(local, remote, journal).actions:
        if isinstance(action, Download) and action.expect is not None:
            rec = journal[action.rel]
            assert (action.expect.size, action.expect.mtime_ns) == (rec.size, rec.mtime_ns)
        if isinstance(action, Download) and action.expect is None:
            assert action.rel not in local


@settings(max_examples=300, deadline=None)
@given(situations())
def test_a_synced_state_plans_nothing(situation):
    """After agreeing (journal = both sides), reconciling again does nothing."""
    local, remote, _journal = situation
    agreed: dict[str, OrganizerRecord] = {}
    remote_files = {p: f for files in remote.files.values() for p, f in files.items()}
    both = {rel: f for rel, f in local.items() if ("Media", *rel.split("/")) in remote_files}
    for rel, f in both.items():
        path = ("Media", *rel.split("/"))
        agreed[rel] = record(rel, path, remote_files[path].version, f.size, f.mtime_ns)
    synced_remote = remote_of(*(remote_files[("Media", *rel.split("/"))] for rel in both))
    result = plan(both, synced_remote, agreed)
    assert result.actions == () and result.unchanged == len(both)
