"""Benchmark: what an idle poll costs, and the daemon's CPU time while idle.

Part 1 prints the requests and response bytes of one idle poll against servers holding 1 and 50
past date folders (they must be equal). Part 2 runs a real `congsync run --no-tray --interval
10` for `--minutes` (default 10) against an idle server and prints its CPU time.
Everything stays on 127.0.0.1. Usage: python bench/idle_poll.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from davserver import FaultController

from daemon.config import Config, Profile
from daemon.paths import Paths
from daemon.server.webdav import DavServer, make_tls
from daemon.service.root import ProfileRoot

PASSWORD = "bench-password"


def populate(folder: Path, past: int) -> None:
    today = date.today()
    (folder / "forcedPrefs.json").write_text('{"meeting": {"mwDay": 1, "weDay": 6}}')
    for rel in ["Media/Recurring/yeartext.png"] + [
        f"Media/{(today + timedelta(days=d)).isoformat()}/talk.jpg" for d in (1, 3, 8, 10)
    ]:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(os.urandom(50_000))
    for i in range(past):
        day = (today - timedelta(days=7 + i)).isoformat()
        for top in ("Media", "Hidden"):
            (folder / top / day).mkdir(parents=True, exist_ok=True)
            (folder / top / day / "old.jpg").write_bytes(b"old")
    hour_ago = time.time() - 3600
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (hour_ago, hour_ago))


def one_idle_poll(base: Path, past: int) -> tuple[int, int, list[str]]:
    root = base / f"server-{past}"
    (root / "congregation").mkdir(parents=True)
    populate(root / "congregation", past)
    tls = make_tls(base / f"tls-{past}")
    faults = FaultController()
    with DavServer(root, tls, users={"bench": PASSWORD}, wsgi_wrapper=faults.wrap) as server:
        profile = Profile(
            paths=Paths(base / f"c{past}.toml", base / f"state-{past}", base / f"logs-{past}")
        )
        profile.save(
            Config(
                url=server.url,
                username="bench",
                folder="congregation",
                media_dir=base / f"media-{past}",
                ca_bundle=tls.ca_pem_path,
            )
        )
        with ProfileRoot(profile, password=PASSWORD) as root:
            root.run_cycle(threading.Event(), full_listing=True)
            root.run_cycle(threading.Event(), full_listing=False)
            faults.clear()
            root.run_cycle(threading.Event(), full_listing=False)
        requests = faults.requests
    return (
        len(requests),
        sum(r.bytes_sent for r in requests),
        [f"{r.method} Depth:{r.depth} {r.path}" for r in requests],
    )


def idle_cpu(base: Path, minutes: float) -> tuple[float, int]:
    root = base / "server-cpu"
    (root / "congregation").mkdir(parents=True)
    populate(root / "congregation", 50)
    tls = make_tls(base / "tls-cpu")
    faults = FaultController()
    with DavServer(root, tls, users={"bench": PASSWORD}, wsgi_wrapper=faults.wrap) as server:
        env = dict(os.environ)
        env.update(
            CONGSYNC_CONFIG=str(base / "cpu.toml"),
            CONGSYNC_STATE_DIR=str(base / "state-cpu"),
            CONGSYNC_PASSWORD=PASSWORD,
        )
        Profile(paths=Paths(base / "cpu.toml", base / "state-cpu", base / "logs-cpu")).save(
            Config(
                url=server.url,
                username="bench",
                folder="congregation",
                media_dir=base / "media-cpu",
                ca_bundle=tls.ca_pem_path,
            )
        )
        daemon = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", "--no-tray", "--interval", "10"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(minutes * 60)
        subprocess.run([sys.executable, "-m", "daemon", "stop"], env=env, check=False)
        _pid, _status, usage = os.wait4(daemon.pid, 0)
        polls = faults.count("PROPFIND")
    return usage.ru_utime + usage.ru_stime, polls


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="congsync-idle-") as tmp:
        base = Path(tmp)
        results = {past: one_idle_poll(base, past) for past in (1, 50)}
        for past, (count, size, lines) in results.items():
            print(
                f"idle poll, {past:2d} past date folders: {count} requests, {size} response bytes"
            )
            for line in lines:
                print(f"    {line}")
        same = results[1][:2] == results[50][:2]
        print(f"equal for 1 and 50 past folders: {'yes' if same else 'NO'}")
        cpu, propfinds = idle_cpu(base, args.minutes)
        print(
            f"daemon CPU time over {args.minutes:g} idle minutes at a 10 s interval: {cpu:.2f} s "
            f"({100 * cpu / (args.minutes * 60):.2f} % of one core; {propfinds} PROPFINDs)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
