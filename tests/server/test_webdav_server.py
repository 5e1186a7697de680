"""The embedded WebDAV server, the fault injector and the demo congregation, over real TLS."""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote
from wsgiref.types import StartResponse, WSGIEnvironment

import httpx
import pytest
from davserver import DavFixture, FaultController
from PIL import Image

from daemon.errors import ConfigError
from daemon.server.sample import populate_sample_congregation
from daemon.server.webdav import DavServer, TLSMaterial, make_tls

PROPFIND_PROPS = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getlastmodified/>'
    b"<d:getcontentlength/><d:resourcetype/></d:prop></d:propfind>"
)
PROPFIND_ALLPROP = (
    b'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>'
)


@pytest.fixture
def client(dav: DavFixture, ca_ssl_context: ssl.SSLContext) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=dav.base_url, verify=ca_ssl_context, auth=dav.auth, timeout=10.0
    ) as c:
        yield c


def propfind(c: httpx.Client, path: str, depth: str | None = "1") -> httpx.Response:
    headers = {"Depth": depth} if depth is not None else {}
    return c.request("PROPFIND", path, headers=headers, content=PROPFIND_PROPS)


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return False
    except OSError:
        return True


# --- the server ---------------------------------------------------------------------------


def test_server_starts_serves_and_stops_promptly(
    tmp_path: Path, tls_material: TLSMaterial, ca_ssl_context: ssl.SSLContext
) -> None:
    server = DavServer(tmp_path, tls_material, users={"vo": "pw"})
    server.start()
    assert server.url == f"https://127.0.0.1:{server.port}/"
    response = httpx.request(
        "PROPFIND", server.url, headers={"Depth": "0"}, auth=("vo", "pw"), verify=ca_ssl_context
    )
    assert response.status_code == 207
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.0
    assert refuses_connections(server.port)


def test_server_works_as_a_context_manager(
    tmp_path: Path, tls_material: TLSMaterial, ca_ssl_context: ssl.SSLContext
) -> None:
    with DavServer(tmp_path, tls_material) as server:
        assert httpx.get(server.url + "missing", verify=ca_ssl_context).status_code == 404
    assert refuses_connections(server.port)


def test_stop_does_not_wait_for_clients_that_keep_connections_open(
    dav: DavFixture, client: httpx.Client
) -> None:
    assert propfind(client, "congregation/").status_code == 207  # leaves a keep-alive connection
    silent = socket.create_connection(("127.0.0.1", dav.server.port))  # never says hello
    try:
        time.sleep(0.2)  # let the server start waiting for the silent client's handshake
        started = time.monotonic()
        dav.server.stop()
        assert time.monotonic() - started < 2.0
        assert refuses_connections(dav.server.port)
    finally:
        silent.close()


def test_stop_returns_even_while_a_download_is_in_progress(
    dav: DavFixture, ca_ssl_context: ssl.SSLContext
) -> None:
    dav.put_file("big.bin", b"x" * 1_000_000)
    dav.faults.slow_get(50_000)
    errors: list[BaseException] = []

    def download() -> None:
        try:
            with httpx.Client(verify=ca_ssl_context, auth=dav.auth, timeout=10.0) as c:
                c.get(dav.folder_url + "big.bin")
        except httpx.HTTPError as exc:
            errors.append(exc)

    worker = threading.Thread(target=download, daemon=True)
    worker.start()
    assert dav.faults.wait_for_count(1, "GET")
    time.sleep(0.2)
    started = time.monotonic()
    dav.server.stop()
    assert time.monotonic() - started < 2.5
    dav.faults.release()
    worker.join(10.0)
    assert not worker.is_alive()


