"""Ready for the meeting on a Kingdom Hall's internet, against a real WebDAV server over TLS:
the next meeting's files first, recurring media fetched once, quiet during meetings, and the
readiness facts with the sentences the faces make of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from davserver import DavFixture
from support import NEXT_SUNDAY, NEXT_TUESDAY, SUNDAY, TUESDAY, Member, write_prefs

from daemon.core.transfer_rules import QUIET_DEFAULT_RATE
from daemon.dav import PROCESS_THROTTLE
from daemon.service.panel.status_page import Pace, live_values
from daemon.service.panel.web import _ENV
from daemon.service.readiness_words import missing_lines, next_meeting, readiness_sentence
from daemon.service.status import State, StatusSnapshot, snapshot_to_json
from daemon.sync.media_folder import MediaFolder
from tray.menu import tooltip

PREFS = {"meeting": {"mwDay": 1, "weDay": 6, "mwStartTime": "19:30", "weStartTime": "10:00"}}
MEETING_DAY = date(2030, 1, 8)  # TUESDAY
DURING = datetime(2030, 1, 8, 19, 45)  # a quarter of an hour into Tuesday's meeting
AFTER = datetime(2030, 1, 8, 21, 45)
MORNING = datetime(2030, 1, 8, 9, 0)


@pytest.fixture(autouse=True)
def _unthrottled() -> Iterator[None]:
    # The throttle is the process's: leave it as found for the tests after these.
    yield
    PROCESS_THROTTLE.set_rate(0)


@pytest.fixture
def member(dav: DavFixture, tmp_path: Path) -> Member:
    write_prefs(dav, PREFS)
    # One transfer at a time, so that the order of the GETs is the order they were started in.
    return Member(dav, tmp_path / "member", transfers=1)


def media_gets(dav: DavFixture) -> list[str]:
    prefix = f"/{dav.folder}/Media/"
    return [
        r.path.removeprefix(prefix)
        for r in dav.faults.requests
        if r.method == "GET" and r.path.startswith(prefix)
    ]


def test_the_next_meetings_files_are_fetched_first(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{NEXT_SUNDAY}/a.jpg", b"a")
    member.sync(today=MEETING_DAY, now=MORNING)
    # An update for a later meeting, and new files published in the opposite order, with
    # names that sort the other way round.
    dav.put_file(f"Media/{NEXT_SUNDAY}/a.jpg", b"a, corrected")
    dav.put_file(f"Media/{NEXT_TUESDAY}/b.jpg", b"b")
    dav.put_file(f"Media/{SUNDAY}/c.jpg", b"c")
    dav.put_file(f"Media/{TUESDAY}/a-video.mp4", b"v" * 5000)
    dav.put_file(f"Media/{TUESDAY}/b-song.jpg", b"s")
    dav.faults.clear()

    result = member.sync(today=MEETING_DAY, now=MORNING)

    assert result.errors == []
    assert media_gets(dav) == [
        f"{TUESDAY}/b-song.jpg",  # the next meeting first, its small files before its video
        f"{TUESDAY}/a-video.mp4",
        f"{SUNDAY}/c.jpg",
        f"{NEXT_TUESDAY}/b.jpg",
        f"{NEXT_SUNDAY}/a.jpg",
    ]


def test_a_recurring_file_is_downloaded_once_and_copied_into_every_meeting(
    dav: DavFixture, member: Member
):
    dav.put_file("Media/Recurring/yeartext.png", b"year" * 1000)
    dav.faults.clear()

    result = member.sync(today=MEETING_DAY, now=MORNING)

    days = (TUESDAY, SUNDAY, NEXT_TUESDAY, NEXT_SUNDAY, "2030-01-22")
    assert media_gets(dav) == ["Recurring/yeartext.png"]
    for day in days:
        assert member.files(day) == {"yeartext.png": b"year" * 1000}
    assert result.downloaded == 5 and result.errors == []
    assert result.bytes_downloaded == 4000  # one transfer's worth
    # Every copy is owned like a download: unchanged next time, replaced and removed with it.
    assert member.sync(today=MEETING_DAY, now=MORNING).unchanged == 5
    dav.put_file("Media/Recurring/yeartext.png", b"new year")
    dav.faults.clear()
    assert member.sync(today=MEETING_DAY, now=MORNING).updated == 5
    assert media_gets(dav) == ["Recurring/yeartext.png"]
    assert all(member.files(day) == {"yeartext.png": b"new year"} for day in days)
    dav.remove("Media/Recurring/yeartext.png")
    assert member.sync(today=MEETING_DAY, now=MORNING, accept_deletions=True).removed == 5
    assert member.all_paths() == set()
    leftovers = list((member.media / ".congsync" / "tmp").iterdir())
    assert [p for p in leftovers if p.suffix == ".part"] == []


def test_quiet_during_a_meeting_defers_other_dates_and_still_brings_that_meetings(
    dav: DavFixture, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/tonight.jpg", b"tonight")
    dav.put_file(f"Media/{SUNDAY}/sunday.mp4", b"sunday")
    dav.put_file("Media/Recurring/song.mp4", b"song")
    dav.faults.clear()

    result = member.sync(today=MEETING_DAY, now=DURING)

    assert result.errors == []
    assert member.files(TUESDAY) == {"tonight.jpg": b"tonight", "song.mp4": b"song"}
    assert member.files(SUNDAY) == {}
    assert sorted(media_gets(dav)) == [f"{TUESDAY}/tonight.jpg", "Recurring/song.mp4"]
    # The meeting's own files came rate-limited, though no max_rate is set.
    assert PROCESS_THROTTLE.rate == QUIET_DEFAULT_RATE
    sunday = next(
        m for m in MediaFolder(member.media).meeting_summaries(MEETING_DAY) if m.date == SUNDAY
    )
    assert {(m.name, m.reason) for m in sunday.missing} == {
        ("sunday.mp4", "deferred"),
        ("song.mp4", "deferred"),
    }
    assert "sunday.mp4: waiting until after the meeting" in missing_lines(sunday)

    # After the meeting, the next poll brings what waited.
    member.sync(today=MEETING_DAY, now=AFTER)

    assert member.files(SUNDAY) == {"sunday.mp4": b"sunday", "song.mp4": b"song"}
    assert PROCESS_THROTTLE.rate == 0


def test_max_rate_applies_to_every_transfer(dav: DavFixture, tmp_path: Path):
    write_prefs(dav, {**PREFS, "congsync": {"maxRate": "2MB/s"}})
    member = Member(dav, tmp_path / "m", max_rate="50MB/s")
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")

    member.sync(today=MEETING_DAY, now=DURING)

    # The congregation's limit wins over this computer's, also during quiet time.
    assert PROCESS_THROTTLE.rate == 2_000_000
    assert member.files(TUESDAY) == {"a.jpg": b"a"}


def readiness_setup(dav: DavFixture, member: Member) -> None:
    """Tuesday: one file arrives, one fails, one is a differing file of the user's."""
    dav.put_file(f"Media/{TUESDAY}/01 song.jpg", b"song")
    dav.put_file(f"Media/{TUESDAY}/02 talk.mp4", b"talk")
    dav.put_file(f"Media/{TUESDAY}/03 map.png", b"map")
    (member.media / TUESDAY).mkdir(parents=True)
    (member.media / TUESDAY / "03 map.png").write_bytes(b"my own map")
    dav.faults.fail_next(
        20, status=404, methods=["GET"], path_prefix=f"/{dav.folder}/Media/{TUESDAY}/02"
    )
    member.sync(today=MEETING_DAY, now=MORNING)


