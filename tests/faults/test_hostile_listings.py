"""Hostile or broken PROPFIND answers from a real TLS server (its fault middleware sends the raw
body): nothing lands outside the media folder, nothing is deleted on a listing's say-so, no
parser blows up memory.

Already covered elsewhere, and kept there:
- `../`, percent-encoded `..` and `/`, another origin, another path:
  tests/sync/test_hostile.py::test_hrefs_pointing_outside_the_folder_are_ignored_and_delete_nothing
- Windows-reserved and invalid names:
  tests/sync/test_hostile.py::test_windows_invalid_and_reserved_names_arrive_under_safe_names
- names differing only in case or Unicode normalisation:
  tests/sync/test_hostile.py::test_names_that_collide_after_unicode_normalisation_yield_one_file
- malformed XML: tests/sync/test_member_cycle.py::test_a_malformed_listing_changes_nothing
- the size limit (lowered to 4 KB there):
  tests/dav/test_dav_client.py::test_an_oversized_listing_is_refused_and_changes_nothing
"""

from __future__ import annotations

from pathlib import Path

import pytest
from davserver import DavFixture
from organizer_support import Organizer, server_files
from support import TUESDAY, Member, write_prefs

from daemon.core.names import is_safe_local_name
from daemon.errors import HostileResponse, UnsafeToProceed

pytestmark = pytest.mark.timeout(60)

DATE_FOLDER = f"/congregation/Media/{TUESDAY}/"


@pytest.fixture
def member(dav: DavFixture, tmp_path: Path) -> Member:
    write_prefs(dav)
    return Member(dav, tmp_path / "home" / "member")


def multistatus(collection: str, *children: str, prolog: str = "") -> bytes:
    def response(href: str, is_dir: bool) -> str:
        kind = "<d:collection/>" if is_dir else ""
        return (
            f"<d:response><d:href>{href}</d:href><d:propstat><d:prop>"
            f"<d:resourcetype>{kind}</d:resourcetype><d:getcontentlength>1</d:getcontentlength>"
            f'<d:getetag>"{abs(hash(href))}"</d:getetag></d:prop>'
            "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
        )

    body = response(collection, True) + "".join(response(c, False) for c in children)
    return (
        f'<?xml version="1.0"?>{prolog}<d:multistatus xmlns:d="DAV:">{body}</d:multistatus>'
    ).encode()


def everything_outside(member: Member, tmp_path: Path) -> set[Path]:
    """Files anywhere in the test's folder that are not in the member's own home."""
    home = member.profile.paths.config_file.parent
    return {p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(home)}


# -- hrefs and names ----------------------------------------------------------------------