def test_requests_without_credentials_are_refused(dav: DavFixture, client: httpx.Client) -> None:
    response = client.request("PROPFIND", "congregation/", headers={"Depth": "1"}, auth=None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = client.request(
        "PROPFIND", "congregation/", headers={"Depth": "1"}, auth=("vo", "wrong")
    )
    assert wrong.status_code == 401


def test_listing_with_credentials_answers_multistatus(
    dav: DavFixture, client: httpx.Client
) -> None:
    dav.put_file("Media/2026-11-24/slide.jpg", b"jpeg")
    response = propfind(client, "congregation/")
    assert response.status_code == 207
    assert "/congregation/Media/" in response.text


def test_server_without_users_is_open(
    tmp_path: Path, tls_material: TLSMaterial, ca_ssl_context: ssl.SSLContext
) -> None:
    with (
        DavServer(tmp_path, tls_material, users=None) as server,
        httpx.Client(base_url=server.url, verify=ca_ssl_context) as c,
    ):
        assert c.put("note.txt", content=b"hi").status_code == 201
        assert c.get("note.txt").content == b"hi"


@pytest.mark.parametrize("depth", [None, "infinity", "Infinity"])
def test_infinite_listings_are_refused_like_apache_does(
    dav: DavFixture, client: httpx.Client, depth: str | None
) -> None:
    response = propfind(client, "congregation/", depth=depth)
    assert response.status_code == 403
    assert b"propfind-finite-depth" in response.content


def test_infinite_listings_can_be_allowed(
    tmp_path: Path, tls_material: TLSMaterial, ca_ssl_context: ssl.SSLContext
) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_bytes(b"1")
    with DavServer(tmp_path, tls_material, allow_infinite_propfind=True) as server:
        # Without a Depth header WsgiDAV lists the whole tree, as RFC 4918 says.
        response = httpx.request("PROPFIND", server.url + "a/", verify=ca_ssl_context)
    assert response.status_code == 207
    assert "/a/b/deep.txt" in response.text


def test_range_with_matching_if_range_resumes_and_with_stale_one_restarts(
    dav: DavFixture, client: httpx.Client
) -> None:
    body = bytes(range(256)) * 40
    dav.put_file("Media/2026-11-24/clip.mp4", body)
    full = client.get("congregation/Media/2026-11-24/clip.mp4")
    etag = full.headers["ETag"]

    resumed = client.get(
        "congregation/Media/2026-11-24/clip.mp4",
        headers={"Range": "bytes=1000-", "If-Range": etag},
    )
    assert resumed.status_code == 206
    assert resumed.headers["ETag"] == etag
    assert resumed.headers["Content-Range"] == f"bytes 1000-{len(body) - 1}/{len(body)}"
    assert resumed.content == body[1000:]

    restarted = client.get(
        "congregation/Media/2026-11-24/clip.mp4",
        headers={"Range": "bytes=1000-", "If-Range": '"not-the-etag"'},
    )
    assert restarted.status_code == 200
    assert restarted.content == body


def test_write_methods_work(dav: DavFixture, client: httpx.Client) -> None:
    assert client.request("MKCOL", "congregation/Media/").status_code == 201
    assert client.put("congregation/Media/.upload.tmp", content=b"new").status_code == 201
    moved = client.request(
        "MOVE",
        "congregation/Media/.upload.tmp",
        headers={"Destination": dav.folder_url + "Media/final.jpg", "Overwrite": "T"},
    )
    assert moved.status_code == 201
    assert dav.read_file("Media/final.jpg") == b"new"
    assert client.delete("congregation/Media/final.jpg").status_code == 204
    assert not dav.path("Media/final.jpg").exists()


def test_conditional_puts_are_honoured(dav: DavFixture, client: httpx.Client) -> None:
    dav.put_file("a.txt", b"old")
    url = "congregation/a.txt"
    assert client.put(url, content=b"x", headers={"If-None-Match": "*"}).status_code == 412
    assert client.put(url, content=b"x", headers={"If-Match": '"stale"'}).status_code == 412
    etag = client.head(url).headers["ETag"]
    assert client.put(url, content=b"new", headers={"If-Match": etag}).status_code == 204
    assert dav.read_file("a.txt") == b"new"


def test_etag_changes_when_a_file_is_rewritten_with_the_same_size(
    dav: DavFixture, client: httpx.Client
) -> None:
    dav.put_file("a.txt", b"one")
    first = client.head("congregation/a.txt").headers["ETag"]
    assert client.put("congregation/a.txt", content=b"two").status_code == 204
    assert client.head("congregation/a.txt").headers["ETag"] != first


def test_listing_etag_is_the_get_etag_without_quotes(dav: DavFixture, client: httpx.Client) -> None:
    dav.put_file("a.txt", b"one")
    listing = propfind(client, "congregation/a.txt", depth="0").text
    header = client.head("congregation/a.txt").headers["ETag"]
    assert f"<ns0:getetag>{header.strip(chr(34))}</ns0:getetag>" in listing


def test_non_loopback_addresses_are_refused(tmp_path: Path, tls_material: TLSMaterial) -> None:
    for host in ("0.0.0.0", "192.0.2.10", "::", "example.org", ""):
        with pytest.raises(ConfigError):
            DavServer(tmp_path, tls_material, host=host)


def test_localhost_is_served(
    tmp_path: Path, tls_material: TLSMaterial, ca_ssl_context: ssl.SSLContext
) -> None:
    with DavServer(tmp_path, tls_material, host="localhost") as server:
        assert server.url == f"https://localhost:{server.port}/"
        assert httpx.get(server.url + "nothing", verify=ca_ssl_context).status_code == 404


def test_make_tls_keeps_the_private_key_private(tmp_path: Path) -> None:
    material = make_tls(tmp_path / "tls")
    assert stat.S_IMODE(material.key_pem_path.stat().st_mode) == 0o600
    assert b"BEGIN CERTIFICATE" in material.ca_pem_path.read_bytes()
    assert b"PRIVATE KEY" not in material.cert_pem_path.read_bytes()


def test_a_client_without_the_ca_does_not_trust_the_server(dav: DavFixture) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(dav.base_url, verify=ssl.create_default_context())


def test_put_file_on_disk_changes_etag_and_last_modified(
    dav: DavFixture, client: httpx.Client
) -> None:
    dav.put_file("Media/2026-11-24/a.jpg", b"one")
    before = client.head("congregation/Media/2026-11-24/a.jpg").headers
    dav.put_file("Media/2026-11-24/a.jpg", b"two")
    after = client.head("congregation/Media/2026-11-24/a.jpg").headers
    assert after["ETag"] != before["ETag"]
    assert after["Last-Modified"] != before["Last-Modified"]
    assert [p.name for p in dav.path("Media/2026-11-24").iterdir()] == ["a.jpg"]


# --- folder ETags that change with anything below them -----------------------------------

# Long ago, so whatever the tests write gets a different mtime even on a coarse clock.
_OLD_MTIME_NS = 1_600_000_000 * 1_000_000_000


def listed_etags(response: httpx.Response) -> dict[str, str | None]:
    """The `getetag` of every resource in a multistatus, by decoded href (None: not there)."""
    assert response.status_code == 207
    etags: dict[str, str | None] = {}
    for item in ET.fromstring(response.content).iter("{DAV:}response"):
        href = unquote(item.findtext("{DAV:}href") or "")
        etags[href] = None
        for propstat in item.iter("{DAV:}propstat"):
            if " 200 " in (propstat.findtext("{DAV:}status") or ""):
                etag = propstat.findtext("{DAV:}prop/{DAV:}getetag")
                if etag is not None:
                    etags[href] = etag
    return etags


def propfind_etags(
    c: httpx.Client, path: str = "", depth: str = "1", body: bytes = PROPFIND_PROPS
) -> dict[str, str | None]:
    return listed_etags(c.request("PROPFIND", path, headers={"Depth": depth}, content=body))


def root_etag(c: httpx.Client) -> str | None:
    """The root folder's ETag, checked to be the same at Depth 0 and Depth 1."""
    shallow = propfind_etags(c, depth="0")
    assert set(shallow) == {"/"}
    assert propfind_etags(c, depth="1")["/"] == shallow["/"]
    return shallow["/"]


def make_tree(root: Path) -> None:
    """`a/b/c/deep.txt`, an unrelated `other/` folder and `top.txt`, all dated long ago."""
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "b" / "c" / "deep.txt").write_bytes(b"one")
    (root / "other").mkdir()
    (root / "other" / "x.txt").write_bytes(b"x")
    (root / "top.txt").write_bytes(b"top")
    for path in (*root.rglob("*"), root):
        os.utime(path, ns=(_OLD_MTIME_NS, _OLD_MTIME_NS))


