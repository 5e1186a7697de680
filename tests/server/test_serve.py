"""`congsync serve` over real TLS: accounts, read-only members, pinning, cheap polls, the brake."""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support import PREFS, SUNDAY, TODAY, TUESDAY

from daemon.cli import main
from daemon.config import Config, Profile
from daemon.errors import AccountsError, CertificatePinMismatch, ConfigError
from daemon.paths import Paths
from daemon.server import accounts
from daemon.server.accounts import add_account, load_accounts
from daemon.server.certificate import fingerprint_of_pem
from daemon.server.gate import LoginBrake
from daemon.server.serve import ServeOptions, ServeServer, default_users_file
from daemon.service.root import ProfileRoot
from daemon.sync.connection import check_connection

FOLDER = "congregation"
ORGANIZER_PASSWORD = "organizer-pass-1"
MEMBER_PASSWORD = "member-pass-2"
WRITE_METHODS = ["PUT", "DELETE", "MOVE", "COPY", "MKCOL", "PROPPATCH", "LOCK", "UNLOCK", "POST"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Served:
    server: ServeServer
    root: Path
    clock: FakeClock

    @property
    def url(self) -> str:
        return self.server.dav.url

    @property
    def brake(self) -> LoginBrake:
        assert self.server.gate is not None
        return self.server.gate.brake

    def client(self, user: str, password: str) -> httpx.Client:
        # Trusts the served certificate alone, verification on.
        cert = self.root.parent / f"{self.root.name}.congsync-server" / "tls" / "cert.pem"
        context = ssl.create_default_context(cafile=str(cert))
        return httpx.Client(base_url=self.url, auth=(user, password), verify=context)

    def log_lines(self) -> list[str]:
        return self.server.access_log_path.read_text(encoding="utf-8").splitlines()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    root = tmp_path / "share"
    (root / FOLDER).mkdir(parents=True)
    users = default_users_file(root)
    add_account(users, "org", "organizer", ORGANIZER_PASSWORD)
    add_account(users, "mem", "member", MEMBER_PASSWORD)
    clock = FakeClock()
    server = ServeServer(ServeOptions(root=root, port=0), brake=LoginBrake(clock=clock))
    with server:
        yield Served(server, root, clock)


def populate(root: Path) -> None:
    folder = root / FOLDER
    (folder / "forcedPrefs.json").write_text(json.dumps(PREFS), encoding="utf-8")
    for day in (TUESDAY, SUNDAY):
        (folder / "Media" / day).mkdir(parents=True)
        (folder / "Media" / day / "a.jpg").write_bytes(b"a" * 100)
    # An established share: nothing changed in the last hour (see tests/sync/test_polling.py).
    an_hour_ago = time.time() - 3600
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (an_hour_ago, an_hour_ago))


def member_profile(served: Served, home: Path, pin: str) -> Profile:
    profile = Profile(
        paths=Paths(
            config_file=home / "config.toml", state_dir=home / "state", log_dir=home / "logs"
        )
    )
    profile.save(
        Config(
            url=served.url,
            username="mem",
            folder=FOLDER,
            media_dir=home / "media",
            pin_sha256=pin,
        )
    )
    return profile


def sync(profile: Profile, *, full_listing: bool = True) -> None:
    with ProfileRoot(profile, password=MEMBER_PASSWORD) as root:
        result = root.run_cycle(threading.Event(), full_listing=full_listing, today=TODAY)
    assert result.ok, result


# -- writing and reading ---------------------------------------------------------------------------


def test_an_organizer_writes_and_a_member_reads(served: Served):
    with served.client("org", ORGANIZER_PASSWORD) as org:
        assert org.request("MKCOL", f"/{FOLDER}/Media/").status_code == 201
        assert org.put(f"/{FOLDER}/Media/talk.mp4", content=b"video").status_code == 201
    assert (served.root / FOLDER / "Media" / "talk.mp4").read_bytes() == b"video"
    with served.client("mem", MEMBER_PASSWORD) as mem:
        answer = mem.get(f"/{FOLDER}/Media/talk.mp4")
    assert answer.status_code == 200
    assert answer.content == b"video"
    # A strong file ETag (no W/ prefix).
    assert not answer.headers["ETag"].startswith("W/")