def test_absolute_hrefs_of_this_server_outside_the_folder_are_ignored(
    dav: DavFixture, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/keep.jpg", b"keep")
    (dav.root / "elsewhere.jpg").write_bytes(b"not for members")
    member.sync()
    origin = dav.base_url.rstrip("/")
    dav.faults.override_propfind(
        DATE_FOLDER,
        multistatus(
            f"{origin}{DATE_FOLDER}",
            f"{origin}/elsewhere.jpg",
            f"{origin}{DATE_FOLDER}../../../other.jpg",
            f"{origin}{DATE_FOLDER}sub/deeper.jpg",
            f"{origin.replace('https', 'http')}{DATE_FOLDER}plain.jpg",
        ),
    )

    result = member.sync()

    assert result.errors == []
    assert member.files(TUESDAY) == {"keep.jpg": b"keep"}  # a partial listing removes nothing
    assert len([w for w in result.warnings if "outside" in w or "direct child" in w]) == 4
    requested = {r.path for r in dav.faults.requests if r.method == "GET"}
    assert "/elsewhere.jpg" not in requested


def test_names_made_of_separators_and_dots_stay_inside_the_date_folder(
    dav: DavFixture, member: Member, tmp_path: Path
):
    names = ["..\\..\\evil.jpg", "%2e%2e%2fescape.jpg", "C:\\evil.jpg"]
    unusable = ["...", "..\\"]
    for i, name in enumerate(names + unusable):
        dav.put_file(f"Media/{TUESDAY}/{name}", f"content {i}".encode())

    result = member.sync()

    assert result.errors == []
    arrived = member.files(TUESDAY)
    assert sorted(arrived.values()) == sorted(f"content {i}".encode() for i in range(len(names)))
    assert len([w for w in result.warnings if "cannot be used as a file name" in w]) == 2
    assert all(is_safe_local_name(n) for n in arrived)
    assert member.all_paths() == {f"{TUESDAY}/{n}" for n in arrived}
    assert everything_outside(member, tmp_path) == set()


# -- bodies that are too big or explode in the parser --------------------------------------


def test_a_50_mb_listing_is_refused_at_the_real_limit_and_changes_nothing(
    dav: DavFixture, member: Member
):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    entry = f"<d:response><d:href>{DATE_FOLDER}x.jpg</d:href></d:response>".encode()
    padding = entry * (50 * 1024 * 1024 // len(entry))
    dav.faults.override_propfind(
        "/congregation/Media/",
        b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">' + padding + b"</d:multistatus>",
    )

    with pytest.raises(HostileResponse):
        member.sync()
    assert member.files(TUESDAY) == {"a.jpg": b"a"}


# Seven levels (30 MB expanded) are past expat's amplification limit and still harmless should
# a parser without that limit ever expand them.
BILLION_LAUGHS = (
    '<!DOCTYPE d:multistatus [<!ENTITY lol "lollollollollollollollollollol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 8)
    )
    + "]>"
)
QUADRATIC = '<!DOCTYPE d:multistatus [<!ENTITY big "' + "x" * 100_000 + '">]>'


@pytest.mark.parametrize(
    ("prolog", "reference"),
    [(BILLION_LAUGHS, "&lol7;"), (QUADRATIC, "&big;" * 2000)],
    ids=["billion-laughs", "quadratic-blowup"],
)
def test_entity_expansion_is_refused_and_changes_nothing(
    dav: DavFixture, member: Member, prolog: str, reference: str
):
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    dav.faults.override_propfind(
        DATE_FOLDER, multistatus(DATE_FOLDER, f"{DATE_FOLDER}{reference}.jpg", prolog=prolog)
    )

    result = member.sync()

    # the parser stops at its amplification limit: that date folder counts as unlisted
    assert any("amplification" in w for w in result.warnings), result.warnings
    assert member.files(TUESDAY) == {"a.jpg": b"a"}


def test_an_external_entity_is_never_read_from_the_local_disk(
    dav: DavFixture, member: Member, tmp_path: Path
):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    dav.put_file(f"Media/{TUESDAY}/a.jpg", b"a")
    member.sync()
    prolog = f'<!DOCTYPE d:multistatus [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    dav.faults.override_propfind(
        DATE_FOLDER, multistatus(DATE_FOLDER, f"{DATE_FOLDER}&xxe;.jpg", prolog=prolog)
    )

    result = member.sync()

    assert any("not valid WebDAV XML" in w for w in result.warnings), result.warnings
    assert member.files(TUESDAY) == {"a.jpg": b"a"}
    assert not any("TOPSECRET" in p for p in member.all_paths())
    assert not any("TOPSECRET" in r.path for r in dav.faults.requests)


# -- a listing that suddenly shows the folder empty ------------------------------------------


@pytest.mark.parametrize(
    "emptied", [DATE_FOLDER, "/congregation/Media/"], ids=["date-folder", "media-folder"]
)
def test_a_folder_suddenly_listed_empty_deletes_nothing_at_a_member(
    dav: DavFixture, member: Member, emptied: str
):
    for name in "abcd":
        dav.put_file(f"Media/{TUESDAY}/{name}.jpg", name.encode())
    member.sync()
    dav.faults.override_propfind(emptied, multistatus(emptied))

    with pytest.raises(UnsafeToProceed):
        member.sync()
    assert member.files(TUESDAY) == {f"{n}.jpg": n.encode() for n in "abcd"}

    dav.faults.reset()  # the server comes to its senses: nothing to do
    result = member.sync()
    assert (result.errors, result.removed) == ([], 0)
    assert member.files(TUESDAY) == {f"{n}.jpg": n.encode() for n in "abcd"}


def test_a_date_folder_suddenly_listed_empty_deletes_nothing_at_an_organizer(
    dav: DavFixture, tmp_path: Path
):
    write_prefs(dav)
    org = Organizer(dav, tmp_path / "org")
    for name in "abcd":
        org.drop(f"{TUESDAY}/{name}.jpg", name.encode())
    org.sync()
    dav.faults.override_propfind(DATE_FOLDER, multistatus(DATE_FOLDER))

    with pytest.raises(UnsafeToProceed):
        org.sync()
    assert org.files() == {f"{TUESDAY}/{n}.jpg": n.encode() for n in "abcd"}
    assert {p for p in server_files(dav) if p.startswith("Media/")} == {
        f"Media/{TUESDAY}/{n}.jpg" for n in "abcd"
    }