@pytest.fixture
def tree_client(
    tmp_path: Path, tls_material: TLSMaterial, ca_ssl_context: ssl.SSLContext
) -> Iterator[httpx.Client]:
    """A client of a server with propagating folder ETags, sharing `make_tree`'s tree."""
    root = tmp_path / "share"
    root.mkdir()
    make_tree(root)
    with (
        DavServer(root, tls_material, users={"vo": "pw"}, folder_etags="tree") as server,
        httpx.Client(
            base_url=server.url, verify=ca_ssl_context, auth=("vo", "pw"), timeout=10.0
        ) as c,
    ):
        yield c


@pytest.mark.parametrize("body", [PROPFIND_PROPS, PROPFIND_ALLPROP], ids=["named", "allprop"])
def test_propagating_folder_etags_are_listed(tree_client: httpx.Client, body: bytes) -> None:
    listed = propfind_etags(tree_client, depth="1", body=body)
    assert set(listed) == {"/", "/a/", "/other/", "/top.txt"}
    folders = [listed["/"], listed["/a/"], listed["/other/"]]
    assert all(folders)
    assert len(set(folders)) == 3
    assert propfind_etags(tree_client, depth="0", body=body) == {"/": listed["/"]}
    assert propfind_etags(tree_client, "a/", depth="0", body=body) == {"/a/": listed["/a/"]}
    # Files keep their usual ETag, the same as in the ETag header.
    assert listed["/top.txt"] == tree_client.head("top.txt").headers["ETag"].strip('"')


