"""The planner is pure: its safety rules hold for any combination of server, disk and journal."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.core.member_plan import (
    Desired,
    Download,
    LocalState,
    Quarantine,
    RemoteState,
    Remove,
    Unquarantine,
    desired_state,
    plan_sync,
)
from daemon.core.records import DifferingFile, LocalFile, OwnedFile, RemoteFile

TODAY = date(2030, 1, 7)
DAYS = [(TODAY + timedelta(days=d)).isoformat() for d in (-3, 0, 1, 6, 8, 20)]
NAMES = ["a.jpg", "b.mp4", "c.png", "song.mp4"]
END = TODAY + timedelta(days=14)

days = st.sampled_from(DAYS)
names = st.sampled_from(NAMES)
versions = st.sampled_from(["etag:1", "etag:2"])
local_files = st.builds(LocalFile, size=st.integers(1, 3), mtime_ns=st.integers(1, 3))


def remote_file(name: str, version: str) -> RemoteFile:
    return RemoteFile(path=("Media", "x", name), size=1, version=version)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Desired, LocalState, dict[tuple[str, str], OwnedFile]]:
    wanted: dict[str, dict[str, RemoteFile]] = {}
    for day, name, version in draw(st.lists(st.tuples(days, names, versions), max_size=8)):
        if day >= TODAY.isoformat() and day <= END.isoformat():
            wanted.setdefault(day, {})[name] = remote_file(name, version)
    hidden = {d: frozenset(draw(st.sets(names, max_size=2))) for d in DAYS}
    # as desired_state guarantees: a hidden name is never also wanted
    wanted = {d: {n: f for n, f in fs.items() if n not in hidden[d]} for d, fs in wanted.items()}
    certain = frozenset(draw(st.sets(days)))
    files: dict[str, dict[str, LocalFile]] = {}
    for day, name, local in draw(st.lists(st.tuples(days, names, local_files), max_size=8)):
        files.setdefault(day, {})[name] = local
    quarantine = {d: frozenset(draw(st.sets(names, max_size=1))) for d in DAYS}
    owned = {
        (day, name): OwnedFile(day, name, ("Media", day, name), version, size, 1)
        for day, name, version, size in draw(
            st.lists(st.tuples(days, names, versions, st.integers(1, 3)), max_size=8)
        )
    }
    return (
        Desired(files=wanted, hidden=hidden, certain_dates=certain),
        LocalState(files=files, quarantine=quarantine),
        owned,
    )


@settings(max_examples=300)
@given(scenarios())
def test_only_owned_files_are_ever_removed(scenario):
    desired, local, owned = scenario
    plan = plan_sync(desired, local, owned, set(), TODAY, END)
    for action in plan.of(Remove):
        assert (action.date, action.name) in owned


@settings(max_examples=300)
@given(scenarios())
def test_a_download_never_lands_on_a_file_congsync_does_not_own(scenario):
    desired, local, owned = scenario
    plan = plan_sync(desired, local, owned, set(), TODAY, END)
    for action in plan.of(Download):
        on_disk = action.name in local.files.get(action.date, {})
        # on a file of the user's only to compare it (installed only if byte for byte the same)
        assert not on_disk or (action.date, action.name) in owned or action.kind == "adopt"
        assert action.kind != "adopt" or (on_disk and (action.date, action.name) not in owned)


@settings(max_examples=300)
@given(scenarios())
def test_nothing_is_removed_as_gone_where_the_listing_was_uncertain(scenario):
    desired, local, owned = scenario
    plan = plan_sync(desired, local, owned, set(), TODAY, END)
    for action in plan.of(Remove):
        if action.reason == "gone":
            assert action.date in desired.certain_dates


@settings(max_examples=300)
@given(scenarios())
def test_only_files_of_the_user_are_moved_aside(scenario):
    desired, local, owned = scenario
    plan = plan_sync(desired, local, owned, set(), TODAY, END)
    for action in plan.of(Quarantine):
        assert (action.date, action.name) not in owned
        assert action.name in desired.hidden[action.date]


@settings(max_examples=200)
@given(scenarios())
def test_after_carrying_out_the_plan_the_next_plan_is_empty(scenario):
    desired, local, owned = scenario
    plan = plan_sync(desired, local, owned, set(), TODAY, END)
    files = {d: dict(n) for d, n in local.files.items()}
    journal = dict(owned)
    quarantine = {d: set(n) for d, n in local.quarantine.items()}
    quarantined: set[tuple[str, str]] = set()
    for action in plan.actions:
        if isinstance(action, Download):
            files.setdefault(action.date, {})[action.name] = LocalFile(1, 9)
            journal[(action.date, action.name)] = OwnedFile(
                action.date, action.name, action.remote.path, action.remote.version, 1, 9
            )
        elif isinstance(action, Remove):
            files[action.date].pop(action.name)
            journal.pop((action.date, action.name))
        elif isinstance(action, Quarantine):
            files[action.date].pop(action.name)
            quarantine.setdefault(action.date, set()).add(action.name)
            quarantined.add((action.date, action.name))
        else:
            journal.pop((action.date, action.name), None)
    quarantine_state = {d: frozenset(n) for d, n in quarantine.items()}
    second = plan_sync(
        desired,
        LocalState(files=files, quarantine=quarantine_state),
        journal,
        quarantined,
        TODAY,
        END,
    )
    assert [a for a in second.actions if not isinstance(a, Unquarantine)] == []


def test_a_dated_file_beats_a_recurring_file_with_the_same_name():
    tuesday = date(2030, 1, 8)
    remote = RemoteState(
        dated={tuesday: {"song.mp4": remote_file("song.mp4", "etag:dated")}},
        recurring={"song.mp4": remote_file("song.mp4", "etag:recurring")},
        hidden={},
    )
    desired = desired_state(remote, [tuesday], (TODAY, END))
    assert desired.files["2030-01-08"]["song.mp4"].version == "etag:dated"


def test_recurring_media_goes_only_to_meeting_dates():
    special = date(2030, 1, 9)
    remote = RemoteState(
        dated={special: {"x.jpg": remote_file("x.jpg", "etag:1")}},
        recurring={"y.png": remote_file("y.png", "etag:1")},
        hidden={},
    )
    desired = desired_state(remote, [date(2030, 1, 8)], (TODAY, END))
    assert set(desired.files["2030-01-09"]) == {"x.jpg"}
    assert set(desired.files["2030-01-08"]) == {"y.png"}


def test_a_hidden_name_is_not_wanted_and_is_listed_as_hidden():
    tuesday = date(2030, 1, 8)
    remote = RemoteState(
        dated={tuesday: {"a.jpg": remote_file("a.jpg", "etag:1")}},
        recurring={"a.jpg": remote_file("a.jpg", "etag:1")},
        hidden={tuesday: frozenset({"a.jpg"})},
    )
    desired = desired_state(remote, [tuesday], (TODAY, END))
    assert "2030-01-08" not in desired.files
    assert desired.hidden["2030-01-08"] == {"a.jpg"}


def test_removing_most_owned_files_is_a_mass_deletion():
    day = "2030-01-08"
    owned = {(day, n): OwnedFile(day, n, ("Media", day, n), "etag:1", 1, 1) for n in "abcd"}
    local = LocalState(files={day: {n: LocalFile(1, 1) for n in "abcd"}}, quarantine={})
    desired = Desired(
        files={day: {"a": remote_file("a", "etag:1")}}, hidden={}, certain_dates=frozenset({day})
    )
    plan = plan_sync(desired, local, owned, set(), TODAY, END)
    assert plan.unexpected_removals == 3
    assert plan.is_mass_deletion


def test_removing_one_of_two_files_is_not_a_mass_deletion():
    day = "2030-01-08"
    owned = {(day, n): OwnedFile(day, n, ("Media", day, n), "etag:1", 1, 1) for n in "ab"}
    local = LocalState(files={day: {n: LocalFile(1, 1) for n in "ab"}}, quarantine={})
    desired = Desired(
        files={day: {"a": remote_file("a", "etag:1")}}, hidden={}, certain_dates=frozenset({day})
    )
    plan = plan_sync(desired, local, owned, set(), TODAY, END)
    assert plan.unexpected_removals == 1
    assert not plan.is_mass_deletion


# -- placements: a download that a post-download step turned into several files ----------------


def pages_of(
    day: str, placement: str, version: str, *names: str
) -> dict[tuple[str, str], OwnedFile]:
    return {
        (day, n): OwnedFile(day, n, ("Media", day, placement), version, 1, 1, placement)
        for n in names
    }


def plan_for_pages(owned: dict[tuple[str, str], OwnedFile], present: set[str], version: str):
    day = "2030-01-08"
    local = LocalState(files={day: {n: LocalFile(1, 1) for n in present}}, quarantine={})
    desired = Desired(
        files={day: {"talk.pdf": remote_file("talk.pdf", version)}},
        hidden={},
        certain_dates=frozenset({day}),
    )
    return plan_sync(desired, local, owned, set(), TODAY, END)


def test_the_pages_of_a_download_are_kept_while_all_are_there():
    owned = pages_of("2030-01-08", "talk.pdf", "etag:1", "talk 1.png", "talk 2.png")
    plan = plan_for_pages(owned, {"talk 1.png", "talk 2.png"}, "etag:1")
    assert plan.actions == ()
    assert plan.unchanged == 2


def test_one_missing_page_downloads_the_placement_again_not_the_page():
    owned = pages_of("2030-01-08", "talk.pdf", "etag:1", "talk 1.png", "talk 2.png")
    plan = plan_for_pages(owned, {"talk 1.png"}, "etag:1")
    assert [(a.name, a.kind) for a in plan.of(Download)] == [("talk.pdf", "restore")]
    assert plan.of(Remove) == []


def test_a_new_version_updates_the_placement_once():
    owned = pages_of("2030-01-08", "talk.pdf", "etag:1", "talk 1.png", "talk 2.png")
    plan = plan_for_pages(owned, {"talk 1.png", "talk 2.png"}, "etag:2")
    assert [(a.name, a.kind) for a in plan.of(Download)] == [("talk.pdf", "update")]


def test_a_placement_gone_from_the_server_takes_every_page_with_it():
    day = "2030-01-08"
    owned = pages_of(day, "talk.pdf", "etag:1", "talk 1.png", "talk 2.png")
    local = LocalState(files={day: {"talk 1.png": LocalFile(1, 1)}}, quarantine={})
    desired = Desired(files={}, hidden={}, certain_dates=frozenset({day}))
    plan = plan_sync(desired, local, owned, set(), TODAY, END)
    assert [(type(a).__name__, a.name) for a in plan.actions] == [
        ("Remove", "talk 1.png"),
        ("Forget", "talk 2.png"),
    ]


# -- files already in their place that congsync does not own ----------------------------------


def plan_with_users_file(version: str, local: LocalFile, differing: dict | None = None):
    day = "2030-01-08"
    desired = Desired(
        files={day: {"talk.jpg": remote_file("talk.jpg", version)}},
        hidden={},
        certain_dates=frozenset({day}),
    )
    state = LocalState(files={day: {"talk.jpg": local}}, quarantine={})
    return plan_sync(desired, state, {}, set(), TODAY, END, differing=differing)


def test_a_file_congsync_does_not_own_in_a_wanted_place_is_compared_with_the_servers():
    plan = plan_with_users_file("etag:1", LocalFile(5, 7))
    assert [(a.name, a.kind) for a in plan.of(Download)] == [("talk.jpg", "adopt")]
    assert plan.warnings == ()


def test_a_file_found_to_differ_is_not_fetched_again_until_one_side_changes():
    verdict = {("2030-01-08", "talk.jpg"): DifferingFile("2030-01-08", "talk.jpg", "etag:1", 5, 7)}

    same = plan_with_users_file("etag:1", LocalFile(5, 7), verdict)
    assert same.actions == () and same.differing == {("2030-01-08", "talk.jpg")}

    for changed in (
        plan_with_users_file("etag:2", LocalFile(5, 7), verdict),  # the server's
        plan_with_users_file("etag:1", LocalFile(5, 8), verdict),  # the user's
    ):
        assert [a.kind for a in changed.of(Download)] == ["adopt"]
        assert changed.differing == frozenset()


def test_a_long_pdf_gone_counts_once_toward_the_mass_deletion_stop():
    # A PDF made 10 page images: its removal is one file the organizer took away, not ten.
    day = "2030-01-08"
    pages = {
        (day, f"talk - page {i:02}.png"): OwnedFile(
            day, f"talk - page {i:02}.png", ("Media", day, "talk.pdf"), "etag:1", 1, 1, "talk.pdf"
        )
        for i in range(1, 11)
    }
    others = {(day, n): OwnedFile(day, n, ("Media", day, n), "etag:1", 1, 1) for n in "ab"}
    owned = {**pages, **others}
    local = LocalState(files={day: {n: LocalFile(1, 1) for (_d, n) in owned}}, quarantine={})
    desired = Desired(
        files={day: {n: remote_file(n, "etag:1") for n in "ab"}},
        hidden={},
        certain_dates=frozenset({day}),
    )
    plan = plan_sync(desired, local, owned, set(), TODAY, END)
    assert len(plan.of(Remove)) == 10  # every page goes
    assert (plan.unexpected_removals, plan.owned_in_use) == (1, 3)
    assert not plan.is_mass_deletion
