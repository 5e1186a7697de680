"""Benchmark: a first sync of 200 files (about 1 GB) from the local WebDAV server over TLS.

Prints wall time, throughput and the peak memory (max RSS) of the `congsync sync` process.
Everything stays on 127.0.0.1. Usage: python bench/sync_1gb.py [--total-mb 1000] [--files 200]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchlib import write_random

from daemon.server.webdav import DavServer, make_tls

PASSWORD = "bench-password"


def populate(folder: Path, files: int, total_mb: int) -> tuple[int, int]:
    """Mostly images of ~1 MB and a few large videos, spread over two meeting dates."""
    days = [(date.today() + timedelta(days=d)).isoformat() for d in (1, 3)]
    videos = max(1, files // 10)
    images = files - videos
    image_size = 1024 * 1024
    video_size = max(image_size, (total_mb * 1024 * 1024 - images * image_size) // videos)
    block = os.urandom(1024 * 1024)
    total = 0
    for i in range(files):
        size = video_size if i < videos else image_size
        name = f"video-{i:03d}.mp4" if i < videos else f"image-{i:03d}.jpg"
        write_random(folder / "Media" / days[i % 2] / name, size, block)
        total += size
    return files, total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--total-mb", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="congsync-bench-") as tmp:
        base = Path(tmp)
        root = base / "server"
        (root / "congregation").mkdir(parents=True)
        count, total = populate(root / "congregation", args.files, args.total_mb)
        tls = make_tls(base / "tls")
        with DavServer(root, tls, users={"bench": PASSWORD}) as server:
            env = dict(os.environ)
            env.update(
                CONGSYNC_CONFIG=str(base / "config.toml"),
                CONGSYNC_STATE_DIR=str(base / "state"),
                CONGSYNC_PASSWORD=PASSWORD,
            )
            subprocess.run(
                [
                    sys.executable, "-m", "daemon", "setup",
                    "--url", server.url, "--username", "bench", "--folder", "congregation",
                    "--media-dir", str(base / "media"), "--ca-bundle", str(tls.ca_pem_path),
                ],
                env=env, check=True, capture_output=True,
            )  # fmt: skip
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "daemon", "sync", "--json"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            wall = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        summary = json.loads(done.stdout)
        print(f"files on server:     {count}")
        print(f"bytes on server:     {total / 1e6:.0f} MB")
        print(f"files downloaded:    {summary['downloaded']}")
        print(f"wall time:           {wall:.1f} s")
        print(f"throughput:          {total / wall / 1e6:.1f} MB/s")
        print(f"peak RSS of sync:    {peak_kib / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