def test_named_and_allprop_listings_agree_on_folder_etags(tree_client: httpx.Client) -> None:
    named = propfind_etags(tree_client, body=PROPFIND_PROPS)
    assert propfind_etags(tree_client, body=PROPFIND_ALLPROP) == named


def test_propagating_folder_etag_stays_while_nothing_changes(tree_client: httpx.Client) -> None:
    first = propfind_etags(tree_client)
    before = root_etag(tree_client)
    assert tree_client.get("a/b/c/deep.txt").content == b"one"  # reading changes nothing
    propfind_etags(tree_client, "a/b/c/")
    time.sleep(0.05)
    assert root_etag(tree_client) == before
    assert propfind_etags(tree_client) == first


def test_propagating_folder_etag_follows_an_mtime_change_three_levels_down(
    tmp_path: Path, tree_client: httpx.Client
) -> None:
    before = propfind_etags(tree_client)
    deep = tmp_path / "share" / "a" / "b" / "c" / "deep.txt"
    os.utime(deep, ns=(_OLD_MTIME_NS, _OLD_MTIME_NS + 1))  # one nanosecond later, nothing else
    after = propfind_etags(tree_client)
    assert after["/"] != before["/"]
    assert after["/a/"] != before["/a/"]
    assert after["/other/"] == before["/other/"]
    assert after["/top.txt"] == before["/top.txt"]
    assert root_etag(tree_client) == after["/"]


def test_propagating_folder_etag_follows_a_put_three_levels_down(
    tree_client: httpx.Client,
) -> None:
    before = propfind_etags(tree_client)
    before_b = propfind_etags(tree_client, "a/b/", depth="0")["/a/b/"]
    # The same size, in place: only the mtime tells.
    assert tree_client.put("a/b/c/deep.txt", content=b"two").status_code == 204
    after = propfind_etags(tree_client)
    assert after["/"] != before["/"]
    assert after["/a/"] != before["/a/"]
    assert propfind_etags(tree_client, "a/b/", depth="0")["/a/b/"] != before_b
    assert after["/other/"] == before["/other/"]
    assert root_etag(tree_client) == after["/"]


def test_propagating_folder_etag_follows_adds_renames_and_removals(
    tmp_path: Path, tree_client: httpx.Client
) -> None:
    base = str(tree_client.base_url)
    seen = [root_etag(tree_client)]
    other = propfind_etags(tree_client)["/other/"]

    def changed() -> None:
        etag = root_etag(tree_client)
        assert etag not in seen
        seen.append(etag)
        assert propfind_etags(tree_client)["/other/"] == other

    assert tree_client.put("a/b/c/new.txt", content=b"new").status_code == 201
    changed()
    moved = tree_client.request(
        "MOVE", "a/b/c/new.txt", headers={"Destination": base + "a/b/c/renamed.txt"}
    )
    assert moved.status_code == 201
    changed()
    assert tree_client.delete("a/b/c/renamed.txt").status_code == 204
    changed()
    assert tree_client.request("MKCOL", "a/b/c/d/").status_code == 201
    changed()
    deep = tmp_path / "share" / "a" / "b" / "c"
    (deep / "deep.txt").rename(deep / "d" / "deep.txt")  # on disk, behind the server's back
    changed()
    (deep / "d" / "deep.txt").unlink()
    changed()


def test_propagating_folder_etags_serve_if_match(tree_client: httpx.Client) -> None:
    etag = root_etag(tree_client)
    matching = tree_client.request(
        "PROPFIND", "", headers={"Depth": "0", "If-Match": f'"{etag}"'}, content=PROPFIND_PROPS
    )
    assert matching.status_code == 207
    stale = tree_client.request(
        "PROPFIND", "", headers={"Depth": "0", "If-Match": '"stale"'}, content=PROPFIND_PROPS
    )
    assert stale.status_code == 412


