"""Benchmark: from a file dropped into the organizer folder to the file complete in a member's media folder.

Both sides are real `congsync run --no-tray --interval N` processes against one HTTPS WebDAV
server on 127.0.0.1: the organizer's folder watcher asks for a cycle as soon as a dropped file
is complete; the member finds it at its next poll.

Prints, per file, when the upload was in place on the server and when the member had it,
and the organizer process's peak memory (uploads stream from disk).
Usage: python bench/organizer_latency.py [--runs 3] [--big-mb 200] [--interval 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchlib import write_random
from davserver import FaultController

from daemon.config import Config, Profile
from daemon.paths import Paths
from daemon.server.webdav import DavServer, make_tls

PASSWORD = "bench-password"
INTERVAL = 10


def wait_for(path: Path, size: int, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if path.stat().st_size == size:
                return time.monotonic()
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3, help="drops of the 1 MB file")
    parser.add_argument("--big-mb", type=int, default=200)
    parser.add_argument("--interval", type=int, default=INTERVAL, help="seconds between polls")
    args = parser.parse_args()
    drops, peak = measure(args.interval, args.runs, args.big_mb)
    for label, _size, up, down in drops:
        up_text = f"{up:6.1f} s" if up is not None else "  never"
        down_text = f"{down:6.1f} s" if down is not None else "  never"
        print(
            f"{label:>7}: on the server after {up_text}, complete at the member after {down_text}"
        )
    print(
        f"organizer process peak memory: {peak / 1e6:.0f} MB "
        f"(uploaded {sum(s for _l, s, _u, _d in drops) / 1e6:.0f} MB)"
    )
    return 0


Drop = tuple[str, int, float | None, float | None]  # label, bytes, to the server, to the member


def measure(interval: int, runs: int, big_mb: int) -> tuple[list[Drop], int]:
    """Drop `runs` 1 MB files and one `big_mb` MB file; seconds to the server and to the member,
    and the organizer's peak memory in bytes. Both daemons poll every `interval` seconds."""
    drops: list[Drop] = []

    day = (date.today() + timedelta(days=1)).isoformat()
    with tempfile.TemporaryDirectory(prefix="congsync-latency-") as tmp:
        base = Path(tmp)
        root = base / "server"
        (root / "congregation").mkdir(parents=True)
        (root / "congregation" / "forcedPrefs.json").write_text(
            '{"meeting": {"mwDay": 1, "weDay": 6}}'
        )
        tls = make_tls(base / "tls")
        faults = FaultController()
        with DavServer(root, tls, users={"bench": PASSWORD}, wsgi_wrapper=faults.wrap) as server:
            common = {
                "url": server.url,
                "username": "bench",
                "folder": "congregation",
                "ca_bundle": tls.ca_pem_path,
                "interval": interval,
            }
            organizer_dir = base / "organizer"
            member_media = base / "member-media"
            Profile(paths=Paths(base / "org.toml", base / "org-state", base / "org-logs")).save(
                Config(
                    media_dir=base / "org-media",
                    role="organizer",
                    organizer_dir=organizer_dir,
                    **common,
                )
            )
            Profile(paths=Paths(base / "mem.toml", base / "mem-state", base / "mem-logs")).save(
                Config(media_dir=member_media, **common)
            )
            env = dict(os.environ, CONGSYNC_PASSWORD=PASSWORD)
            member_env = dict(
                env,
                CONGSYNC_CONFIG=str(base / "mem.toml"),
                CONGSYNC_STATE_DIR=str(base / "mem-state"),
            )
            member = subprocess.Popen(
                [sys.executable, "-m", "daemon", "run", "--no-tray", "--interval", str(interval)],
                env=member_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            organizer_env = dict(
                env,
                CONGSYNC_CONFIG=str(base / "org.toml"),
                CONGSYNC_STATE_DIR=str(base / "org-state"),
            )
            organizer = subprocess.Popen(
                [sys.executable, "-m", "daemon", "run", "--no-tray", "--interval", str(interval)],
                env=organizer_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(5)  # both have run their first cycle
            sizes = [("1 MB", 1_000_000)] * runs + [(f"{big_mb} MB", big_mb * 1_000_000)]
            try:
                for i, (label, size) in enumerate(sizes):
                    name = f"drop-{i}.mp4"
                    staging = organizer_dir / f".{name}.tmp"  # ignored until renamed into place
                    write_random(staging, size)
                    (organizer_dir / day).mkdir(parents=True, exist_ok=True)
                    dropped = time.monotonic()
                    os.replace(staging, organizer_dir / day / name)
                    on_server = wait_for(
                        root / "congregation" / "Media" / day / name, size, timeout=600
                    )
                    at_member = wait_for(member_media / day / name, size, timeout=600)
                    drops.append(
                        (
                            label,
                            size,
                            on_server - dropped if on_server else None,
                            at_member - dropped if at_member else None,
                        )
                    )
            finally:
                subprocess.run(
                    [sys.executable, "-m", "daemon", "stop"], env=organizer_env, check=False
                )
                _pid, _status, usage = os.wait4(organizer.pid, 0)
                subprocess.run(
                    [sys.executable, "-m", "daemon", "stop"], env=member_env, check=False
                )
                member.wait(30)
            peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return drops, peak


if __name__ == "__main__":
    raise SystemExit(main())
