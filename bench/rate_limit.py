"""Benchmark: a 50 MB file from the embedded WebDAV server over TLS with a bandwidth limit set.

Prints the rate achieved against the limit, for one download alone and for three downloads in
parallel sharing the process's one token bucket. Everything stays on 127.0.0.1.
Usage: python bench/rate_limit.py [--size-mb 50] [--limits 5MB/s,20MB/s,0]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from daemon.core.rates import parse_rate
from daemon.dav import DavClient, Throttle
from daemon.server.webdav import DavServer, make_tls

PASSWORD = "bench-password"


def write_file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1024 * 1024)
    with open(path, "wb") as fh:
        left = size
        while left:
            fh.write(block[: min(left, len(block))])
            left -= min(left, len(block))


def timed_download(dav: DavClient, names: list[str], out: Path) -> tuple[int, float]:
    entries = [dav.stat(("Media", name)) for name in names]
    for name in names:
        (out / f"{name}.part").unlink(missing_ok=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        sizes = list(pool.map(lambda e: dav.download(e, out / f"{e.path[-1]}.part"), entries))
    return sum(sizes), time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--limits", default="5MB/s,20MB/s,0")
    args = parser.parse_args()
    size = args.size_mb * 1000 * 1000
    with tempfile.TemporaryDirectory(prefix="congsync-bench-") as tmp:
        base = Path(tmp)
        root = base / "server"
        media = root / "congregation" / "Media"
        write_file(media / "talk.mp4", size)
        for i in range(3):
            write_file(media / f"part-{i}.mp4", size // 3)
        out = base / "out"
        out.mkdir()
        tls = make_tls(base / "tls")
        with DavServer(root, tls, users={"bench": PASSWORD}) as server:
            throttle = Throttle()
            with DavClient(
                server.url,
                "congregation",
                "bench",
                PASSWORD,
                ca_bundle=tls.ca_pem_path,
                throttle=throttle,
            ) as dav:
                print(
                    f"{'limit':>12}  {'files':>5}  {'bytes':>8}  {'time':>7}  {'achieved':>10}  ratio"
                )
                for text in args.limits.split(","):
                    limit = parse_rate(text)
                    throttle.set_rate(limit)
                    for names in (["talk.mp4"], [f"part-{i}.mp4" for i in range(3)]):
                        got, wall = timed_download(dav, names, out)
                        rate = got / wall
                        ratio = f"{rate / limit:.3f}" if limit else "-"
                        shown = text if limit else "none"
                        print(
                            f"{shown:>12}  {len(names):>5}  {got / 1e6:>6.1f}MB  {wall:>6.2f}s"
                            f"  {rate / 1e6:>7.2f}MB/s  {ratio}"
                        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