def test_apache_like_folder_etags_move_only_for_direct_entries(
    tmp_path: Path, tls_material: TLSMaterial, ca_ssl_context: ssl.SSLContext
) -> None:
    make_tree(tmp_path)
    with (
        DavServer(tmp_path, tls_material, folder_etags="direct") as server,
        httpx.Client(base_url=server.url, verify=ca_ssl_context, timeout=10.0) as c,
    ):
        before = propfind_etags(c)
        assert all(before[k] for k in ("/", "/a/", "/other/"))
        # Deeper changes and rewrites in place leave the folders above alone.
        assert c.put("a/b/c/new.txt", content=b"new").status_code == 201
        assert c.put("top.txt", content=b"rewritten in place").status_code == 204
        after = propfind_etags(c)
        assert (after["/"], after["/a/"]) == (before["/"], before["/a/"])
        # A direct entry that comes moves the folder's ETag.
        assert c.request("MKCOL", "staging/").status_code == 201
        assert propfind_etags(c)["/"] != before["/"]


@pytest.mark.parametrize("body", [PROPFIND_PROPS, PROPFIND_ALLPROP], ids=["named", "allprop"])
def test_folders_have_no_etag_by_default(
    tmp_path: Path, tls_material: TLSMaterial, ca_ssl_context: ssl.SSLContext, body: bytes
) -> None:
    make_tree(tmp_path)
    with (
        DavServer(tmp_path, tls_material) as server,
        httpx.Client(base_url=server.url, verify=ca_ssl_context, timeout=10.0) as c,
    ):
        listed = propfind_etags(c, depth="1", body=body)
        assert listed["/"] is None
        assert listed["/a/"] is None
        assert listed["/other/"] is None
        assert listed["/top.txt"] == c.head("top.txt").headers["ETag"].strip('"')
        assert propfind_etags(c, depth="0", body=body) == {"/": None}
        assert c.put("a/b/c/deep.txt", content=b"two").status_code == 204
        assert propfind_etags(c, depth="0", body=body) == {"/": None}
        # Without a folder ETag, If-Match on a folder is not evaluated, as before.
        stale = c.request(
            "PROPFIND", "", headers={"Depth": "0", "If-Match": '"stale"'}, content=body
        )
        assert stale.status_code == 207


# --- the fault injector -------------------------------------------------------------------


def test_requests_are_logged_with_decoded_path_depth_range_status_and_bytes(
    dav: DavFixture, client: httpx.Client
) -> None:
    dav.put_file("Media/24-11-2026 - Tuesday/Café.jpg", b"0123456789")
    propfind(client, "congregation/Media/")
    client.get("congregation/Media/24-11-2026 - Tuesday/Café.jpg", headers={"Range": "bytes=2-"})
    logged = dav.faults.requests
    assert [(r.method, r.path, r.depth, r.status) for r in logged] == [
        ("PROPFIND", "/congregation/Media/", "1", 207),
        ("GET", "/congregation/Media/24-11-2026 - Tuesday/Café.jpg", None, 206),
    ]
    assert logged[1].range == "bytes=2-"
    assert logged[1].bytes_sent == 8
    assert dav.faults.count("GET") == 1
    assert dav.faults.count(path_prefix="/congregation/Media/24") == 1
    dav.faults.clear()
    assert dav.faults.count() == 0


def test_fail_next_answers_with_status_and_retry_after_then_recovers(
    dav: DavFixture, client: httpx.Client
) -> None:
    dav.faults.fail_next(2, status=503, retry_after="7")
    for _ in range(2):
        failed = propfind(client, "congregation/")
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "7"
    assert propfind(client, "congregation/").status_code == 207
    assert [r.injected for r in dav.faults.requests] == ["fail", "fail", None]


def test_fail_next_only_hits_matching_methods_and_paths(
    dav: DavFixture, client: httpx.Client
) -> None:
    dav.put_file("Media/a.jpg", b"a")
    dav.put_file("other.txt", b"o")
    dav.faults.fail_next(
        1, status=500, retry_after=None, methods=["get"], path_prefix="congregation/Media"
    )
    assert propfind(client, "congregation/Media/").status_code == 207
    assert client.get("congregation/other.txt").status_code == 200
    failed = client.get("congregation/Media/a.jpg")
    assert failed.status_code == 500
    assert "Retry-After" not in failed.headers
    assert client.get("congregation/Media/a.jpg").status_code == 200


