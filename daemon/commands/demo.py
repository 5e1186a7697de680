"""`congsync demo`: a local HTTPS WebDAV server with a sample congregation, synced into a folder."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

from daemon.commands._render import summarise
from daemon.config import Config, Profile
from daemon.i18n import _, format_number, ngettext
from daemon.paths import Paths
from daemon.server.sample import populate_sample_congregation
from daemon.server.webdav import DavServer, make_tls, write_private
from daemon.service.root import ProfileRoot

DEMO_USER = "demo"
DEMO_FOLDER = "congregation"


def print_tree(root: Path) -> None:
    print(_("{path}:").format(path=root))
    for day in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(f for f in day.iterdir() if f.is_file())
        print(
            ngettext("  {date}/  ({n} file)", "  {date}/  ({n} files)", len(files)).format(
                date=day.name, n=len(files)
            )
        )
        for f in files:
            print(f"    {f.name}  ({f.stat().st_size // 1024} KB)")
    manifest = root / ".congsync" / "manifest.json"
    if manifest.exists():
        for day, info in sorted(json.loads(manifest.read_text(encoding="utf-8"))["dates"].items()):
            for name in info.get("hidden", []):
                print(
                    _(
                        "  {date}: “{name}” is hidden by the organizer and was not downloaded"
                    ).format(date=day, name=name)
                )


def congsync_command() -> list[str]:
    """How this congsync was started, so that a command it prints runs this same congsync."""
    if getattr(sys, "frozen", False):  # a PyInstaller build: the executable is congsync
        return [sys.executable]
    launcher = Path(sys.argv[0])
    if launcher.name.startswith("congsync"):  # the installed script (congsync, congsync.exe)
        found = shutil.which("congsync")
        if found and Path(found).resolve() == launcher.resolve():
            return ["congsync"]
        return [str(launcher.absolute())]
    return [sys.executable, "-m", "daemon"]  # python -m daemon


def command_line(argv: list[str]) -> str:
    """`argv` as one line this system's shell runs as it is (paths with spaces quoted)."""
    return subprocess.list2cmdline(argv) if os.name == "nt" else shlex.join(argv)


def run(args: argparse.Namespace, _profile: Profile | None = None) -> int:
    """The demo keeps a profile of its own (under --dir), whatever the environment names."""
    base = Path(args.dir).absolute()
    server_root = base / "server"
    # A fresh sample each time: the demo shows a first sync, not leftovers of the last one.
    for leftover in (server_root, base / "state", base / "media"):
        if leftover.exists():
            shutil.rmtree(leftover)
    (server_root / DEMO_FOLDER).mkdir(parents=True)
    started = time.monotonic()
    sample = populate_sample_congregation(server_root / DEMO_FOLDER, date.today())
    tls = make_tls(base / "tls")
    password = secrets.token_urlsafe(12)
    with DavServer(server_root, tls, users={DEMO_USER: password}) as server:
        config = Config(
            url=server.url,
            username=DEMO_USER,
            folder=DEMO_FOLDER,
            media_dir=base / "media",
            ca_bundle=tls.ca_pem_path,
        )
        profile = Profile(
            paths=Paths(
                config_file=base / "config.toml", state_dir=base / "state", log_dir=base / "logs"
            )
        )
        profile.save(config)
        print(
            _("Demo server: {url} (folder “{folder}”, sample congregation “{name}”)").format(
                url=server.url, folder=DEMO_FOLDER, name=sample.congregation_name
            )
        )
        with ProfileRoot(profile, password=password) as root:
            result = root.run_cycle(threading.Event())
        for warning in result.warnings:
            print(f"! {warning}")
        print(summarise(result))
        print()
        print_tree(config.media_dir)
        print()
        print(
            _("Done in {seconds} s.").format(seconds=format_number(time.monotonic() - started, 1))
        )
        if not args.keep_running:
            return 0 if result.ok else 1
        stop = threading.Event()
        # Ctrl+C (or a polite kill) is how the user ends the demo: a normal exit. A handler that
        # only sets an event, rather than KeyboardInterrupt striking wherever the main thread
        # happens to be (possibly holding a lock), keeps the shutdown orderly.
        previous = {
            sig: signal.signal(sig, lambda _signum, _frame: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            # The password goes into a private file, never onto the command line.
            password_file = base / "password.txt"
            write_private(password_file, f"{password}\n".encode())
            setup = [
                *congsync_command(),
                "setup",
                "--url",
                server.url,
                "--username",
                DEMO_USER,
                "--folder",
                DEMO_FOLDER,
                "--media-dir",
                str(base / "my-media"),
                "--ca-bundle",
                str(tls.ca_pem_path),
                "--password-file",
                str(password_file),
            ]
            print()
            print(
                _(
                    "The demo server keeps running; press Ctrl+C to stop it. To point this "
                    "computer's congsync at it (this replaces its configuration), run:"
                )
            )
            print(f"  {command_line(setup)}", flush=True)
            server.serve_forever_until(stop)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0
