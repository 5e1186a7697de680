"""Remote names and listings are untrusted: nothing escapes the media folder, nothing crashes."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from davserver import DavFixture
from support import TUESDAY, Member, write_prefs

from daemon.core.names import is_safe_local_name

HOSTILE_NAMES = [
    "a<b>.jpg",
    'quote"d.jpg',
    "pipe|star*.jpg",
    "question?.jpg",
    "hash#1.jpg",
    "back\\slash.jpg",
    "CON.jpg",
    "nul",
    "trailing dot.",
    "trailing space ",
    "ctrl\x01char.jpg",
]


@pytest.fixture
def member(dav: DavFixture, tmp_path: Path) -> Member:
    write_prefs(dav)
    return Member(dav, tmp_path / "member")


def test_windows_invalid_and_reserved_names_arrive_under_safe_names(
    dav: DavFixture, member: Member, tmp_path: Path
):
    for i, name in enumerate(HOSTILE_NAMES):
        dav.put_file(f"Media/{TUESDAY}/{name}", f"content {i}".encode())

    result = member.sync()

    assert result.errors == []
    arrived = member.files(TUESDAY)
    assert len(arrived) == len(HOSTILE_NAMES)
    assert all(is_safe_local_name(n) for n in arrived)
    assert sorted(arrived.values()) == sorted(
        f"content {i}".encode() for i in range(len(HOSTILE_NAMES))
    )
    outside = {p for p in tmp_path.rglob("*") if p.is_file() and "member" not in p.parts}
    assert outside == set()


def test_names_that_collide_after_unicode_normalisation_yield_one_file(
    dav: DavFixture, member: Member
):
    composed = unicodedata.normalize("NFC", "café.jpg")
    decomposed = unicodedata.normalize("NFD", "café.jpg")
    dav.put_file(f"Media/{TUESDAY}/{composed}", b"one")
    dav.put_file(f"Media/{TUESDAY}/{decomposed}", b"two")
    dav.put_file(f"Media/{TUESDAY}/CAFÉ.jpg", b"three")

    result = member.sync()

    assert len(member.files(TUESDAY)) == 1
    assert any("café" in w.lower() for w in result.warnings)


def _multistatus(*hrefs: str) -> bytes:
    responses = "".join(
        f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>"
        f"<d:resourcetype/><d:getcontentlength>1</d:getcontentlength>"
        f'<d:getetag>"e{i}"</d:getetag></d:prop>'
        f"<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        for i, href in enumerate(hrefs)
    )
    collection = (
        f"<d:response><d:href>/congregation/Media/{TUESDAY}/</d:href><d:propstat><d:prop>"
        "<d:resourcetype><d:collection/></d:resourcetype></d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
    )
    return (
        f'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">{collection}{responses}</d:multistatus>'
    ).encode()


def test_hrefs_pointing_outside_the_folder_are_ignored_and_delete_nothing(
    dav: DavFixture, member: Member, tmp_path: Path
):
    dav.put_file(f"Media/{TUESDAY}/keep.jpg", b"keep")
    member.sync()
    dav.faults.override_propfind(
        f"/congregation/Media/{TUESDAY}/",
        _multistatus(
            f"/congregation/Media/{TUESDAY}/../../../../etc/passwd",
            f"/congregation/Media/{TUESDAY}/%2e%2e/%2e%2e/escape.jpg",
            f"/congregation/Media/{TUESDAY}/a%2Fb.jpg",
            "https://elsewhere.invalid/congregation/Media/x.jpg",
            "/some/other/folder/y.jpg",
        ),
    )

    result = member.sync()

    assert member.files(TUESDAY) == {"keep.jpg": b"keep"}  # partial listing: nothing removed
    assert len([w for w in result.warnings if "outside" in w or "direct child" in w]) == 5
    assert not (tmp_path / "escape.jpg").exists()
    requested = {r.path for r in dav.faults.requests if r.method == "GET"}
    assert all(p.startswith("/congregation/") for p in requested)
