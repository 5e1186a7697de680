"""Benchmark: the two GET paths a download can take, on one large file from nginx over TLS.

httpx's streamed `iter_raw` (what downloads used before, and still use behind a proxy) next to
daemon.dav.fetch (http.client's `readinto`), each writing to a file as a download does, each in
this process one after the other. Prints wall and CPU seconds of each, the median of --runs.

Usage: python bench/get_paths.py [--size-mb 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import ssl
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import benchlib
import httpx
from benchlib import write_random

from daemon.dav.client import CHUNK
from daemon.dav.fetch import Fetcher
from daemon.server.webdav import make_tls


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def via_httpx(url: str, context: ssl.SSLContext, out: Path) -> None:
    with (
        httpx.Client(verify=context) as client,
        client.stream("GET", url) as response,
        open(out, "wb") as fh,
    ):
        for chunk in response.iter_raw(CHUNK):
            fh.write(chunk)


def via_fetch(url: str, context: ssl.SSLContext, out: Path) -> None:
    host_port, path = url.split("//", 1)[1].split("/", 1)
    host, port = host_port.rsplit(":", 1)
    fetcher = Fetcher(host, int(port), context, timeout=30, connect_timeout=15, headers={})
    try:
        with fetcher.get("/" + path, {}) as answer, open(out, "wb") as fh:
            for chunk in answer.chunks(CHUNK):
                fh.write(chunk)
    finally:
        fetcher.close()


def measure(get: Callable[[], None], runs: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), cpu()
        get()
        walls.append(time.perf_counter() - started)
        cpus.append(cpu() - used)
    return statistics.median(walls), statistics.median(cpus)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="congsync-bench-") as tmp:
        base = Path(tmp)
        write_random(base / "root" / "big.bin", args.size_mb * 1_000_000)
        tls = make_tls(base / "tls")
        context = ssl.create_default_context(cafile=str(tls.ca_pem_path))
        out = base / "out.bin"
        with benchlib.running_nginx(
            base / "nginx", base / "root", tls.cert_pem_path, tls.key_pem_path, dav=False
        ) as ngx:
            url = f"{ngx.url}big.bin"
            via_fetch(url, context, out)  # warm the page cache and the server
            results = {
                "httpx iter_raw": measure(lambda: via_httpx(url, context, out), args.runs),
                "http.client (daemon.dav.fetch)": measure(
                    lambda: via_fetch(url, context, out), args.runs
                ),
            }
    print(f"{args.size_mb} MB from nginx over TLS on 127.0.0.1, median of {args.runs}")
    for name, (wall, used) in results.items():
        print(f"{name:32} {wall:6.2f} s wall {used:6.2f} s CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