@pytest.mark.parametrize("method", WRITE_METHODS)
def test_a_member_is_refused_every_write_method(served: Served, method: str):
    folder = served.root / FOLDER
    (folder / "keep.jpg").write_bytes(b"keep")
    before = sorted(p.name for p in folder.iterdir())
    headers = {"Destination": f"{served.url}{FOLDER}/copy.jpg", "Depth": "0"}
    body = b""
    if method == "PROPPATCH":
        body = (
            b'<?xml version="1.0"?><d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:x">'
            b"<d:set><d:prop><x:a>1</x:a></d:prop></d:set></d:propertyupdate>"
        )
    if method == "LOCK":
        body = (
            b'<?xml version="1.0"?><d:lockinfo xmlns:d="DAV:"><d:lockscope><d:exclusive/>'
            b"</d:lockscope><d:locktype><d:write/></d:locktype></d:lockinfo>"
        )
    if method == "UNLOCK":
        headers["Lock-Token"] = "<opaquelocktoken:x>"
    target = f"/{FOLDER}/new/" if method == "MKCOL" else f"/{FOLDER}/keep.jpg"
    with served.client("mem", MEMBER_PASSWORD) as mem:
        answer = mem.request(method, target, content=body, headers=headers)
    assert answer.status_code == 403
    assert sorted(p.name for p in folder.iterdir()) == before
    assert (folder / "keep.jpg").read_bytes() == b"keep"
    assert f"mem {method} /{FOLDER}/" in served.log_lines()[-1]
    assert served.log_lines()[-1].split()[-2] == "403"


def test_requests_without_an_account_are_refused(served: Served):
    with httpx.Client(verify=False) as anonymous:  # only asks for a 401
        answer = anonymous.request("PROPFIND", f"{served.url}{FOLDER}/", headers={"Depth": "0"})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_a_removed_account_no_longer_signs_in(served: Served):
    main(["serve", "user", "rm", "mem", "--root", str(served.root)])
    with served.client("mem", MEMBER_PASSWORD) as mem:
        assert mem.get(f"/{FOLDER}/").status_code == 401


def look(client: httpx.Client) -> int:
    return client.request("PROPFIND", f"/{FOLDER}/", headers={"Depth": "0"}).status_code


def test_a_changed_password_stops_the_old_one_even_if_a_check_was_under_way(
    served: Served, monkeypatch: pytest.MonkeyPatch
):
    # A member's congsync polls with the old password while the organizer changes it. The
    # argon2 check of that poll takes tens of milliseconds; the wrapper below makes the change,
    # and another account's request, fall inside it every time instead of by chance.
    users = default_users_file(served.root)
    real_verify = accounts._verify
    changed = threading.Event()

    def slow_verify(password_hash: str, password: str) -> bool:
        ok = real_verify(password_hash, password)
        if password == MEMBER_PASSWORD and not changed.is_set():
            changed.set()
            add_account(users, "mem", "member", "a-new-password")
            with served.client("org", ORGANIZER_PASSWORD) as org:  # the server re-reads the file
                assert look(org) == 207
        return ok

    monkeypatch.setattr(accounts, "_verify", slow_verify)
    with served.client("mem", MEMBER_PASSWORD) as old:
        assert look(old) == 207  # checked before the change
        assert changed.is_set()
        assert look(old) == 401
    with served.client("mem", "a-new-password") as new:
        assert look(new) == 207


# -- accounts ----------------------------------------------------------------------------------------


def test_the_accounts_file_holds_hashes_never_the_password(tmp_path: Path, monkeypatch):
    root = tmp_path / "share"
    root.mkdir()
    monkeypatch.setattr(sys, "stdin", _Stdin("a-long-secret-password\n"))
    code = main(
        ["serve", "user", "add", "anna", "--member", "--password-stdin", "--root", str(root)]
    )
    users = default_users_file(root)
    text = users.read_text(encoding="utf-8")
    assert code == 0
    assert "a-long-secret-password" not in text
    assert "$argon2id$" in text
    assert users.stat().st_mode & 0o077 == 0
    assert not users.is_relative_to(root)  # beside the served folder, never served itself
    assert load_accounts(users)["anna"].role == "member"


def test_bad_account_input_is_refused_and_changes_nothing(tmp_path: Path):
    users = tmp_path / "users.toml"
    add_account(users, "anna", "member", "pw-one")
    before = users.read_bytes()
    with pytest.raises(AccountsError):
        add_account(users, "bad name\n", "member", "pw")
    with pytest.raises(AccountsError):
        add_account(users, "bert", "member", "")
    with pytest.raises(AccountsError):
        main_raising(["serve", "user", "rm", "nobody", "--users", str(users)])
    assert users.read_bytes() == before


def test_serve_refuses_to_start_without_accounts(tmp_path: Path):
    root = tmp_path / "share"
    root.mkdir()
    with pytest.raises(AccountsError, match="No accounts"):
        ServeServer(ServeOptions(root=root, port=0))


