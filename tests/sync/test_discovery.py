"""One discovery serves a whole cycle; a Depth-0 answer alone is trusted only for a while."""

from __future__ import annotations

import threading
from pathlib import Path

from davserver import DavFixture
from organizer_support import Organizer
from support import SUNDAY, TODAY, TUESDAY, Member, write_prefs

from daemon.service.root import ProfileRoot
from daemon.sync.connection import open_dav
from daemon.sync.discovery import RECHECK_SECONDS, Discovery

ROOT_LISTING = ("PROPFIND", "/congregation/", "1")


def root_listings(dav: DavFixture) -> int:
    return sum(1 for r in dav.faults.requests if (r.method, r.path, r.depth) == ROOT_LISTING)


def organizer_cycle(organizer: Organizer, dav: DavFixture) -> None:
    with ProfileRoot(organizer.profile, password=dav.password) as root:
        root.run_cycle(threading.Event(), today=TODAY)


def test_an_organizers_cycle_that_changes_nothing_looks_at_the_server_once(
    dav: DavFixture, tmp_path: Path
):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/talk.jpg", b"talk")
    organizer = Organizer(dav, tmp_path / "o")
    organizer_cycle(organizer, dav)  # brings the talk into the organizer folder
    dav.faults.clear()

    organizer_cycle(organizer, dav)

    assert root_listings(dav) == 1  # the member half used the organizer half's snapshot
    assert organizer.files() == {f"{TUESDAY}/talk.jpg": b"talk"}


def test_after_the_organizer_published_the_member_half_looks_again(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    organizer = Organizer(dav, tmp_path / "o")
    organizer_cycle(organizer, dav)
    organizer.drop(f"{SUNDAY}/new.jpg", b"new")
    dav.faults.clear()

    organizer_cycle(organizer, dav)

    assert root_listings(dav) == 2
    media = organizer.profile.config.media_dir
    assert (media / SUNDAY / "new.jpg").read_bytes() == b"new"  # in its own media folder at once


def test_a_depth0_answer_alone_is_trusted_for_ten_minutes_then_checked(
    propagating_dav: DavFixture, tmp_path: Path
):
    dav = propagating_dav
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member = Member(dav, tmp_path / "m")
    memory: dict[str, object] = {}
    now = [1_000_000.0]
    span = (TODAY, TODAY.replace(day=21))
    with open_dav(member.profile.config, dav.password) as client:

        def look() -> list[tuple[str, str | None]]:
            dav.faults.clear()
            Discovery(client, memory, full_listing=False, clock=lambda: now[0]).snapshot(span)
            return [(r.method, r.depth) for r in dav.faults.requests]

        look()
        for n in range(2):  # two changes below, each moving the folder's ETag: proof
            dav.put_file(f"Media/{TUESDAY}/new{n}.jpg", b"x")
            look()
        assert client.capabilities.folder_etags_propagate is True

        now[0] += 60
        assert look() == [("PROPFIND", "0")]
        now[0] += RECHECK_SECONDS
        assert ("PROPFIND", "1") in look()  # an ordinary look re-checks the belief
        now[0] += 60
        assert look() == [("PROPFIND", "0")]