def test_fail_next_answers_before_authentication(dav: DavFixture, client: httpx.Client) -> None:
    dav.faults.fail_next(1, status=429, retry_after="120")
    response = client.get("congregation/missing", auth=None)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "120"


def test_truncated_get_raises_on_the_client(dav: DavFixture, client: httpx.Client) -> None:
    body = b"m" * 200_000
    dav.put_file("Media/clip.mp4", body)
    dav.faults.truncate_next_get(1000)
    received = bytearray()
    with (
        pytest.raises(httpx.TransportError),
        client.stream("GET", "congregation/Media/clip.mp4") as response,
    ):
        assert response.headers["Content-Length"] == str(len(body))
        for chunk in response.iter_bytes():
            received.extend(chunk)
    assert len(received) == 1000
    truncated = dav.faults.requests[-1]
    assert (truncated.status, truncated.bytes_sent, truncated.injected) == (200, 1000, "truncate")
    # The rule is spent: the next download is whole.
    assert client.get("congregation/Media/clip.mp4").content == body


def test_truncated_resume_raises_too(dav: DavFixture, client: httpx.Client) -> None:
    dav.put_file("clip.mp4", b"r" * 50_000)
    dav.faults.truncate_next_get(0, path_prefix="/congregation/clip")
    with pytest.raises(httpx.TransportError):
        client.get("congregation/clip.mp4", headers={"Range": "bytes=100-"})
    assert dav.faults.requests[-1].status == 206


def test_override_propfind_returns_the_raw_body(dav: DavFixture, client: httpx.Client) -> None:
    hostile = (
        b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response>'
        b"<d:href>https://elsewhere.example/../../etc/passwd</d:href>"
        b"</d:response></d:multistatus>"
    )
    dav.faults.override_propfind("/congregation/Media/", hostile)
    response = propfind(client, "congregation/Media")
    assert response.status_code == 207
    assert response.content == hostile
    assert propfind(client, "congregation/").status_code == 207  # other paths untouched
    assert "elsewhere" not in propfind(client, "congregation/").text


def test_override_propfind_can_send_malformed_xml_with_any_status(
    dav: DavFixture, client: httpx.Client
) -> None:
    dav.faults.override_propfind("congregation", b"<d:multistatus", status=200)
    response = propfind(client, "congregation/")
    assert (response.status_code, response.content) == (200, b"<d:multistatus")
    dav.faults.remove_propfind_override("congregation")
    assert propfind(client, "congregation/").status_code == 207


def test_slow_get_throttles_and_release_lets_it_finish(
    dav: DavFixture, client: httpx.Client
) -> None:
    body = b"s" * 20_000
    dav.put_file("slow.bin", body)
    dav.faults.slow_get(40_000)
    started = time.monotonic()
    assert client.get("congregation/slow.bin").content == body
    assert time.monotonic() - started >= 0.3  # 20 kB at 40 kB/s is half a second
    assert dav.faults.requests[-1].injected == "slow"

    dav.faults.slow_get(1_000)  # 20 s for the whole file, unless released
    result: list[bytes] = []
    worker = threading.Thread(
        target=lambda: result.append(client.get("congregation/slow.bin").content), daemon=True
    )
    worker.start()
    assert dav.faults.wait_for_count(2, "GET")
    dav.faults.release()
    worker.join(10.0)
    assert result == [body]


def test_fault_controller_wraps_any_wsgi_app() -> None:
    controller = FaultController()
    statuses: list[str] = []

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raise AssertionError("a failed request must not reach the app")

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None, /
    ) -> Callable[[bytes], object]:
        statuses.append(status)
        return lambda data: None

    injector = controller.wrap(app)
    controller.fail_next(1, status=502)
    body = injector({"REQUEST_METHOD": "GET", "PATH_INFO": "/x"}, start_response)
    assert statuses == ["502 Bad Gateway"]
    assert b"".join(body).startswith(b"Injected failure")


# --- the demo congregation ----------------------------------------------------------------


