"""Conditional writes are dav's business: the header where the server checks it, a look first where
it has not proven it does, and a 412 examined to learn which it was. Real server, real TLS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from davserver import DavFixture

from daemon.dav import DavClient, Expect
from daemon.errors import PreconditionFailed, ServerError
from daemon.server.webdav import DavServer, TLSMaterial

TARGET = ("Media", "2030-01-08", "talk.mp4")
STAGED = (".congsync-uploads", "x.part")


@pytest.fixture
def client(dav: DavFixture) -> Iterator[DavClient]:
    with DavClient(
        dav.base_url, dav.folder, dav.username, dav.password, ca_bundle=dav.ca_path
    ) as c:
        yield c


def staged_replacement(dav: DavFixture) -> None:
    dav.put_file("Media/2030-01-08/talk.mp4", b"theirs")
    dav.put_file(".congsync-uploads/x.part", b"mine")


def test_a_replacement_of_a_version_that_changed_is_refused_before_anything_moves(
    dav: DavFixture, client: DavClient
) -> None:
    staged_replacement(dav)
    dav.faults.clear()
    with pytest.raises(PreconditionFailed):
        client.move(STAGED, TARGET, expect=Expect("etag:an-older-version", '"an-older-version"'))
    assert dav.faults.count("MOVE") == 0
    assert dav.read_file("Media/2030-01-08/talk.mp4") == b"theirs"


def test_a_misread_tagged_if_is_learned_and_the_move_stays_guarded(
    dav: DavFixture, client: DavClient
) -> None:
    staged_replacement(dav)
    current = client.stat(TARGET)
    # A server that answers 412 although the target is exactly the version named.
    dav.faults.fail_next(1, status=412, retry_after=None, methods=["MOVE"])

    client.move(STAGED, TARGET, expect=Expect.entry(current))

    assert dav.read_file("Media/2030-01-08/talk.mp4") == b"mine"
    assert client.capabilities.tagged_if is False
    assert dav.faults.count("MOVE") == 2


def test_a_new_file_never_overwrites_one_published_meanwhile(
    dav: DavFixture, client: DavClient
) -> None:
    staged_replacement(dav)
    with pytest.raises(PreconditionFailed):
        client.move(STAGED, TARGET, expect=Expect.absent())
    assert dav.read_file("Media/2030-01-08/talk.mp4") == b"theirs"


def test_a_server_proven_to_honour_if_match_is_trusted_without_a_look_first(
    dav: DavFixture,
) -> None:
    dav.put_file("Media/2030-01-08/talk.mp4", b"v1")
    with DavClient(
        dav.base_url, dav.folder, dav.username, dav.password, ca_bundle=dav.ca_path
    ) as probe:
        identity = probe.identity
        stale = Expect.entry(probe.stat(TARGET))
    dav.put_file("Media/2030-01-08/talk.mp4", b"v2, changed by a co-organizer")
    proven = {"server": identity, "if_match": True}
    with DavClient(
        dav.base_url,
        dav.folder,
        dav.username,
        dav.password,
        ca_bundle=dav.ca_path,
        capabilities=proven,
    ) as client:
        dav.faults.clear()
        with pytest.raises(PreconditionFailed):
            client.delete(TARGET, expect=stale)
        assert client.capabilities.if_match is True  # the 412 was for a real change

    assert dav.faults.requests[0].method == "DELETE"  # no look before: the server checked
    assert dav.read_file("Media/2030-01-08/talk.mp4") == b"v2, changed by a co-organizer"


def test_what_another_server_proved_is_not_believed_here(dav: DavFixture) -> None:
    with DavClient(
        dav.base_url,
        dav.folder,
        dav.username,
        dav.password,
        ca_bundle=dav.ca_path,
        capabilities={"server": "https://elsewhere.example/dav/", "if_match": True},
    ) as client:
        assert client.capabilities.if_match is None
        assert client.capabilities.server == client.identity


def _serving_other_etags(app: Any) -> Any:
    """A server whose GET answers carry another ETag than its listings show."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            if environ["REQUEST_METHOD"] == "GET":
                headers = [(k, '"served-form"' if k.lower() == "etag" else v) for k, v in headers]
            return start_response(status, headers, *exc)

        return app(environ, start)

    return wrapped


def test_a_server_that_serves_other_etags_than_it_lists_is_not_refused_for_ever(
    tmp_path: Path, tls_material: TLSMaterial
) -> None:
    root = tmp_path / "share"
    (root / "congregation").mkdir(parents=True)
    (root / "congregation" / "a.jpg").write_bytes(b"jpeg bytes")
    with (
        DavServer(root, tls_material, wsgi_wrapper=_serving_other_etags) as server,
        DavClient(server.url, "congregation", "u", "p", ca_bundle=tls_material.ca_pem_path) as c,
    ):
        entry = c.list(()).children[0]
        partial = tmp_path / "a.part"
        with pytest.raises(ServerError, match="changed on the server during the download"):
            c.download(entry, partial)  # the first time, it may really have changed
        assert c.capabilities.strong_etags is False

        assert c.download(entry, partial) == len(b"jpeg bytes")  # then the length decides
        assert partial.read_bytes() == b"jpeg bytes"
