"""Screenshots of every page of the control panel, for a person to look at (not a test).

Serves the demo's sample congregation on a local HTTPS WebDAV server (as `congsync demo`
does) and starts three congsyncs against it, each a real `congsync run` of its own: an
organizer's and a member's, and one with nothing configured yet (its first start, which
serves the setup page alone). A headless Debian chromium (Playwright, no browser download)
signs in to each with `congsync open --print-url` and saves every page, the whole page each
time, at 1366×768 and at 200 % zoom: a 683×384 CSS viewport at device scale 2, which is
exactly what a browser's 200 % zoom gives on that screen.

    .venv/bin/python scripts/panel_screenshots.py [FOLDER]     (default: ./panel-screenshots)

Nothing outside a temporary folder is touched: not the real configuration, nor the keyring,
nor Meeting Media Manager's settings. The screenshots are not committed (.gitignore).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from daemon.commands.demo import DEMO_FOLDER, DEMO_USER
from daemon.config import Config, Profile
from daemon.paths import Paths
from daemon.server.sample import populate_sample_congregation
from daemon.server.webdav import DavServer, make_tls

CHROMIUM = "/usr/bin/chromium"
PAGES = ("status", "setup", "media")
# (name, CSS viewport, device scale): 200 % zoom halves the CSS pixels a screen offers.
SIZES = (("1366x768", (1366, 768), 1), ("zoom200", (683, 384), 2))
TIMEOUT = 60.0
SETTLE_MS = 1500
# Buttons that open a part of a page worth its own screenshot.
OPENED_PARTS = {"setup": ("Providers", "Browse…")}


@dataclass
class Computer:
    """One congsync on the pretend computer: its profile folder and its `congsync run`."""

    name: str
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def run_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "daemon", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def cli(self, *args: str) -> str:
        done = self.run_cli(*args)
        if done.returncode != 0:
            raise SystemExit(f"{self.name}: congsync {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def start(self) -> None:
        log = (self.home / "run.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", *self.run_args()],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def run_args(self) -> tuple[str, ...]:
        # Configured ones run as a service would; the new one as a desktop's first start.
        return ("--no-tray",) if (self.home / "config.toml").exists() else ()

    def sign_in_url(self, page: str) -> str:
        return self.cli("open", page, "--print-url").strip()

    def synced(self) -> bool:
        done = self.run_cli("status", "--json")
        if done.returncode != 0:
            return False
        status = json.loads(done.stdout)
        return bool(status.get("state") == "idle" and status.get("cycles_finished"))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.run_cli("stop")
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until(what: str, condition: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise SystemExit(f"gave up waiting for {what}")


def computers(base: Path, server: DavServer, ca: Path, password: str) -> list[Computer]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONGSYNC_")}
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):  # no tray icon, no real browser
        env.pop(name, None)
    (base / "m3").mkdir()
    env.update(
        CONGSYNC_PASSWORD=password,
        CONGSYNC_M3_DATA_DIR=str(base / "m3"),  # not this computer's own Meeting Media Manager
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",  # nor its keyring
    )
    made = []
    for name in ("organizer", "member", "new"):
        home = base / name
        home.mkdir()
        own = {
            **env,
            "CONGSYNC_CONFIG": str(home / "config.toml"),
            "CONGSYNC_STATE_DIR": str(home / "state"),
        }
        if name == "new":
            # Nothing configured, on a "desktop" whose browser is a script noting the address.
            browser = home / "browser"
            browser.write_text(
                f"#!{sys.executable}\nimport sys, pathlib\n"
                f"pathlib.Path({str(home / 'opened.txt')!r}).write_text(sys.argv[1])\n",
                encoding="utf-8",
            )
            browser.chmod(0o755)
            own.update(CONGSYNC_DESKTOP="1", BROWSER=str(browser))
        else:
            organizer = name == "organizer"
            profile = Profile(Paths(home / "config.toml", home / "state", home / "state" / "logs"))
            profile.save(
                Config(
                    url=server.url,
                    username=DEMO_USER,
                    folder=DEMO_FOLDER,
                    media_dir=home / "media",
                    role=name,
                    organizer_dir=home / "organizer" if organizer else None,
                    ca_bundle=ca,
                )
            )
        made.append(Computer(name, home, own))
    return made


@contextmanager
def running(base: Path) -> Iterator[list[Computer]]:
    """The sample server and the three congsyncs, synced (or waiting to be set up)."""
    root = base / "server"
    (root / DEMO_FOLDER).mkdir(parents=True)
    populate_sample_congregation(root / DEMO_FOLDER, date.today())
    tls = make_tls(base / "tls")
    password = secrets.token_urlsafe(12)
    with ExitStack() as stack:
        server = stack.enter_context(DavServer(root, tls, users={DEMO_USER: password}))
        print(f"Sample congregation served at {server.url}")
        made = computers(base, server, tls.ca_pem_path, password)
        for computer in made:
            computer.start()
            stack.callback(computer.stop)
        for computer in made:
            if computer.name == "new":
                wait_until("the first start's setup page", (computer.home / "opened.txt").exists)
            else:
                wait_until(f"the {computer.name}'s first sync", computer.synced)
        yield made


def shoot(computers: list[Computer], folder: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for computer in computers:
                # Not set up yet: the setup page, and what the status page says meanwhile.
                pages = ("setup", "status") if computer.name == "new" else PAGES
                for size, (width, height), scale in SIZES:
                    context = browser.new_context(
                        viewport={"width": width, "height": height}, device_scale_factor=scale
                    )
                    tab = context.new_page()
                    tab.set_default_timeout(TIMEOUT * 1000)
                    tab.goto(computer.sign_in_url(pages[0]))  # signs this browser in
                    origin = _origin(tab.url)
                    for index, page in enumerate(pages):
                        if index:  # the sign-in went on to the first page by itself
                            tab.goto(f"{origin}/{page}")
                        # Not "networkidle": the status page keeps a long poll open.
                        tab.wait_for_load_state("load")
                        tab.wait_for_timeout(SETTLE_MS)  # for the page's scripts to fill it in
                        path = folder / f"{computer.name}-{page}-{size}.png"
                        tab.screenshot(path=str(path), full_page=True)
                        saved.append(path)
                        print(f"  {path}")
                        saved.extend(opened_parts(tab, folder, computer.name, page, size))
                    context.close()
        finally:
            browser.close()
    return saved


def opened_parts(tab: Any, folder: Path, who: str, page: str, size: str) -> list[Path]:
    """The page again with each of its dialogs or lists open (Providers, Browse…)."""
    saved = []
    for label in OPENED_PARTS.get(page, ()):
        button = tab.get_by_role("button", name=label)
        if not button.count():
            continue
        button.first.click()
        tab.wait_for_timeout(SETTLE_MS)
        path = folder / f"{who}-{page}-{label.strip('…').lower()}-{size}.png"
        tab.screenshot(path=str(path), full_page=True)
        saved.append(path)
        print(f"  {path}")
        tab.reload()
        tab.wait_for_load_state("load")
    return saved


def _origin(url: str) -> str:
    scheme, _, host = url.split("/", 3)[:3]
    return f"{scheme}//{host}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", nargs="?", default="panel-screenshots", help="where the PNGs go")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing (Debian's chromium package)", file=sys.stderr)
        return 1
    folder = Path(args.folder).absolute()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="congsync-panel-") as temp, running(Path(temp)) as made:
        saved = shoot(made, folder)
    print(f"{len(saved)} screenshots in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