def test_readiness_facts_say_what_is_missing_and_why(dav: DavFixture, member: Member):
    readiness_setup(dav, member)

    meeting = next_meeting(MediaFolder(member.media).meeting_summaries(MEETING_DAY), MEETING_DAY)

    assert meeting is not None and meeting.date == TUESDAY
    assert (meeting.files_present, meeting.files_expected) == (1, 3)
    reasons = {m.name: (m.reason, bool(m.detail)) for m in meeting.missing}
    assert reasons == {"02 talk.mp4": ("failed", True), "03 map.png": ("kept", False)}
    assert readiness_sentence(meeting, MEETING_DAY) == "Not ready for today: 1 of 3 files"
    assert readiness_sentence(meeting, date(2030, 1, 6)) == "Not ready for Tuesday: 1 of 3 files"
    lines = missing_lines(meeting)
    assert lines[0].startswith("02 talk.mp4: failed: ")
    assert lines[1] == "03 map.png: a different file of yours has this name and is kept"

    # Once all is there: ready.
    (member.media / TUESDAY / "03 map.png").unlink()
    dav.faults.reset()
    member.sync(today=MEETING_DAY, now=MORNING)
    meeting = next_meeting(MediaFolder(member.media).meeting_summaries(MEETING_DAY), MEETING_DAY)
    assert meeting is not None and meeting.missing == ()
    assert readiness_sentence(meeting, date(2030, 1, 6)) == "Ready for Tuesday: 3 of 3 files"


def test_the_tray_tooltip_says_whether_the_next_meeting_is_ready(dav: DavFixture, member: Member):
    readiness_setup(dav, member)
    meetings = tuple(MediaFolder(member.media).meeting_summaries(MEETING_DAY))
    status = StatusSnapshot(state=State.IDLE, last_sync_at="2030-01-06T14:02:00", meetings=meetings)

    text = tooltip(status, datetime(2030, 1, 6, 15, 0))

    assert text == "Up to date · 14:02 · Not ready for Tuesday: 1 of 3 files"
    assert len(text) <= 127


def test_the_panel_status_page_shows_why_each_file_is_missing(
    dav: DavFixture, member: Member, monkeypatch: pytest.MonkeyPatch
):
    readiness_setup(dav, member)
    # The panel looks at the meetings of the real today; the test's meetings are in 2030.
    services = SimpleNamespace(configured=False, log_tail=lambda lines: [])
    document = snapshot_to_json(StatusSnapshot(state=State.IDLE, media_dir=str(member.media)))

    values = live_values(services, document, Pace())  # type: ignore[arg-type]

    tuesday = next(m for m in values["meetings"] if m["date"] == TUESDAY)
    badges = {f["name"]: (f["badges"], f["why"]) for f in tuesday["files"]}
    assert badges["01 song.jpg"] == ([], "")
    assert badges["02 talk.mp4"][0] == [("failed", "failed")] and badges["02 talk.mp4"][1]
    assert badges["03 map.png"] == ([("kept", "your own file kept")], "")
    assert tuesday["headline"].startswith("Not ready yet for")
    html = _ENV.get_template("status_live.html").render(**values, _=lambda s: s)
    assert "your own file kept" in html and 'data-testid="why"' in html
