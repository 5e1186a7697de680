"""The planners over any remote snapshot and journal, with any names a server or a disk may hold:
never a path outside the media or organizer folder, never a deletion of a file congsync does not
own, and carrying out a plan leaves nothing to do.

Kept where they are (fixed, safe names): tests/core/test_member_plan.py (only owned files
removed, downloads never on the user's files, nothing removed on an uncertain listing, the plan
after the plan is empty) and tests/core/test_organizer_plan.py (one action per path, unchanged
never deleted, a local change never overwritten, a synced state plans nothing).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from daemon.core import member_plan as mp
from daemon.core import organizer_plan as op
from daemon.core.layout import parse_date_folder
from daemon.core.names import collision_key, is_safe_local_name, safe_local_name
from daemon.core.records import LocalFile, OrganizerRecord, OwnedFile, RemoteFile

TODAY = date(2030, 1, 7)
END = TODAY + timedelta(days=14)
DAYS = [TODAY + timedelta(days=d) for d in (-2, 0, 1, 6, 20)]
MEETINGS = [TODAY + timedelta(days=1), TODAY + timedelta(days=6)]

TRICKY = [
    "..",
    ".",
    "",
    "...",
    "../x.jpg",
    "..\\..\\evil.jpg",
    "C:\\evil.jpg",
    "%2e%2e%2fx.jpg",
    "CON",
    "nul.txt",
    "a<b>.jpg",
    "trailing. ",
    "ctrl\x01.jpg",
    "Talk.jpg",
    "talk.jpg",
    "TALK.JPG",
    "caf\u00e9.jpg",
    "cafe\u0301.jpg",
    "x" * 300 + ".mp4",
    "\ud800.jpg",
]
settings_ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any name a server could list: the WebDAV layer drops hrefs with "", "." or ".." segments and
# splits on "/", so a RemotePath segment is anything else. A disk's names hold no NUL either.
remote_names = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12)).filter(
    lambda n: n not in ("", ".", "..") and "/" not in n
)
local_names = remote_names.filter(lambda n: "\x00" not in n)
counter = itertools.count()


def no_escape(*parts: str) -> bool:
    """Path segments that stay where they are joined: no separator, no "." or ".."."""
    return all(p not in ("", ".", "..") and "/" not in p for p in parts)


def inside(*parts: str) -> bool:
    """Segments of a new local path: no escape on any system, and a name safe on every one."""
    return (
        no_escape(*parts)
        and all("\\" not in p and "\x00" not in p for p in parts)
        and is_safe_local_name(parts[-1])
    )


# -- the member's planner ------------------------------------------------------------------


def rfile(path: tuple[str, ...], version: str) -> RemoteFile:
    return RemoteFile(path=path, size=1, version=version)


@st.composite
def member_situations(draw: st.DrawFn):
    # a few names shared by the server, the disk and the journal, so that they meet; local and
    # journal names are ones a disk holds (the server's, made safe, or the user's own)
    pool = draw(st.lists(remote_names, min_size=1, max_size=5))
    on_server = st.one_of(st.sampled_from(pool), remote_names)
    on_disk = st.one_of(
        st.sampled_from([n for n in (safe_local_name(p) for p in pool) if n] or ["a.jpg"]),
        local_names,
    )
    versions = st.sampled_from("12")
    dated: dict[date, dict[str, RemoteFile]] = {}
    for day, name, v in draw(
        st.lists(st.tuples(st.sampled_from(DAYS), on_server, versions), max_size=8)
    ):
        dated.setdefault(day, {})[name] = rfile(("Media", day.isoformat(), name), f"etag:{v}")
    recurring = {
        n: rfile(("Media", "Recurring", n), f"etag:{v}")
        for n, v in draw(st.lists(st.tuples(on_server, versions), max_size=3))
    }
    hidden = {d: frozenset(draw(st.sets(on_server, max_size=2))) for d in DAYS}
    remote = mp.RemoteState(
        dated=dated,
        recurring=recurring,
        hidden=hidden,
        incomplete_dates=frozenset(draw(st.sets(st.sampled_from(DAYS), max_size=2))),
        recurring_complete=draw(st.booleans()),
    )
    keys = [d.isoformat() for d in DAYS]
    files: dict[str, dict[str, LocalFile]] = {}
    for key, name, size in draw(
        st.lists(st.tuples(st.sampled_from(keys), on_disk, st.integers(1, 2)), max_size=6)
    ):
        files.setdefault(key, {})[name] = LocalFile(size, 1)
    owned = {
        (key, name): OwnedFile(key, name, ("Media", key, name), f"etag:{v}", size, 1)
        for key, name, v, size in draw(
            st.lists(
                st.tuples(st.sampled_from(keys), on_disk, versions, st.integers(1, 2)),
                max_size=6,
            )
        )
    }
    local = mp.LocalState(files=files, quarantine={k: frozenset() for k in keys})
    return remote, local, owned


def member_plan(remote, local, owned, quarantined=()):
    desired = mp.desired_state(remote, MEETINGS, (TODAY, END))
    return mp.plan_sync(desired, local, owned, set(quarantined), TODAY, END)


@settings_
@given(member_situations())
def test_a_member_plan_never_names_a_path_outside_the_date_folders(situation):
    remote, local, owned = situation
    plan = member_plan(remote, local, owned)
    for action in plan.actions:
        assert date.fromisoformat(action.date).isoformat() == action.date
        if isinstance(action, mp.Download | mp.Quarantine | mp.Unquarantine):
            assert inside(action.date, action.name), action
    for wanted in plan.expected.values():
        assert all(is_safe_local_name(name) for name in wanted)


@settings_
@given(member_situations())
def test_a_member_plan_only_removes_what_congsync_owns(situation):
    remote, local, owned = situation
    plan = member_plan(remote, local, owned)
    for action in plan.of(mp.Remove):
        assert (action.date, action.name) in owned
    for action in plan.of(mp.Quarantine):
        assert (action.date, action.name) not in owned  # the user's: moved aside, never deleted


@settings_
@given(member_situations())
def test_carrying_out_a_member_plan_leaves_nothing_to_do(situation):
    remote, local, owned = situation
    plan = member_plan(remote, local, owned)
    files = {d: dict(n) for d, n in local.files.items()}
    journal = dict(owned)
    quarantine = {d: set(n) for d, n in local.quarantine.items()}
    quarantined: set[tuple[str, str]] = set()
    for action in plan.actions:
        if isinstance(action, mp.Download):
            files.setdefault(action.date, {})[action.name] = LocalFile(1, 9)
            journal[(action.date, action.name)] = OwnedFile(
                action.date, action.name, action.remote.path, action.remote.version, 1, 9
            )
        elif isinstance(action, mp.Remove):
            files[action.date].pop(action.name)
            journal.pop((action.date, action.name))
        elif isinstance(action, mp.Quarantine):
            files[action.date].pop(action.name)
            quarantine.setdefault(action.date, set()).add(action.name)
            quarantined.add((action.date, action.name))
        elif isinstance(action, mp.Unquarantine):
            quarantine[action.date].discard(action.name)
            quarantined.discard((action.date, action.name))
            files.setdefault(action.date, {})[action.name] = LocalFile(1, 9)
        else:
            journal.pop((action.date, action.name), None)
            quarantined.discard((action.date, action.name))
    after = mp.LocalState(files=files, quarantine={d: frozenset(n) for d, n in quarantine.items()})

    second = member_plan(remote, after, journal, quarantined)

    assert second.actions == ()


# -- the organizer's planner ----------------------------------------------------------------

SCOPES = [
    op.date_scope(DAYS[2]),
    op.date_scope(DAYS[3]),
    op.hidden_scope(DAYS[2]),
    op.RECURRING_SCOPE,
]


def scope_of(path: tuple[str, ...]) -> op.Scope:
    if path[:2] == ("Media", "Recurring"):
        return op.RECURRING_SCOPE
    day = parse_date_folder(path[1])
    assert day is not None
    return op.hidden_scope(day) if path[0] == "Hidden" else op.date_scope(day)


def snapshot(
    files: Mapping[tuple[str, ...], RemoteFile], uncertain=frozenset()
) -> op.RemoteSnapshot:
    by_scope: dict[op.Scope, dict[tuple[str, ...], RemoteFile]] = {}
    for path, f in files.items():
        by_scope.setdefault(scope_of(path), {})[path] = f
    return op.RemoteSnapshot(
        files=by_scope,
        folders={s: (s.default_folder(None),) for s in SCOPES},
        uncertain=uncertain,
    )


def version() -> str:
    return f"etag:{next(counter)}"


@st.composite
def organizer_situations(draw: st.DrawFn):
    remote: dict[tuple[str, ...], RemoteFile] = {}
    local: dict[str, LocalFile] = {}
    journal: dict[str, OrganizerRecord] = {}
    for scope in SCOPES:
        folder = scope.default_folder(None)
        # a few names per folder, shared by both sides and the journal, so that they meet
        pool = draw(st.lists(local_names, min_size=1, max_size=4))
        pool_names = st.sampled_from(pool)
        for name in draw(st.lists(st.one_of(pool_names, remote_names), max_size=3)):
            path = (*folder, name)
            # an ETag names one version of one file: two files share one only when moved
            remote[path] = RemoteFile(path, 10, f"etag:{name}:{draw(st.sampled_from('ab'))}")
        for name in draw(st.lists(st.one_of(pool_names, local_names), max_size=3)):
            size, mtime = draw(st.sampled_from([10, 20])), draw(st.sampled_from([1, 2]))
            local[op.join_rel(scope, name)] = LocalFile(size, mtime)
        # Journal records as a cycle writes them: a local file published under its safe name,
        # or a server file brought here under its safe name.
        for name, uploaded in draw(st.lists(st.tuples(pool_names, st.booleans()), max_size=3)):
            safe = safe_local_name(name)
            if safe is None or (uploaded and "\x00" in name):
                continue  # nothing to publish or bring here; no disk holds a NUL
            rel_name, remote_name = (name, safe) if uploaded else (safe, name)
            rel = op.join_rel(scope, rel_name)
            journal[rel] = OrganizerRecord(
                rel,
                (*folder, remote_name),
                f"etag:{remote_name}:{draw(st.sampled_from('ab'))}",
                None,
                draw(st.sampled_from([10, 20])),
                1,
            )
            if draw(st.booleans()):  # and still here, as synced or changed since
                size = draw(st.sampled_from([10, 20]))
                local[rel] = LocalFile(size, draw(st.sampled_from([1, 2])))
    uncertain = frozenset(draw(st.sets(st.sampled_from(SCOPES), max_size=1)))
    return local, remote, journal, uncertain


def organizer_plan(local, remote, journal, uncertain=frozenset()):
    return op.plan_organizer(
        op.LocalSnapshot(files=local), snapshot(remote, uncertain), journal, today=TODAY
    )


@settings_
@given(organizer_situations())
def test_an_organizer_plan_never_names_a_path_outside_its_folders(situation):
    local, remote, journal, uncertain = situation
    for action in organizer_plan(local, remote, journal, uncertain).actions:
        rels = [action.rel] + (
            [action.new_rel] if isinstance(action, op.MoveRemote | op.MoveLocal) else []
        )
        for rel in rels:
            assert op.split_rel(rel) is not None, action  # a synced folder of the organizer folder
            assert no_escape(*rel.split("/")), action
        if (isinstance(action, op.Download) and action.kind == "new") or isinstance(
            action, op.MoveLocal
        ):
            # a name the server chose becomes a file here: only a safe one
            assert inside(*rels[-1].split("/")), action
        elif isinstance(action, op.Download):
            assert action.rel in journal  # a name this computer had
        if isinstance(action, op.Upload | op.MoveRemote):
            assert action.target[0] in ("Media", "Hidden"), action
            assert no_escape(*action.target), action
        if (isinstance(action, op.Upload) and action.kind == "new") or isinstance(
            action, op.MoveRemote
        ):
            # a name chosen here for every member's computer: only a safe one
            assert is_safe_local_name(action.target[-1]), action


@settings_
@given(organizer_situations())
def test_an_organizer_plan_deletes_and_moves_only_what_the_journal_says_it_synced(situation):
    local, remote, journal, uncertain = situation
    for action in organizer_plan(local, remote, journal, uncertain).actions:
        if isinstance(action, op.DeleteRemote | op.TrashLocal | op.MoveRemote | op.MoveLocal):
            assert journal.get(action.rel) == action.record, action
        if isinstance(action, op.DeleteRemote):
            # and only that version: a server file changed meanwhile is not deleted
            assert remote[action.record.remote_path].version == action.record.version
        if isinstance(action, op.TrashLocal):
            assert action.rel in local and local[action.rel] == action.local
            assert (action.local.size, action.local.mtime_ns) == (
                action.record.size,
                action.record.mtime_ns,
            )
        if isinstance(action, op.Download) and action.expect is not None:
            assert action.rel in journal  # replaces only a file it synced before


def carry_out(plan: op.OrganizerPlan, local, remote, journal):
    """Both sides and the journal after every action of `plan` succeeded (conflicts aside)."""
    local, remote, journal = dict(local), dict(remote), dict(journal)

    def agreed(rel: str, remote_file: RemoteFile, here: LocalFile) -> None:
        journal[rel] = OrganizerRecord(
            rel, remote_file.path, remote_file.version, None, here.size, here.mtime_ns
        )

    for action in plan.actions:
        if isinstance(action, op.Upload):
            remote[action.target] = RemoteFile(action.target, action.local.size, version())
            agreed(action.rel, remote[action.target], action.local)
        elif isinstance(action, op.Download):
            local[action.rel] = LocalFile(action.remote.size or 0, next(counter))
            agreed(action.rel, action.remote, local[action.rel])
        elif isinstance(action, op.Compare):
            agreed(action.rel, action.remote, action.local)  # found the same
        elif isinstance(action, op.DeleteRemote):
            del remote[action.record.remote_path]
            del journal[action.rel]
        elif isinstance(action, op.TrashLocal):
            del local[action.rel]
            del journal[action.rel]
        elif isinstance(action, op.MoveRemote):
            moved = replace(remote.pop(action.record.remote_path), path=action.target)
            remote[action.target] = moved
            del journal[action.rel]
            agreed(action.new_rel, moved, action.local)
        elif isinstance(action, op.MoveLocal):
            local[action.new_rel] = local.pop(action.rel)
            del journal[action.rel]
            agreed(action.new_rel, action.remote, local[action.new_rel])
        elif isinstance(action, op.Forget):
            del journal[action.rel]
    return local, remote, journal


@settings_
@given(organizer_situations())
def test_carrying_out_an_organizer_plan_settles_with_nothing_more_to_do(situation):
    """One cycle settles everything, except a new file on one side whose name (as a case-blind
    disk sees it) a journal record held that the cycle ended (forgot, deleted, moved away): that
    file is synced one cycle later, and then nothing is left to do."""
    local, remote, journal, uncertain = situation
    first = organizer_plan(local, remote, journal, uncertain)
    assume(not first.of(op.Conflict))  # a conflict copy is the user's to sort out
    local, remote, journal = carry_out(first, local, remote, journal)

    second = organizer_plan(local, remote, journal, uncertain)

    freed = {
        (scope, collision_key(name))
        for a in first.actions
        if isinstance(a, op.Forget | op.TrashLocal | op.DeleteRemote | op.MoveLocal | op.MoveRemote)
        for scope, name in [op.split_rel(a.rel) or (None, a.rel)]
    }
    for action in second.actions:
        assert isinstance(action, op.Compare) or (
            isinstance(action, op.Download | op.Upload) and action.kind == "new"
        ), action
        scope, name = op.split_rel(action.rel)
        assert (scope, collision_key(name)) in freed, action
    local, remote, journal = carry_out(second, local, remote, journal)
    assert organizer_plan(local, remote, journal, uncertain).actions == ()


@pytest.mark.xfail(
    strict=True,
    reason="found by the property above, not fixed: a record's own name blocks the renamed "
    "server file, so the rename is not paired (issue 13's closing note)",
)
def test_a_case_only_rename_on_the_server_is_a_rename_here():
    rel = "Recurring/Talk.jpg"
    record = OrganizerRecord(rel, ("Media", "Recurring", "Talk.jpg"), "etag:a", None, 10, 1)
    renamed = RemoteFile(("Media", "Recurring", "talk.jpg"), 10, "etag:a")

    plan = organizer_plan({rel: LocalFile(10, 1)}, {renamed.path: renamed}, {rel: record})

    # today: TrashLocal of Talk.jpg now, Download of talk.jpg one cycle later
    assert plan.actions == (op.MoveLocal(rel, "Recurring/talk.jpg", record, renamed),)
