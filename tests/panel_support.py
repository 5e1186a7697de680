"""The control panel in a real browser: Debian's chromium driven by Playwright (no download),
against a real `congsync run` process and the real TLS WebDAV server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from davserver import DavFixture
from file_keyring import file_keyring_env
from installation import Installation
from support import make_profile

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def browser_available() -> bool:
    if not Path(CHROMIUM).exists():
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


needs_browser = pytest.mark.skipif(
    not browser_available(), reason="needs Debian's chromium and Playwright (see .ci/run)"
)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not browser_available():
        pytest.skip("needs Debian's chromium and Playwright (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def installation(dav: DavFixture, tmp_path: Path) -> Iterator[Installation]:
    """A member's `congsync run --no-tray`, idle after its first cycle (modules that need
    another installation define their own fixture of this name)."""
    with idle_after_first_cycle(Installation(dav, tmp_path / "home")) as installed:
        yield installed


@contextmanager
def idle_after_first_cycle(installed: Installation) -> Iterator[Installation]:
    """`installed` running (`congsync run --no-tray`), idle after its first cycle; closed after."""
    installed.start("--interval", "3600")
    installed.wait_state("idle")
    try:
        yield installed
    finally:
        installed.close()


def keyring_installation(dav: DavFixture, home: Path, **overrides: Any) -> Installation:
    """A `congsync run --no-tray` in `home` (configured with `overrides`, if any) whose daemon
    stores a typed password in a file keyring the test can read, idle after its first cycle."""
    installed = Installation(dav, home)
    if overrides:
        make_profile(dav, home, **overrides)
    # The daemon stores a typed password in a keyring the test can read (as the OS keyring).
    installed.env.update(file_keyring_env(home / "keyring.json"))
    installed.start("--interval", "3600")
    installed.wait_state("idle")
    return installed


@pytest.fixture
def organizer(dav: DavFixture, tmp_path: Path) -> Iterator[Installation]:
    """An organizer's installation with its own media and organizer folders."""
    home = tmp_path / "organizer"
    installed = keyring_installation(
        dav, home, role="organizer", organizer_dir=home / "organizer", media_dir=home / "media"
    )
    try:
        yield installed
    finally:
        installed.close()


def sign_in_url(installation: Installation, page: str = "status") -> str:
    done = installation.cli("open", page, "--print-url")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def panel(browser: Any, installation: Installation) -> Iterator[Any]:
    """A browser tab signed in to the running daemon's panel, on its status page."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    try:
        tab.goto(sign_in_url(installation))
        yield tab
    finally:
        context.close()
