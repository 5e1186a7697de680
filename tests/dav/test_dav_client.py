"""The WebDAV adapter's own rules: ETag and date normalisation, Retry-After, size limits, 416."""

from __future__ import annotations

import email.utils
import ssl
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from davserver import DavFixture
from support import TUESDAY, Member, write_prefs

import daemon.dav.client
from daemon.dav import MAX_RETRY_AFTER, normalise_etag, parse_http_date, parse_retry_after
from daemon.errors import HostileResponse
from daemon.sync.media_folder import MediaFolder


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ('"abc"', "abc"),
        ('W/"abc"', "abc"),
        ('"abc-gzip"', "abc"),
        ('"abc;gzip"', "abc"),
        ("abc", "abc"),
        ('""', None),
        (None, None),
    ],
)
def test_etags_are_compared_without_weakness_quotes_or_compression_suffix(raw, normal):
    assert normalise_etag(raw) == normal


def test_retry_after_in_seconds_is_taken_as_is():
    assert parse_retry_after("7") == 7.0


def test_retry_after_as_an_http_date_is_the_time_until_then():
    now = 1_900_000_000.0
    later = email.utils.formatdate(now + 42, usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(42.0)
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0


def test_an_absurd_retry_after_is_capped_and_garbage_ignored():
    assert parse_retry_after("999999") == MAX_RETRY_AFTER
    assert parse_retry_after("soon, maybe") is None
    assert parse_retry_after(None) is None


def test_last_modified_is_read_in_http_and_iso_forms():
    expected = datetime(2030, 1, 8, 19, 0, tzinfo=UTC)
    assert parse_http_date("Tue, 08 Jan 2030 19:00:00 GMT") == expected
    assert parse_http_date("2030-01-08T19:00:00Z") == expected
    assert parse_http_date("not a date") is None


def test_an_oversized_listing_is_refused_and_changes_nothing(
    dav: DavFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    write_prefs(dav)
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member = Member(dav, tmp_path / "m")
    member.sync()
    monkeypatch.setattr(daemon.dav.client, "MAX_LISTING_BYTES", 4096)  # the real limit is 32 MB
    padding = "<d:response><d:href>/congregation/Media/x</d:href></d:response>" * 200
    dav.faults.override_propfind(
        "/congregation/Media/",
        f'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">{padding}</d:multistatus>'.encode(),
    )

    with pytest.raises(HostileResponse):
        member.sync()
    assert member.files(TUESDAY) == {"a.jpg": b"a"}


def test_an_oversized_prefs_file_keeps_the_last_good_settings(dav: DavFixture, tmp_path: Path):
    write_prefs(dav)
    dav.put_file("Media/Recurring/y.png", b"y")
    member = Member(dav, tmp_path / "m")
    member.sync()
    dav.put_file("forcedPrefs.json", b"{" + b" " * (2 * 1024 * 1024) + b"}")

    result = member.sync()

    assert any("forcedPrefs.json" in w for w in result.warnings)
    assert member.files(TUESDAY) == {"y.png": b"y"}


def test_a_complete_leftover_partial_download_is_fetched_again_cleanly(
    dav: DavFixture, tmp_path: Path
):
    write_prefs(dav)
    payload = b"video" * 50_000
    dav.put_file(f"Media/{TUESDAY}/v.mp4", payload)
    member = Member(dav, tmp_path / "m")
    url = f"{dav.folder_url}Media/{TUESDAY}/v.mp4"
    with httpx.Client(
        verify=ssl.create_default_context(cafile=str(dav.ca_path)), auth=dav.auth
    ) as client:
        etag = normalise_etag(client.head(url).headers["ETag"])
    # A crash after the download finished but before the rename leaves the whole file in tmp:
    # resuming asks for bytes past the end, which the server answers with 416.
    partial = MediaFolder(member.media).partial_path(TUESDAY, "v.mp4", f"etag:{etag}")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(payload)

    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY) == {"v.mp4": payload}
    gets = [r.status for r in dav.faults.requests if r.method == "GET" and r.path.endswith(".mp4")]
    assert gets == [416, 200]
