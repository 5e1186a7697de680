"""SIGKILL at the worst moment, with real processes and a real TLS server: a member mid-download,
an organizer mid-upload, the server mid-both. Nothing partial appears in any date folder, no
version on the server is lost, and the next cycle completes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from davserver import DavFixture
from organizer_support import Organizer
from support import TUESDAY, Member, write_prefs

from daemon.server.webdav import TLSMaterial

pytestmark = pytest.mark.timeout(90)

TESTS = Path(__file__).resolve().parent.parent
WAIT = 20.0


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def growing_part(folder: Path) -> Callable[[], bool]:
    """True once a partial file under `folder` holds some bytes (the transfer is under way)."""

    def check() -> bool:
        return any(p.stat().st_size > 0 for p in folder.rglob("*.part") if p.is_file())

    return check


def a_file_growing(folder: Path, total: int) -> Callable[[], bool]:
    """True once a file under `folder` (new or rewritten) holds part of `total` bytes: an
    upload is under way, wherever the server writes it."""
    before = {p: p.stat().st_size for p in folder.rglob("*") if p.is_file()}

    def check() -> bool:
        for p in folder.rglob("*"):
            try:
                size = p.stat().st_size if p.is_file() else 0
            except FileNotFoundError:
                continue  # moved away meanwhile
            if 0 < size < total and size != before.get(p):
                return True
        return False

    return check


def date_folder_files(base: Path) -> dict[str, bytes]:
    """Every file in any date folder below `base` (a media folder or the server's Media/)."""
    return {
        p.relative_to(base).as_posix(): p.read_bytes()
        for p in base.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(base).parts)
    }


def kill(process: subprocess.Popen[Any]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert process.returncode == -signal.SIGKILL


# -- a member killed mid-download ---------------------------------------------------------------


def test_a_member_killed_mid_download_keeps_the_old_version_and_the_next_cycle_completes(
    dav: DavFixture, tmp_path: Path
):
    tomorrow = (date.today() + timedelta(days=1)).isoformat()  # `congsync sync` runs on today
    write_prefs(dav)
    member = Member(dav, tmp_path / "member")
    dav.put_file(f"Media/{tomorrow}/small.jpg", b"small")
    dav.put_file(f"Media/{tomorrow}/video.mp4", b"first version")
    member.sync(today=date.today())
    new = os.urandom(4 * 1024 * 1024)
    dav.put_file(f"Media/{tomorrow}/video.mp4", new)
    dav.faults.slow_get(256 * 1024, path_prefix="/congregation/Media/")
    env = {k: v for k, v in os.environ.items() if k != "CONGSYNC_PASSWORD"}
    env.update(
        CONGSYNC_CONFIG=str(member.profile.paths.config_file),
        CONGSYNC_STATE_DIR=str(member.profile.paths.state_dir),
        CONGSYNC_PASSWORD=dav.password,
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "daemon", "sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(growing_part(member.media), "the download started")
    finally:
        kill(child)

    assert member.files(tomorrow) == {"small.jpg": b"small", "video.mp4": b"first version"}
    assert dav.read_file(f"Media/{tomorrow}/video.mp4") == new  # the server lost nothing

    dav.faults.slow_get(None)
    result = member.sync(today=date.today())

    assert result.errors == []
    assert member.files(tomorrow) == {"small.jpg": b"small", "video.mp4": new}


# -- an organizer killed mid-upload: tests/sync/test_organizer_cycle.py ----------------------
# test_an_upload_killed_midway_keeps_the_previous_version_and_the_retry_completes kills
# tests/organizer_child.py with SIGKILL mid-PUT and checks the same guarantees.


# -- the server killed mid-download and mid-upload ------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """The test server as a child process on a fixed port, over one disk root."""

    def __init__(self, dav: DavFixture, tls: TLSMaterial) -> None:
        self.dav = dav
        self.tls = tls
        self.port = _free_port()
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def start(self, get_rate: int = 0, put_rate: int = 0) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("server_child.py")),
                str(self.dav.root),
                str(self.tls.cert_pem_path.parent),
                str(self.port),
                self.dav.username,
                self.dav.password,
                str(get_rate),
                str(put_rate),
            ],
            env=dict(os.environ, PYTHONPATH=str(TESTS)),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "ready"

    def kill(self) -> None:
        assert self.process is not None
        kill(self.process)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.kill()


@pytest.fixture
def server_process(dav: DavFixture, tls_material: TLSMaterial) -> Iterator[ServerProcess]:
    server = ServerProcess(dav, tls_material)
    try:
        yield server
    finally:
        server.stop()


def in_thread(action: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run `action` in a thread; the list receives its result or the exception it raised."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(action())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_the_server_killed_mid_download_and_mid_upload_loses_no_version_and_recovers(
    dav: DavFixture, server_process: ServerProcess, tmp_path: Path
):
    write_prefs(dav)
    server_process.start()
    member = Member(dav, tmp_path / "member", url=server_process.url)
    org = Organizer(dav, tmp_path / "org", url=server_process.url)
    org.drop(f"{TUESDAY}/talk.mp4", b"previous version")
    assert org.sync().errors == []
    dav.put_file(f"Media/{TUESDAY}/video.mp4", b"old video")
    member.sync()
    new_talk = os.urandom(3 * 1024 * 1024)
    new_video = os.urandom(3 * 1024 * 1024)
    org.drop(f"{TUESDAY}/talk.mp4", new_talk)
    dav.put_file(f"Media/{TUESDAY}/video.mp4", new_video)
    server_process.kill()
    server_process.start(get_rate=256 * 1024, put_rate=256 * 1024)

    upload_under_way = a_file_growing(dav.folder_path, len(new_talk))
    download, downloaded = in_thread(lambda: member.sync())
    upload, uploaded = in_thread(lambda: org.sync())
    wait_for(growing_part(member.media), "the download started")
    wait_for(upload_under_way, "the upload started")
    server_process.kill()
    download.join(WAIT)
    upload.join(WAIT)
    assert not download.is_alive() and not upload.is_alive()  # nothing hangs

    # Each cycle ended in an error (raised, or one per file), and nothing is half-done:
    assert downloaded and (isinstance(downloaded[0], Exception) or downloaded[0].errors)
    assert uploaded and (isinstance(uploaded[0], Exception) or uploaded[0].errors)
    media = dav.folder_path / "Media"
    assert date_folder_files(media) == {
        f"{TUESDAY}/talk.mp4": b"previous version",
        f"{TUESDAY}/video.mp4": new_video,
    }
    assert date_folder_files(member.media) == {
        f"{TUESDAY}/talk.mp4": b"previous version",
        f"{TUESDAY}/video.mp4": b"old video",
    }

    server_process.start()  # same port, same disk
    assert org.sync().errors == []
    result = member.sync()

    assert result.errors == []
    assert date_folder_files(media) == {
        f"{TUESDAY}/talk.mp4": new_talk,
        f"{TUESDAY}/video.mp4": new_video,
    }
    assert date_folder_files(member.media) == date_folder_files(media)
