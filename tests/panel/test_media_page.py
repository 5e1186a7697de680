"""The Manage media page of an organizer's computer, in a real browser against a real daemon
and server: a large upload reaches a member without the daemon holding it in memory; hiding
and un-hiding reach the member too."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from davserver import DavFixture
from installation import Installation
from panel_support import needs_browser
from support import Member, make_profile

BIG = 200 * 1024 * 1024
MiB = 1024 * 1024


@pytest.fixture
def installation(dav: DavFixture, tmp_path: Path) -> Iterator[Installation]:
    """An organizer's `congsync run --no-tray`, idle after its first cycle."""
    home = tmp_path / "home"
    installed = Installation(dav, home)
    make_profile(dav, home, role="organizer", organizer_dir=home / "organizer")
    installed.start("--interval", "3600")
    installed.wait_state("idle")
    try:
        yield installed
    finally:
        installed.close()


def peak_memory(installation: Installation) -> int:
    """The daemon process's peak resident memory so far (VmHWM), in bytes."""
    pid = installation.processes[0].pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc")


def big_file(folder: Path) -> tuple[Path, str]:
    """A 200 MB file on disk (written in chunks) and its SHA-256."""
    path = folder / "Talk video.mp4"
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        for n in range(BIG // MiB):
            chunk = n.to_bytes(4, "big") * (MiB // 4)
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def open_media_page(panel: Any) -> None:
    panel.get_by_role("link", name="Manage media").click()
    panel.get_by_role("heading", name="Manage media").wait_for()


def notice_says(panel: Any, words: str, timeout: float = 30_000) -> None:
    notice = panel.locator("#notice")
    panel.wait_for_function(
        "([el, words]) => !el.hidden && el.textContent.includes(words)",
        arg=[notice.element_handle(), words],
        timeout=timeout,
    )


def first_meeting_after_today(panel: Any) -> str:
    """The date of the first meeting card after today (Tuesdays and Sundays in the test
    congregation's settings: at least two in the window)."""
    days = panel.locator('[data-testid="meeting"]').evaluate_all(
        "cards => cards.map(card => card.dataset.date)"
    )
    later = sorted(d for d in days if d != "recurring" and d > date.today().isoformat())
    assert later, days
    return str(later[0])


def file_row(panel: Any, day: str, name: str) -> Any:
    rows = panel.locator(f'[data-testid="meeting"][data-date="{day}"] [data-testid="media-file"]')
    return rows.filter(has_text=name)


@needs_browser
def test_an_upload_of_200_mb_reaches_a_member_and_hiding_follows(
    panel: Any, installation: Installation, dav: DavFixture, tmp_path: Path
):
    source, digest = big_file(tmp_path)
    member = Member(dav, tmp_path / "member")
    open_media_page(panel)
    day = first_meeting_after_today(panel)
    card = panel.locator(f'[data-testid="meeting"][data-date="{day}"]')
    assert "No media for this meeting yet." in card.inner_text()

    before = peak_memory(installation)
    card.locator('input[type="file"]').set_input_files(str(source))
    notice_says(panel, "Published Talk video.mp4", timeout=180_000)
    growth = peak_memory(installation) - before
    assert growth < 60 * MiB, f"the daemon's peak memory grew by {growth // MiB} MiB"
    assert not list((installation.member.profile.paths.state_dir / "uploads").iterdir())

    member.sync(date.today())
    arrived = member.media / day / "Talk video.mp4"
    assert arrived.stat().st_size == BIG
    assert sha256(arrived) == digest

    # The page reloads and lists it; hide it, and the member moves it aside.
    file_row(panel, day, "Talk video.mp4").get_by_role("button", name="Hide Talk video.mp4").click()
    notice_says(panel, "is hidden at the meeting on")
    member.sync(date.today())
    assert not arrived.exists()

    file_row(panel, day, "Talk video.mp4").get_by_role(
        "button", name="Show Talk video.mp4 again"
    ).click()
    notice_says(panel, "is shown again")
    member.sync(date.today())
    assert arrived.stat().st_size == BIG


def test_an_upload_name_that_is_a_path_or_a_device_is_refused_before_anything_is_read(
    dav: DavFixture, installation: Installation
):
    import json as json_module

    import httpx
    from panel_support import sign_in_url

    control = json_module.loads(installation.member.profile.paths.control_file.read_text())
    url = control["url"]
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as browser:
        assert browser.get(sign_in_url(installation, "media").removeprefix(url)).status_code == 303
        page = browser.get("/media").text
        csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        own = {"Origin": url, "X-CSRF-Token": csrf, "Content-Type": "application/octet-stream"}
        day = date.today().isoformat()
        # A Windows drive ("D:x" would land on drive D), a device name, a path, a dot name.
        for name in ("D:evil.jpg", "CON", "../x.jpg", "a/b.jpg", ".."):
            answer = browser.put(
                "/media/upload", params={"date": day, "name": name}, headers=own, content=b"x"
            )
            assert answer.status_code == 400, name
    uploads = installation.member.profile.paths.state_dir / "uploads"
    assert not uploads.exists() or not any(uploads.rglob("*"))
    assert not (dav.folder_path / "Media" / day).exists() or not any(
        (dav.folder_path / "Media" / day).iterdir()
    )
