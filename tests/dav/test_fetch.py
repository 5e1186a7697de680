"""Download bodies on http.client (daemon.dav.fetch), against the real TLS test server: kept-alive
connections, a connection dropped while idle, the error mapping, and httpx behind a proxy."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from davserver import DavFixture

from daemon.dav import DavClient, RemoteEntry, RetryPolicy
from daemon.errors import AuthError, NetworkError, TLSError

DAY = "2030-01-08"


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the TLS connections the fetcher opens (a spy: each still connects for real)."""
    opened: list[int] = []
    real = http.client.HTTPSConnection.connect

    def counting(self: http.client.HTTPSConnection) -> None:
        opened.append(1)
        real(self)

    monkeypatch.setattr(http.client.HTTPSConnection, "connect", counting)
    return opened


def client(dav: DavFixture, password: str | None = None, ca: Path | None = None) -> DavClient:
    return DavClient(
        dav.base_url,
        dav.folder,
        dav.username,
        dav.password if password is None else password,
        ca_bundle=dav.ca_path if ca is None else ca,
        retry=RetryPolicy(attempts=1),
    )


@pytest.fixture
def files(dav: DavFixture) -> Iterator[list[tuple[RemoteEntry, bytes]]]:
    out = []
    with client(dav) as probe:
        for i in range(3):
            payload = bytes([i]) * (300_000 + i)
            dav.put_file(f"Media/{DAY}/f{i}.mp4", payload)
            out.append((probe.stat(("Media", DAY, f"f{i}.mp4")), payload))
    yield out


def test_downloads_reuse_one_kept_alive_connection(
    dav: DavFixture, files: list[tuple[RemoteEntry, bytes]], connects: list[int], tmp_path: Path
):
    with client(dav) as c:
        for i, (entry, payload) in enumerate(files):
            assert c.download(entry, tmp_path / f"{i}.part") == len(payload)
            assert (tmp_path / f"{i}.part").read_bytes() == payload
    assert len(connects) == 1
    assert dav.faults.count("GET") == 3


def test_a_connection_dropped_while_idle_is_replaced_without_an_error(
    dav: DavFixture, files: list[tuple[RemoteEntry, bytes]], connects: list[int], tmp_path: Path
):
    with client(dav) as c:
        c.download(files[0][0], tmp_path / "0.part")
        # What a server's keep-alive timeout leaves behind: the idle connection is dead.
        fetcher = c._fetcher
        assert fetcher is not None and len(fetcher._idle) == 1
        sock = fetcher._idle[0].sock
        assert sock is not None
        sock.shutdown(socket.SHUT_RDWR)

        assert c.download(files[1][0], tmp_path / "1.part") == len(files[1][1])
    assert (tmp_path / "1.part").read_bytes() == files[1][1]
    assert len(connects) == 2


def test_a_wrong_password_on_a_download_is_an_authentication_error(
    dav: DavFixture, files: list[tuple[RemoteEntry, bytes]], tmp_path: Path
):
    with client(dav, password="not-it") as c, pytest.raises(AuthError):
        c.download(files[0][0], tmp_path / "0.part")


def test_an_untrusted_certificate_on_a_download_is_a_tls_error(
    dav: DavFixture, files: list[tuple[RemoteEntry, bytes]], tmp_path: Path
):
    from trustme import CA

    other = tmp_path / "other-ca.pem"
    CA().cert_pem.write_to_path(str(other))
    with client(dav, ca=other) as c, pytest.raises(TLSError, match="cannot be trusted"):
        c.download(files[0][0], tmp_path / "0.part")


def test_a_server_that_is_gone_is_unreachable(
    dav: DavFixture, files: list[tuple[RemoteEntry, bytes]], tmp_path: Path
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once this closes
    with (
        DavClient(
            f"https://127.0.0.1:{port}/",
            dav.folder,
            "u",
            "p",
            ca_bundle=dav.ca_path,
            retry=RetryPolicy(attempts=1),
        ) as c,
        pytest.raises(NetworkError, match="cannot be reached"),
    ):
        c.download(files[0][0], tmp_path / "0.part")


def test_behind_a_proxy_downloads_go_through_httpx_and_its_proxy(
    dav: DavFixture,
    files: list[tuple[RemoteEntry, bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with client(dav) as c, pytest.raises(NetworkError):
        c.download(files[0][0], tmp_path / "0.part")  # the (dead) proxy is not bypassed
    assert dav.faults.count("GET") == 0

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with client(dav) as c:
        assert c.download(files[0][0], tmp_path / "1.part") == len(files[0][1])


def test_a_download_still_running_when_the_client_closes_closes_its_connection(
    dav: DavFixture, files: list[tuple[RemoteEntry, bytes]]
):
    c = client(dav)
    fetcher = c._fetcher
    assert fetcher is not None
    target = c.url_for(files[0][0].path)[len(c._origin) :]
    with fetcher.get(target, {}) as answer:
        body = b"".join(bytes(piece) for piece in answer.chunks(65536))
        c.close()  # e.g. the daemon stopping while a download thread finishes its body
        assert fetcher._idle == []  # nothing idle to close yet: this connection is busy
    assert body == files[0][1]
    assert fetcher._idle == []  # not kept for reuse by a closed client (a leaked socket)


def test_a_file_gone_since_the_listing_is_not_found_and_the_next_download_still_works(
    dav: DavFixture, files: list[tuple[RemoteEntry, bytes]], tmp_path: Path
):
    from daemon.errors import NotFound

    dav.remove(f"Media/{DAY}/f0.mp4")
    with client(dav) as c:
        with pytest.raises(NotFound, match="does not exist"):
            c.download(files[0][0], tmp_path / "0.part")
        assert not (tmp_path / "0.part").exists()
        assert c.download(files[1][0], tmp_path / "1.part") == len(files[1][1])
    assert (tmp_path / "1.part").read_bytes() == files[1][1]