def relative_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_demo_congregation_has_the_meeting_media_manager_layout(tmp_path: Path) -> None:
    today = date(2026, 11, 22)  # a Sunday
    summary = populate_sample_congregation(tmp_path, today)
    files = relative_files(tmp_path)

    assert summary.meeting_dates == (date(2026, 11, 22), date(2026, 11, 24))
    assert summary.date_folders == ("2026-11-22", "24-11-2026 - Tuesday")
    assert {p.name for p in (tmp_path / "Media").iterdir()} == {
        "Recurring",
        "2026-11-22",
        "24-11-2026 - Tuesday",
        "2026-11-15",
    }
    assert len(list((tmp_path / "Media" / "Recurring").iterdir())) == 2
    for folder in summary.date_folders:
        names = [p.name for p in (tmp_path / "Media" / folder).iterdir()]
        images = [n for n in names if n.endswith((".jpg", ".png"))]
        assert 2 <= len(images) <= 4
        assert len([n for n in names if n.endswith(".mp4")]) == 1
        for name in images:
            with Image.open(tmp_path / "Media" / folder / name) as image:
                assert image.size == (1280, 720)
            assert len(files[f"Media/{folder}/{name}"]) < 400_000
    assert "custom-background-image-demo.jpg" in files
    assert summary.file_count == len(files)
    assert summary.total_bytes == sum(len(data) for data in files.values())


def test_demo_hidden_marker_is_empty_and_names_a_file_of_that_meeting(tmp_path: Path) -> None:
    summary = populate_sample_congregation(tmp_path, date(2026, 3, 4))
    ((meeting, name),) = summary.hidden
    assert summary.hidden_names == (name,)
    marker = tmp_path / "Hidden" / meeting.isoformat() / name
    assert marker.read_bytes() == b""
    assert (tmp_path / "Media" / summary.date_folders[0] / name).is_file()


def test_demo_settings_are_nested_forced_prefs(tmp_path: Path) -> None:
    today = date(2026, 11, 22)
    summary = populate_sample_congregation(tmp_path, today)
    prefs = json.loads((tmp_path / "forcedPrefs.json").read_text(encoding="utf-8"))
    assert prefs["app"] == {
        "congregationName": "Demo Congregation",
        "outputFolderDateFormat": "YYYY-MM-DD",
    }
    assert prefs["meeting"]["mwDay"] == summary.midweek_day
    assert prefs["meeting"]["weDay"] == 6
    assert prefs["meeting"]["mwStartTime"] == "19:00"
    assert prefs["media"] == {"lang": "E"}


@pytest.mark.parametrize("offset", range(7))
def test_demo_midweek_meeting_is_a_weekday_one_to_three_days_ahead(
    tmp_path: Path, offset: int
) -> None:
    today = date(2026, 11, 23) + timedelta(days=offset)
    summary = populate_sample_congregation(tmp_path, today)
    assert summary.midweek_day <= 4
    assert any((today + timedelta(days=d)).weekday() == summary.midweek_day for d in (1, 2, 3))
    assert all(d >= today for d in summary.meeting_dates)
    assert {d.weekday() for d in summary.meeting_dates} <= {summary.midweek_day, 6}
    assert summary.past_date == today - timedelta(days=7)


def test_demo_content_is_deterministic(tmp_path: Path) -> None:
    today = date(2026, 5, 6)
    populate_sample_congregation(tmp_path / "one", today)
    populate_sample_congregation(tmp_path / "two", today)
    assert relative_files(tmp_path / "one") == relative_files(tmp_path / "two")


def test_demo_content_is_quick_to_make(tmp_path: Path) -> None:
    started = time.monotonic()
    populate_sample_congregation(tmp_path, date(2026, 5, 6))
    # A guard against an accidental slowdown, far above the usual fraction of a second.
    assert time.monotonic() - started < 5.0


def test_demo_congregation_is_served(
    tmp_path: Path, tls_material: TLSMaterial, ca_ssl_context: ssl.SSLContext
) -> None:
    summary = populate_sample_congregation(tmp_path / "congregation", date(2026, 11, 22))
    with (
        DavServer(tmp_path, tls_material, users={"vo": "pw"}) as server,
        httpx.Client(base_url=server.url, verify=ca_ssl_context, auth=("vo", "pw")) as c,
    ):
        listing = c.request("PROPFIND", "congregation/Media/", headers={"Depth": "1"}).text
        assert "/congregation/Media/24-11-2026%20-%20Tuesday/" in listing
        name = summary.hidden_names[0]
        marker = c.get(f"congregation/Hidden/2026-11-22/{name}")
        assert (marker.status_code, marker.content) == (200, b"")