@pytest.mark.parametrize("inside", ["users", "key"])
def test_serve_refuses_secrets_inside_the_served_folder(tmp_path: Path, inside: str):
    # Every account may read the whole served folder: the hashes or the key would be served.
    root = tmp_path / "share"
    (root / FOLDER).mkdir(parents=True)
    users = default_users_file(root)
    add_account(users, "mem", "member", MEMBER_PASSWORD)
    tls = ServeServer(ServeOptions(root=root, port=0))
    cert, key = tls.dav.tls.cert_pem_path, tls.dav.tls.key_pem_path
    tls.close_log()
    if inside == "users":
        options = ServeOptions(root=root, port=0, users=root / FOLDER / "users.toml")
        options.users.write_bytes(users.read_bytes())  # type: ignore[union-attr]
    else:
        (root / "key.pem").write_bytes(key.read_bytes())
        options = ServeOptions(root=root, port=0, cert=cert, key=root / "key.pem")

    with pytest.raises(ConfigError, match="inside the served folder"):
        ServeServer(options)


# -- the brake on guessing -------------------------------------------------------------------------


def test_failed_sign_ins_from_one_address_slow_down_and_a_success_forgets_them(served: Served):
    brake = served.brake
    delays = []
    with served.client("mem", "wrong") as guesser:
        for _attempt in range(6):
            # The clock moves past each earned wait, so every guess is checked.
            served.clock.now += brake.delay("127.0.0.1") + 0.1
            assert guesser.get(f"/{FOLDER}/").status_code == 401
            delays.append(brake.delay("127.0.0.1"))
    assert delays == [0.0, 0.0, 0.0, 1.0, 2.0, 4.0]
    # While the wait runs, even the right password is not checked: 429 with Retry-After.
    with served.client("mem", MEMBER_PASSWORD) as member:
        refused = member.get(f"/{FOLDER}/")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 4
        served.clock.now += 4.1
        assert member.request("PROPFIND", f"/{FOLDER}/", headers={"Depth": "0"}).status_code == 207
    assert brake.failures("127.0.0.1") == 0


