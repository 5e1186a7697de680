"""The first start: `congsync run` on a desktop with nothing configured opens the setup page.

Headless, as far as it can be: there is no desktop here, so CONGSYNC_DESKTOP=1 says there is
one (what DISPLAY, WAYLAND_DISPLAY or Windows would say), and the browser is a script named by
the BROWSER variable, which Python's `webbrowser` starts just like a real browser. The script
only records the address; the test then opens it with httpx, as a browser would. Without a
display the tray falls back to running headless, so the process under test is the real
`congsync run` (not `--no-tray`), against the real TLS WebDAV server. The setup page's save
is played by writing the configuration file the way `Profile.save` does (atomically): the
Setup page itself is tested on its own (test_setup_page.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from davserver import DavFixture
from installation import Installation, wait_until
from test_open import browse, opened, path_of, recording_browser


@pytest.fixture
def fresh(dav: DavFixture, tmp_path: Path) -> Iterator[tuple[Installation, bytes, Path]]:
    """A computer with congsync installed and nothing configured (the configuration it will
    get is kept aside), on a "desktop" whose browser records what it is asked to open."""
    installed = Installation(dav, tmp_path / "home")
    config_file = installed.member.profile.paths.config_file
    config = config_file.read_bytes()
    config_file.unlink()
    script, record = recording_browser(tmp_path)
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        installed.env.pop(name, None)
    installed.env.update(CONGSYNC_DESKTOP="1", BROWSER=str(script))
    try:
        yield installed, config, record
    finally:
        installed.close()


def save_config(path: Path, config: bytes) -> None:
    """What the Setup page's save does to the file: written whole, then moved into place."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(config)
    os.replace(tmp, path)


def test_the_first_start_leads_to_the_setup_page_and_then_into_syncing(
    fresh: tuple[Installation, bytes, Path],
):
    installed, config, record = fresh
    installed.start(tray=True)
    (setup_url,) = wait_until(lambda: opened(record))
    assert "next=%2Fsetup" in setup_url
    with browse(setup_url) as browser:
        assert browser.get(path_of(setup_url)).headers["Location"] == "/setup"
        assert browser.get("/setup").status_code == 200
    # Meanwhile congsync can be found, and started again (the tab was closed) it opens the same
    # setup page again rather than serving a second one.
    origin = setup_url.split("/signin", 1)[0]
    again = installed.cli("open", "setup", "--print-url")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(origin)
    second = installed.cli("run")
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    reopened = opened(record)[1]
    assert reopened.startswith(origin) and "next=%2Fsetup" in reopened

    save_config(installed.member.profile.paths.config_file, config)
    status = installed.wait_state("idle", timeout=60)
    assert status["cycles_finished"] >= 1
    # And the browser goes on to the status page, now of the syncing daemon.
    *_setup, status_url = wait_until(lambda: len(opened(record)) == 3 and opened(record))
    assert "next=%2Fstatus" in status_url
    with browse(status_url) as browser:
        assert browser.get(path_of(status_url)).headers["Location"] == "/status"
        assert browser.get("/status").status_code == 200


def test_stopping_before_the_setup_is_done_ends_it_cleanly(
    fresh: tuple[Installation, bytes, Path],
):
    installed, _config, record = fresh
    process = installed.start(tray=True)
    wait_until(lambda: opened(record))
    stopped = installed.cli("stop")
    assert stopped.returncode == 0, stopped.stderr
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopped before it was set up" in out
    assert not installed.member.profile.paths.config_file.exists()
    assert not installed.member.profile.paths.control_file.exists()


@pytest.mark.parametrize(
    ("desktop", "args"),
    [("0", ()), ("1", ("--no-tray",))],
    ids=["no desktop", "no tray"],
)
def test_without_a_desktop_or_with_no_tray_run_still_asks_for_setup(
    fresh: tuple[Installation, bytes, Path], desktop: str, args: tuple[str, ...]
):
    installed, _config, record = fresh
    installed.env["CONGSYNC_DESKTOP"] = desktop
    done = installed.cli("run", *args)
    assert done.returncode == 2  # a configuration problem
    assert "not set up yet" in done.stderr
    assert opened(record) == []
