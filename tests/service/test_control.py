"""The control endpoint over real loopback sockets: who may talk to it, and what its commands do."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest

from daemon.errors import ControlError
from daemon.paths import Paths
from daemon.service.control import ControlClient, ControlServer, Request, Response
from daemon.service.status import State, StatusBoard

WAIT = 5.0


class FakeControls:
    """Stands in for the daemon: records the commands the endpoint passes on."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.quit_called = threading.Event()

    def sync_now(self, accept_deletions: bool = False) -> int:
        self.calls.append(("sync_now", accept_deletions))
        return 7

    def pause(self, until: datetime | None = None) -> None:
        self.calls.append(("pause", until))

    def resume(self) -> None:
        self.calls.append(("resume", None))

    def quit(self) -> None:
        self.calls.append(("quit", None))
        self.quit_called.set()


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(
        config_file=tmp_path / "config.toml", state_dir=tmp_path, log_dir=tmp_path / "logs"
    )


@pytest.fixture
def board() -> StatusBoard:
    return StatusBoard()


@pytest.fixture
def controls() -> FakeControls:
    return FakeControls()


@pytest.fixture
def server(board: StatusBoard, controls: FakeControls, paths: Paths) -> Iterator[ControlServer]:
    server = ControlServer(board, controls, paths, long_poll_max=2.0, poll_interval=0.02)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def http(server: ControlServer) -> Iterator[httpx.Client]:
    """A raw HTTP client that carries the right secret (tests add or spoil headers)."""
    with httpx.Client(
        base_url=server.url,
        headers={"Authorization": f"Bearer {server.secret}"},
        trust_env=False,
        timeout=WAIT,
    ) as client:
        yield client


# -- who may talk to it ----------------------------------------------------------------------


def test_it_listens_on_loopback_only(server: ControlServer) -> None:
    assert server._httpd is not None
    assert server._httpd.socket.getsockname()[0] == "127.0.0.1"


def test_the_control_file_holds_address_and_secret_for_the_user_only(
    server: ControlServer, paths: Paths
) -> None:
    data = json.loads(paths.control_file.read_text(encoding="utf-8"))
    assert data["url"] == server.url
    assert data["port"] == server.port
    assert data["secret"] == server.secret
    assert data["pid"] == os.getpid()
    if os.name != "nt":
        assert stat.S_IMODE(paths.control_file.stat().st_mode) == 0o600


def test_every_start_gets_a_fresh_secret(board, controls, tmp_path: Path) -> None:
    secrets = set()
    for n in range(2):
        other = Paths(tmp_path / "c.toml", tmp_path / str(n), tmp_path / "logs")
        server = ControlServer(board, controls, other, poll_interval=0.02)
        server.start()
        secrets.add(server.secret)
        server.stop()
    assert len(secrets) == 2


def test_a_request_without_the_secret_is_refused(server: ControlServer) -> None:
    answer = httpx.get(f"{server.url}/v1/status", trust_env=False)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "state" not in answer.json()


def test_a_request_with_a_wrong_secret_is_refused(server: ControlServer, controls) -> None:
    answer = httpx.post(
        f"{server.url}/v1/stop",
        headers={"Authorization": "Bearer not-the-secret"},
        trust_env=False,
    )
    assert answer.status_code == 401
    assert controls.calls == []


def test_a_foreign_host_header_is_refused_even_with_the_secret(
    http: httpx.Client, server: ControlServer
) -> None:
    # What a DNS-rebinding web page would send: the attacker's host name, our address.
    answer = http.get("/v1/status", headers={"Host": f"evil.example:{server.port}"})
    assert answer.status_code == 403
    answer = http.get("/v1/status", headers={"Host": "127.0.0.1:1"})
    assert answer.status_code == 403


def test_localhost_by_name_is_accepted(http: httpx.Client, server: ControlServer) -> None:
    assert http.get("/v1/status", headers={"Host": f"localhost:{server.port}"}).status_code == 200


