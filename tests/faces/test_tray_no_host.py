"""`congsync run` on a bare X display (Xvfb, no tray host): one sentence, no traceback, it runs.

Like GNOME without the AppIndicator extension, or a bare X server: pystray's Xorg backend finds
no system-tray owner. Uses the display helpers of the tray smoke test; skipped without Xvfb.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from davserver import DavFixture
from installation import Installation
from test_tray_smoke import EXIT_TIMEOUT, START_TIMEOUT, VirtualDisplay, start_xvfb, stop_process

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the X11 tray tests run on Linux"
)

SENTENCE = "Nothing on this desktop shows tray icons"


@pytest.fixture
def bare_x(tmp_path: Path) -> Iterator[VirtualDisplay]:
    if shutil.which("xvfb-run") is None or shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (.ci/run installs it: apt-get install xvfb)")
    log_dir = tmp_path / "x-logs"
    log_dir.mkdir()
    with ExitStack() as stack:
        screen = start_xvfb(stack, log_dir)
        assert screen.tray_owner() is None  # no tray host: that is the point
        yield screen


def test_without_a_tray_host_congsync_says_so_once_and_keeps_running(
    dav: DavFixture, tmp_path: Path, bare_x: VirtualDisplay
) -> None:
    installation = Installation(dav, tmp_path / "inst")
    installation.env.update(DISPLAY=bare_x.name, PYSTRAY_BACKEND="xorg", LANGUAGE="C")
    installation.env.pop("WAYLAND_DISPLAY", None)
    stderr_path = tmp_path / "congsync-run.err"
    with stderr_path.open("wb") as stderr:
        # Without --no-tray: congsync looks for a tray itself.
        process = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", "--interval", "3600"],
            env=installation.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        installation.wait_state("idle", timeout=START_TIMEOUT + 30)
        assert process.poll() is None, stderr_path.read_text()
        # Another cycle: the icon changes picture twice more, each a failed dock for pystray.
        assert installation.cli("sync").returncode == 0
        assert process.poll() is None, stderr_path.read_text()

        assert installation.cli("stop", timeout=EXIT_TIMEOUT).returncode == 0
        process.wait(timeout=EXIT_TIMEOUT)
    finally:
        stop_process(process)

    said = stderr_path.read_text()
    assert process.returncode == 0, said
    assert said.count(SENTENCE) == 1, said
    assert "AppIndicator and KStatusNotifierItem Support" in said
    assert "Traceback" not in said
    log_file = installation.member.profile.paths.log_file
    logged = log_file.read_text() if log_file.exists() else ""
    assert "Traceback" not in logged
    assert "Failed to dock icon" not in said + logged
