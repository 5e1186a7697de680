"""Idle polls are cheap: a handful of Depth-0/1 PROPFINDs, no GET, whatever the server keeps."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from davserver import DavFixture, LoggedRequest
from organizer_support import Organizer
from support import NEXT_SUNDAY, NEXT_TUESDAY, SUNDAY, TODAY, TUESDAY, Member, write_prefs

from daemon.service.root import ProfileRoot


def populate(dav: DavFixture, past_folders: int) -> None:
    write_prefs(dav)
    dav.put_file("Media/Recurring/y.png", b"y")
    for day in (TUESDAY, SUNDAY, NEXT_TUESDAY, NEXT_SUNDAY):
        dav.put_file(f"Media/{day}/a.jpg", b"a")
    dav.put_file(f"Hidden/{TUESDAY}/x.jpg", b"")
    for i in range(past_folders):
        day = (TODAY - timedelta(days=7 + i)).isoformat()
        dav.put_file(f"Media/{day}/old.jpg", b"old")
        dav.put_file(f"Hidden/{day}/old.jpg", b"")
    # An established server: nothing changed in the last hour (folder dates are in whole
    # seconds, so congsync does not trust the cache for folders changed a moment ago).
    an_hour_ago = time.time() - 3600
    for folder in [dav.folder_path, *dav.folder_path.rglob("*")]:
        os.utime(folder, (an_hour_ago, an_hour_ago))


def idle_poll(dav: DavFixture, member: Member) -> list[LoggedRequest]:
    member.sync()  # the first cycle lists everything
    member.sync(full_listing=False)  # settles the listing cache
    dav.faults.clear()
    member.sync(full_listing=False)
    return dav.faults.requests


@pytest.mark.parametrize("past_folders", [1, 50])
def test_an_idle_poll_costs_at_most_three_plus_the_date_folders(
    dav: DavFixture, tmp_path: Path, past_folders: int
):
    populate(dav, past_folders)
    member = Member(dav, tmp_path / "m")

    requests = idle_poll(dav, member)

    in_window_date_folders = 4 + 1  # Media/<4 meeting dates> and Hidden/<Tuesday>
    assert [r for r in requests if r.method != "PROPFIND"] == []
    assert len(requests) <= 3 + in_window_date_folders
    assert {r.depth for r in requests} <= {"0", "1"}


def test_the_idle_poll_does_not_grow_with_past_date_folders(dav: DavFixture, tmp_path: Path):
    populate(dav, 1)
    small = [(r.method, r.depth) for r in idle_poll(dav, Member(dav, tmp_path / "a"))]
    populate(dav, 50)
    large = [(r.method, r.depth) for r in idle_poll(dav, Member(dav, tmp_path / "b"))]
    assert small == large


def test_cheap_polls_still_see_new_recurring_and_hidden_files(dav: DavFixture, tmp_path: Path):
    populate(dav, 1)
    member = Member(dav, tmp_path / "m")
    member.sync()

    dav.put_file("Media/Recurring/new.png", b"n")
    dav.put_file(f"Hidden/{SUNDAY}/a.jpg", b"")
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"changed in place")
    member.sync(full_listing=False)

    assert member.files(TUESDAY)["new.png"] == b"n"
    assert member.files(TUESDAY)["a.jpg"] == b"changed in place"
    assert "a.jpg" not in member.files(SUNDAY)


def test_on_a_server_whose_folder_etags_propagate_an_idle_poll_is_one_request(
    propagating_dav: DavFixture, tmp_path: Path
):
    dav = propagating_dav
    populate(dav, 1)
    member = Member(dav, tmp_path / "m")
    member.sync()
    # Two observed changes below the folder, each with its ETag moving, prove propagation.
    for n in range(2):
        dav.put_file(f"Media/{TUESDAY}/new{n}.jpg", b"x")
        member.sync(full_listing=False)
    dav.faults.clear()

    member.sync(full_listing=False)

    assert [(r.method, r.depth) for r in dav.faults.requests] == [("PROPFIND", "0")]
    dav.put_file(f"Media/{SUNDAY}/late.jpg", b"late")
    member.sync(full_listing=False)
    assert member.files(SUNDAY)["late.jpg"] == b"late"


def test_on_a_server_without_propagation_an_unchanged_folder_etag_is_not_trusted(
    dav: DavFixture, tmp_path: Path
):
    populate(dav, 1)
    member = Member(dav, tmp_path / "m")
    member.sync()
    for n in range(3):
        dav.put_file(f"Media/{TUESDAY}/new{n}.jpg", b"x")
        member.sync(full_listing=False)
        assert f"new{n}.jpg" in member.files(TUESDAY)


def test_a_file_added_in_the_same_second_as_the_listing_is_not_missed(
    dav: DavFixture, tmp_path: Path
):
    write_prefs(dav)
    dav.put_file("Media/Recurring/first.png", b"1")
    member = Member(dav, tmp_path / "m")
    member.sync()
    # The Recurring folder's date can only move by whole seconds: a file added right after
    # the listing may leave it unchanged. Put it back to exactly what the listing saw.
    recurring = dav.folder_path / "Media" / "Recurring"
    seen = recurring.stat().st_mtime
    dav.put_file("Media/Recurring/second.png", b"2")
    os.utime(recurring, (seen, seen))

    member.sync(full_listing=False)

    assert member.files(TUESDAY) == {"first.png": b"1", "second.png": b"2"}


def test_an_organizers_own_writes_do_not_prove_propagation_on_an_apache_like_server(
    apache_dav: DavFixture, tmp_path: Path
):
    """On Apache a folder's ETag moves only for its direct entries. The organizer's first upload
    creates the staging folder and a settings push replaces forcedPrefs.json, both direct
    entries of the congregation folder: coinciding with new media, they must not look like a
    server whose folder ETags follow every change below."""
    dav = apache_dav
    populate(dav, 1)
    member = Member(dav, tmp_path / "m")
    organizer = Organizer(dav, tmp_path / "o")
    member.sync()

    organizer.drop(f"{TUESDAY}/new0.jpg", b"0")  # the first upload: MKCOL of the staging folder
    organizer.sync()
    member.sync(full_listing=False)
    with (
        ProfileRoot(organizer.profile, password=dav.password) as root,
        root.publisher(write=True) as publisher,
    ):
        publisher.push_settings(["meeting.mwStartTime=19:00"])
    organizer.drop(f"{SUNDAY}/new1.jpg", b"1")
    organizer.sync()
    member.sync(full_listing=False)
    assert member.files(SUNDAY)["new1.jpg"] == b"1"

    dav.put_file(f"Media/{NEXT_TUESDAY}/late.jpg", b"late")  # deep below: the root stays put
    member.sync(full_listing=False)

    assert member.files(NEXT_TUESDAY)["late.jpg"] == b"late"