def test_a_cross_origin_request_is_refused(http: httpx.Client, controls) -> None:
    answer = http.post("/v1/sync", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403
    assert controls.calls == []


def test_commands_need_post(http: httpx.Client, controls) -> None:
    answer = http.get("/v1/sync")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert http.post("/v1/status").status_code == 405
    assert http.get("/v1/nothing").status_code == 404
    assert controls.calls == []


def test_a_body_must_be_json(http: httpx.Client, controls) -> None:
    answer = http.post("/v1/sync", content=b"accept=1", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415
    answer = http.post("/v1/sync", content=b"{", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert http.post("/v1/sync", json={"accept_deletions": "yes"}).status_code == 400
    assert controls.calls == []


def test_a_browser_session_cookie_is_accepted_in_place_of_the_secret(
    server: ControlServer, controls
) -> None:
    token = server.guards.issue_session()
    origin = f"http://127.0.0.1:{server.port}"
    with httpx.Client(base_url=server.url, trust_env=False, timeout=WAIT) as browser:
        browser.cookies.set(server.guards.cookie_name, token)
        assert browser.get("/v1/status").status_code == 200
        csrf = {"X-CSRF-Token": server.guards.csrf_token(token)}
        assert browser.post("/v1/sync", headers={"Origin": origin, **csrf}).status_code == 202
        # Our own Origin alone is not enough: the page's CSRF token must come too.
        assert browser.post("/v1/sync", headers={"Origin": origin}).status_code == 403
        wrong = {"X-CSRF-Token": server.guards.csrf_token("another session")}
        assert browser.post("/v1/sync", headers={"Origin": origin, **wrong}).status_code == 403
    assert controls.calls == [("sync_now", False)]


def test_a_one_time_sign_in_becomes_a_session_cookie_once(server: ControlServer) -> None:
    with httpx.Client(base_url=server.url, trust_env=False, timeout=WAIT) as cli:
        cli.headers["Authorization"] = f"Bearer {server.secret}"
        path = cli.post("/v1/signin", json={"next": "/setup"}).json()["path"]
    with httpx.Client(base_url=server.url, trust_env=False, timeout=WAIT) as browser:
        assert browser.get("/v1/status").status_code == 401
        first = browser.get(path)
        assert first.status_code == 303 and first.headers["Location"] == "/setup"
        cookie = first.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert browser.get("/v1/status").status_code == 200
    with httpx.Client(base_url=server.url, trust_env=False, timeout=WAIT) as other:
        assert other.get(path).status_code == 403  # used up
        assert other.get("/signin?token=made-up").status_code == 403
        assert other.get("/signin?token=x&next=/%5Cevil.example").status_code == 403
    # A signed-in browser may not mint sign-ins for others (only the secret's holders may).
    with httpx.Client(base_url=server.url, trust_env=False, timeout=WAIT) as browser:
        session = server.guards.issue_session()
        browser.cookies.set(server.guards.cookie_name, session)
        own = {
            "Origin": f"http://127.0.0.1:{server.port}",
            "X-CSRF-Token": server.guards.csrf_token(session),
        }
        assert browser.get("/v1/status").status_code == 200
        assert browser.post("/v1/signin", json={}, headers=own).status_code == 403


def test_sign_in_goes_on_only_to_a_page_of_this_endpoint(server: ControlServer) -> None:
    with httpx.Client(base_url=server.url, trust_env=False, timeout=WAIT) as cli:
        cli.headers["Authorization"] = f"Bearer {server.secret}"
        for elsewhere in ("//evil.example", "/\\evil.example", "https://evil.example"):
            assert cli.post("/v1/signin", json={"next": elsewhere}).status_code == 400
        path = cli.post("/v1/signin", json={"next": "/media"}).json()["path"]
    with httpx.Client(base_url=server.url, trust_env=False, timeout=WAIT) as browser:
        token = path.split("token=", 1)[1].split("&", 1)[0]
        answer = browser.get(f"/signin?token={token}&next=/%5C%5Cevil.example")
        assert answer.status_code == 303 and answer.headers["Location"] == "/"


def test_each_endpoint_names_its_own_session_cookie(server: ControlServer) -> None:
    # Browsers share cookies across ports: two panels must not sign each other out.
    assert server.guards.cookie_name == f"congsync_session_{server.port}"


def test_a_changing_request_on_a_cookie_alone_needs_our_own_origin(
    server: ControlServer, controls
) -> None:
    """What a cross-site form would send: the cookie the browser adds, no (or a foreign) Origin."""
    token = server.guards.issue_session()
    with httpx.Client(base_url=server.url, trust_env=False, timeout=WAIT) as browser:
        browser.cookies.set(server.guards.cookie_name, token)
        assert browser.post("/v1/stop").status_code == 403
        assert (
            browser.post("/v1/stop", headers={"Origin": "http://evil.example"}).status_code == 403
        )
        browser.cookies.set(server.guards.cookie_name, "made-up")
        assert browser.get("/v1/status").status_code == 401
    assert controls.calls == []


def test_a_garbled_cookie_is_refused_like_no_cookie(server: ControlServer) -> None:
    answer = httpx.get(
        f"{server.url}/v1/status",
        headers={"Cookie": 'congsync_session="unterminated'},
        trust_env=False,
    )
    assert answer.status_code == 401
    assert "error" in answer.json()


def test_a_route_may_answer_a_page_and_set_headers(board, controls, paths: Paths) -> None:
    def page(context: object, request: Request) -> Response:
        return Response(
            HTTPStatus.OK,
            b"<!doctype html><title>congsync</title>",
            content_type="text/html; charset=utf-8",
            headers={"Set-Cookie": "congsync_session=x; HttpOnly; SameSite=Strict"},
        )

    server = ControlServer(board, controls, paths, poll_interval=0.02, routes={"/": {"GET": page}})
    server.start()
    try:
        answer = httpx.get(
            f"{server.url}/", headers={"Authorization": f"Bearer {server.secret}"}, trust_env=False
        )
    finally:
        server.stop()
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    assert answer.text.startswith("<!doctype html>")


def test_refusals_are_sentences(http: httpx.Client) -> None:
    answer = http.get("/v1/nothing").json()
    assert answer["error"] == "There is no such endpoint."
    # and facts, for a command line that speaks another language than the daemon
    assert answer["fact"]["msgid"] == "There is no such endpoint."


# -- what the commands do --------------------------------------------------------------------


def test_status_answers_the_status_document(http: httpx.Client, board: StatusBoard) -> None:
    board.transition(State.OFFLINE, "The server cannot be reached.")
    answer = http.get("/v1/status")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    document = answer.json()
    assert document["state"] == "offline"
    assert document["message"]["text"] == "The server cannot be reached."
    assert {"last_sync_at", "last_result", "version", "cycles_finished"} <= document.keys()


def test_sync_reaches_the_daemon_and_answers_a_ticket(http: httpx.Client, controls) -> None:
    answer = http.post("/v1/sync", json={"accept_deletions": True})
    assert answer.status_code == 202
    assert answer.json()["ticket"] == 7
    assert http.post("/v1/sync").status_code == 202
    assert controls.calls == [("sync_now", True), ("sync_now", False)]


def test_pause_and_resume_reach_the_daemon(http: httpx.Client, controls) -> None:
    assert http.post("/v1/pause", json={"until": "2026-11-24T18:00:00+01:00"}).status_code == 202
    assert http.post("/v1/pause", json={"until": None}).status_code == 202
    assert http.post("/v1/pause", json={"until": "tomorrow"}).status_code == 400
    assert http.post("/v1/resume").status_code == 202
    until = datetime.fromisoformat("2026-11-24T18:00:00+01:00")
    assert controls.calls == [("pause", until), ("pause", None), ("resume", None)]


def test_stop_answers_then_tells_the_daemon(http: httpx.Client, controls) -> None:
    assert http.post("/v1/stop").status_code == 202
    assert controls.quit_called.wait(WAIT)


def test_events_answer_as_soon_as_the_status_changes(
    http: httpx.Client, board: StatusBoard
) -> None:
    since = http.get("/v1/status").json()["version"]
    threading.Timer(0.1, lambda: board.transition(State.SYNCING)).start()
    document = http.get("/v1/events", params={"since": since}).json()
    assert document["state"] == "syncing"
    assert document["version"] > since


def test_events_answer_the_unchanged_status_after_the_timeout(
    http: httpx.Client, board: StatusBoard
) -> None:
    since = board.version
    document = http.get("/v1/events", params={"since": since, "timeout": 0.1}).json()
    assert document["version"] == since


def test_stopping_removes_the_control_file(board, controls, paths: Paths) -> None:
    server = ControlServer(board, controls, paths, poll_interval=0.02)
    server.start()
    assert paths.control_file.exists()
    server.stop()
    assert not paths.control_file.exists()


# -- the client ------------------------------------------------------------------------------


def test_the_client_finds_the_running_daemon_and_sends_commands(
    server: ControlServer, paths: Paths, controls, board: StatusBoard
) -> None:
    client = ControlClient.from_paths(paths)
    assert client is not None
    with client:
        assert client.status()["state"] == "idle"
        assert client.sync_now(accept_deletions=True) == 7
        until = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
        client.pause(until)
        client.resume()
        version = board.version
        threading.Timer(0.1, lambda: board.transition(State.SYNCING)).start()
        assert client.wait_for_change(version, timeout=WAIT)["state"] == "syncing"
    assert controls.calls == [("sync_now", True), ("pause", until), ("resume", None)]


def test_no_client_without_a_control_file(paths: Paths) -> None:
    assert ControlClient.from_paths(paths) is None


def test_no_client_when_the_daemon_that_wrote_the_file_is_gone(paths: Paths) -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(WAIT)
    paths.control_file.write_text(
        json.dumps({"url": "http://127.0.0.1:9", "secret": "stale-secret-123", "pid": process.pid}),
        encoding="utf-8",
    )
    assert ControlClient.from_paths(paths) is None


def test_no_client_when_nothing_listens_any_more(paths: Paths) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    paths.control_file.write_text(
        json.dumps(
            {"url": f"http://127.0.0.1:{port}", "secret": "stale-secret-123", "pid": os.getpid()}
        ),
        encoding="utf-8",
    )
    assert ControlClient.from_paths(paths) is None


def test_the_client_reports_a_refusal(server: ControlServer) -> None:
    with ControlClient(server.url, "wrong-secret") as client, pytest.raises(ControlError):
        client.status()


def test_follow_reports_until_the_ticket_is_done(
    server: ControlServer, paths: Paths, board: StatusBoard
) -> None:
    client = ControlClient.from_paths(paths)
    assert client is not None

    def play() -> None:
        board.cycle_started()
        board.update(state=State.SYNCING)
        board.cycle_finished(State.IDLE, last_result={"downloaded": 2})

    seen: list[str] = []
    threading.Timer(0.1, play).start()
    with client:
        final = client.follow(1, lambda d: seen.append(d["state"]), timeout=WAIT)
    assert final["cycles_finished"] == 1
    assert final["last_result"] == {"downloaded": 2}
    assert seen[-1] == "idle"


def test_a_body_without_a_readable_length_is_refused(server: ControlServer) -> None:
    import http.client

    for headers in (
        {"Content-Length": "abc"},
        {"Content-Length": "-5"},
        {"Transfer-Encoding": "chunked"},
    ):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=WAIT)
        try:
            connection.putrequest("POST", "/v1/sync", skip_accept_encoding=True)
            connection.putheader("Authorization", f"Bearer {server.secret}")
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            status = connection.getresponse().status
        finally:
            connection.close()
        assert status in (400, 411), headers