def test_parallel_guesses_from_one_address_get_one_check_per_wait(
    served: Served, monkeypatch: pytest.MonkeyPatch
):
    brake = served.brake
    with served.client("mem", "wrong") as guesser:
        for _attempt in range(4):
            served.clock.now += brake.delay("127.0.0.1") + 0.1
            assert guesser.get(f"/{FOLDER}/").status_code == 401
    served.clock.now += brake.delay("127.0.0.1") + 0.1  # the wait is over: one more guess
    real_verify = accounts._verify

    def slow_verify(password_hash: str, password: str) -> bool:
        time.sleep(0.3)  # an argon2 check on a slow machine; the guesses below overlap it
        return real_verify(password_hash, password)

    monkeypatch.setattr(accounts, "_verify", slow_verify)
    start = threading.Barrier(6)
    statuses: list[int] = []

    def guess(n: int) -> None:
        with served.client("mem", f"guess-{n}") as client:
            start.wait()
            statuses.append(client.get(f"/{FOLDER}/").status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [401, 429, 429, 429, 429, 429]
    assert brake.failures("127.0.0.1") == 5


def test_the_wait_has_a_ceiling_and_old_failures_are_forgotten():
    clock = FakeClock()
    brake = LoginBrake(clock=clock, ceiling=60.0, forget_after=900.0)
    for _ in range(20):
        brake.failed("192.0.2.1")
    assert brake.delay("192.0.2.1") == 60.0
    assert brake.delay("192.0.2.2") == 0.0  # another address is not slowed down
    clock.now += 900.0 + 60.0 + 1
    assert brake.failures("192.0.2.1") == 0


def test_the_access_log_holds_no_secrets(served: Served):
    with served.client("org", ORGANIZER_PASSWORD) as org:
        org.put(f"/{FOLDER}/a.txt", content=b"x")
    with served.client("mem", "a-wrong-guess") as guesser:
        guesser.get(f"/{FOLDER}/a.txt")
    text = served.server.access_log_path.read_text(encoding="utf-8")
    for secret in (ORGANIZER_PASSWORD, "a-wrong-guess"):
        assert secret not in text
        assert base64.b64encode(f"org:{secret}".encode()).decode() not in text
    assert "Authorization" not in text
    assert f"org PUT /{FOLDER}/a.txt depth=- 201" in text
    assert f"mem GET /{FOLDER}/a.txt depth=- 401" in text


def raw_request(served: Served, request: bytes) -> bytes:
    """A request as sent, byte for byte (httpx refuses control characters in headers)."""
    cert = served.root.parent / f"{served.root.name}.congsync-server" / "tls" / "cert.pem"
    context = ssl.create_default_context(cafile=str(cert))
    with (
        socket.create_connection(("127.0.0.1", served.server.dav.port)) as plain,
        context.wrap_socket(plain, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(request)
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    return answer


def test_a_header_cannot_forge_fields_or_escapes_in_the_access_log(served: Served):
    # No account needed: the line of a refused request is written too.
    answer = raw_request(
        served,
        b"PROPFIND /congregation/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Depth: 0 207 0\x1b[2J\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 401")

    (line,) = served.log_lines()
    assert "\x1b" not in line
    fields = line.split(" ")[2:]  # after the date and time
    assert fields[:4] == ["127.0.0.1", "-", "PROPFIND", "/congregation/"]
    assert fields[5:] == ["401", str(len(b"Sign-in required\n"))]  # the depth is one field


# -- a member's congsync, pinning the certificate -------------------------------------------------


def test_a_member_syncs_trusting_the_fingerprint_and_an_idle_poll_is_one_request(
    served: Served, tmp_path: Path
):
    populate(served.root)
    profile = member_profile(served, tmp_path / "m", served.server.fingerprint)
    sync(profile)
    assert (profile.config.media_dir / TUESDAY / "a.jpg").read_bytes() == b"a" * 100
    # Two changes below the folder, each moving its ETag, prove that folder ETags propagate.
    for n in range(2):
        (served.root / FOLDER / "Media" / SUNDAY / f"new{n}.jpg").write_bytes(b"n")
        sync(profile, full_listing=False)
    seen = len(served.log_lines())

    sync(profile, full_listing=False)

    idle = served.log_lines()[seen:]
    assert len(idle) == 1, idle
    assert f"mem PROPFIND /{FOLDER}" in idle[0]
    assert "depth=0 207" in idle[0]
    assert (profile.config.media_dir / SUNDAY / "new1.jpg").read_bytes() == b"n"


def test_a_wrong_fingerprint_is_refused_with_a_sentence_that_says_what_it_means(
    served: Served, tmp_path: Path
):
    wrong = "ab" * 32
    config = member_profile(served, tmp_path / "m", wrong).config
    seen = len(served.log_lines())
    with pytest.raises(CertificatePinMismatch) as refused:
        check_connection(config, MEMBER_PASSWORD)
    message = refused.value.message
    assert served.server.fingerprint in message
    assert wrong in message
    assert "intercepting" in message
    assert "replaced" in message
    assert len(served.log_lines()) == seen  # not one request, so no password, was sent


def test_setup_stores_the_pin_and_refuses_one_that_is_no_fingerprint(served: Served, tmp_path):
    populate(served.root)
    spaced_pin = ":".join(served.server.fingerprint[i : i + 2].upper() for i in range(0, 64, 2))
    home = tmp_path / "m"
    password_file = tmp_path / "pw"
    password_file.write_text(MEMBER_PASSWORD)
    password_file.chmod(0o600)
    common = ["setup", "--url", served.url, "--username", "mem", "--folder", FOLDER]
    common += ["--media-dir", str(home / "media"), "--password-file", str(password_file)]

    assert main([*common, "--pin-sha256", "not-a-fingerprint"]) != 0
    assert main([*common, "--pin-sha256", spaced_pin]) == 0

    saved = Profile.from_environment(os.environ).config
    assert saved.pin_sha256 == served.server.fingerprint
    assert saved.ca_bundle is None
    with pytest.raises(ConfigError):
        saved.with_changes(pin_sha256="12")


def test_the_serve_command_prints_the_fingerprint_of_the_certificate_it_keeps(tmp_path: Path):
    root = tmp_path / "share"
    root.mkdir()
    add_account(default_users_file(root), "org", "organizer", ORGANIZER_PASSWORD)
    printed = []
    for _run in range(2):  # made once, then kept
        process = subprocess.Popen(
            [sys.executable, "-m", "daemon", "serve", "--root", str(root), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = ""
            while "--pin-sha256" not in line:
                line = process.stdout.readline()
                assert line, "serve ended before printing the fingerprint"
            printed.append(line.rsplit(" ", 1)[1].strip())
        finally:
            process.terminate()
            assert process.wait(timeout=10) == 0
    cert = root.parent / "share.congsync-server" / "tls" / "cert.pem"
    assert printed == [fingerprint_of_pem(cert.read_bytes())] * 2


class _Stdin:
    def __init__(self, text: str) -> None:
        self._text = text

    def readline(self) -> str:
        text, self._text = self._text, ""
        return text


def main_raising(argv: list[str]) -> None:
    """Run a `serve user` command so that its error surfaces as the exception."""
    from daemon.cli import build_parser
    from daemon.commands import serve

    serve.run(build_parser().parse_args(argv))
