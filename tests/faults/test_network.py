"""Network faults between congsync and a real TLS WebDAV server: resets mid-body, stalls, slow
answers (through `faultproxy.FaultProxy`), and 5xx / 429 / 423 answers (the test server's fault
middleware). Each ends in a clear error or a complete file, never a partial file in a date
folder, never a hang."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from davserver import DavFixture
from faultproxy import FaultProxy
from organizer_support import Organizer
from support import TUESDAY, Member, write_prefs

import daemon.sync.connection
from daemon.dav import DavClient
from daemon.errors import NetworkError

pytestmark = pytest.mark.timeout(60)

SHORT_TIMEOUT = 1.0  # congsync's own read timeout in these tests (30 s in the product)
MEDIA = f"/congregation/Media/{TUESDAY}"


@pytest.fixture(autouse=True)
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        daemon.sync.connection, "DavClient", functools.partial(DavClient, timeout=SHORT_TIMEOUT)
    )


@pytest.fixture
def proxy(dav: DavFixture) -> Iterator[FaultProxy]:
    with FaultProxy(dav.server.port) as p:
        yield p


@pytest.fixture
def member(dav: DavFixture, proxy: FaultProxy, tmp_path: Path) -> Member:
    write_prefs(dav)
    return Member(dav, tmp_path / "member", url=proxy.url)


def partials(member: Member) -> list[Path]:
    return list((member.media / ".congsync" / "tmp").glob("*.part"))


def gets(dav: DavFixture, name: str) -> list:
    return [r for r in dav.faults.requests if r.method == "GET" and r.path.endswith(name)]


# -- through the proxy: resets, stalls, slowness ---------------------------------------------


def test_a_connection_reset_mid_body_is_resumed_and_the_file_arrives_whole(
    dav: DavFixture, proxy: FaultProxy, member: Member
):
    payload = os.urandom(3 * 1024 * 1024)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", payload)
    proxy.reset_after(1024 * 1024)

    result = member.sync()

    assert proxy.faults_fired == ["reset"]
    assert result.errors == []
    assert member.files(TUESDAY) == {"video.mp4": payload}
    # fetched again (resumed with a Range when some bytes got through before the reset; a
    # reset may also throw away what the client had not read yet)
    assert len(gets(dav, "video.mp4")) >= 2


def test_resets_that_keep_coming_are_a_clear_error_with_no_partial_file_and_then_recover(
    dav: DavFixture, proxy: FaultProxy, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/small.jpg", b"small")
    member.sync()
    payload = os.urandom(3 * 1024 * 1024)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", payload)
    proxy.reset_after(256 * 1024, connections=None)

    result = member.sync()

    assert "reset" in proxy.faults_fired
    # the connection dropped: said as an interrupted connection or as a body that ended early
    assert any(
        "video.mp4" in e and ("interrupted" in e or "ended early" in e) for e in result.errors
    ), result.errors
    assert member.files(TUESDAY) == {"small.jpg": b"small"}

    proxy.release()
    result = member.sync()
    assert result.errors == []
    assert member.files(TUESDAY) == {"small.jpg": b"small", "video.mp4": payload}


def test_a_stalled_answer_times_out_and_the_download_resumes(
    dav: DavFixture, proxy: FaultProxy, member: Member
):
    payload = os.urandom(2 * 1024 * 1024)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", payload)
    proxy.stall_after(512 * 1024)

    result = member.sync()

    assert proxy.faults_fired == ["stall"]
    assert result.errors == []
    assert member.files(TUESDAY) == {"video.mp4": payload}
    assert gets(dav, "video.mp4")[-1].range is not None


def test_a_server_that_stalls_everything_ends_the_cycle_with_a_timeout_not_a_hang(
    dav: DavFixture, proxy: FaultProxy, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    dav.put_file(f"Media/{TUESDAY}/b.jpg", b"b")
    proxy.stall_after(0, connections=None)

    with pytest.raises(NetworkError) as error:
        member.sync()

    assert "did not answer in time" in error.value.message
    assert member.files(TUESDAY) == {"a.jpg": b"a"}
    assert partials(member) == []
    proxy.release()
    assert member.sync().errors == []
    assert member.files(TUESDAY) == {"a.jpg": b"a", "b.jpg": b"b"}


def test_a_slow_but_moving_answer_is_waited_for_not_timed_out(
    dav: DavFixture, proxy: FaultProxy, member: Member
):
    payload = os.urandom(512 * 1024)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", payload)
    # about 2 s for the file: longer than the 1 s timeout, but bytes arrive all the time
    proxy.throttle(256 * 1024)

    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY) == {"video.mp4": payload}
    assert len(gets(dav, "video.mp4")) == 1  # no timeout, no retry


# -- from the server: 5xx, 429 with Retry-After, 423 ----------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_passing_server_error_is_retried_and_the_file_arrives(
    dav: DavFixture, member: Member, status: int
):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    dav.faults.fail_next(2, status=status, retry_after=None, methods=("GET",), path_prefix=MEDIA)

    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY) == {"a.jpg": b"a"}
    assert [r.status for r in gets(dav, "a.jpg")] == [status, status, 200]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_that_lasts_is_a_clear_error_then_the_next_cycle_completes(
    dav: DavFixture, member: Member, status: int
):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    payload = os.urandom(256 * 1024)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", payload)
    dav.faults.fail_next(
        100, status=status, retry_after=None, methods=("GET",), path_prefix=f"{MEDIA}/video"
    )

    result = member.sync()

    assert len(result.errors) == 1
    assert "video.mp4" in result.errors[0] and str(status) in result.errors[0]
    assert member.files(TUESDAY) == {"a.jpg": b"a"}
    assert partials(member) == []

    dav.faults.reset()
    assert member.sync().errors == []
    assert member.files(TUESDAY) == {"a.jpg": b"a", "video.mp4": payload}


def test_429_retry_after_is_honoured_before_the_next_attempt(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    # congsync's own first backoff is 0.25-0.5 s: only Retry-After makes it wait 2 s
    dav.faults.fail_next(1, status=429, retry_after="2", methods=("GET",), path_prefix=MEDIA)

    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY) == {"a.jpg": b"a"}
    limited, retried = gets(dav, "a.jpg")
    assert (limited.status, retried.status) == (429, 200)
    assert retried.at - limited.at >= 2.0


def test_429_on_a_listing_is_waited_for_too(dav: DavFixture, member: Member):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    dav.faults.fail_next(1, status=429, retry_after="2", methods=("PROPFIND",))

    result = member.sync()

    assert result.errors == []
    limited, retried = [r for r in dav.faults.requests if r.method == "PROPFIND"][:2]
    assert limited.status == 429 and retried.at - limited.at >= 2.0


def test_423_locked_keeps_the_previous_version_says_so_and_the_next_cycle_publishes(
    dav: DavFixture, tmp_path: Path
):
    write_prefs(dav)
    org = Organizer(dav, tmp_path / "org")
    org.drop(f"{TUESDAY}/talk.mp4", b"previous version")
    org.sync()
    org.drop(f"{TUESDAY}/talk.mp4", b"new version!")
    dav.faults.fail_next(100, status=423, retry_after=None, methods=("PUT", "MOVE"))

    result = org.sync()

    assert result.uploaded == 0
    assert any("talk.mp4" in e and "423" in e for e in result.errors), result.errors
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"previous version"

    dav.faults.reset()
    result = org.sync()
    assert (result.uploaded, result.errors) == (1, [])
    assert dav.read_file(f"Media/{TUESDAY}/talk.mp4") == b"new version!"
