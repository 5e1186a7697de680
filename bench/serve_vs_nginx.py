"""Benchmark: GET throughput of one large file from `congsync serve` next to Debian's nginx.

Both serve the same file over TLS on 127.0.0.1 with the same certificate; curl downloads it to
/dev/null (so the client is not Python). Prints MB/s of each and the ratio serve/nginx.

Usage: python bench/serve_vs_nginx.py [--size-mb 1024] [--runs 3] [--install-nginx]
(--install-nginx runs `apt-get install nginx` first; needs root.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import benchlib

from daemon.server.accounts import add_account
from daemon.server.serve import default_users_file, server_dir

PASSWORD = "bench-password"


def curl_speed(url: str, auth: str | None) -> float:
    """Bytes per second of one download to /dev/null."""
    argv = ["curl", "-sS", "-k", "-o", "/dev/null", "-w", "%{speed_download} %{http_code}", url]
    if auth:
        argv[1:1] = ["-u", auth]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split()
    if out[1] != "200":
        raise SystemExit(f"{url}: HTTP {out[1]}")
    return float(out[0])


def measure(url: str, auth: str | None, runs: int) -> float:
    curl_speed(url, auth)  # warm the page cache and the server
    return statistics.median(curl_speed(url, auth) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--install-nginx", action="store_true")
    args = parser.parse_args()
    if args.install_nginx:
        benchlib.install_packages(["nginx"])
    benchlib.nginx_binary()
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed")

    with tempfile.TemporaryDirectory(prefix="congsync-bench-") as tmp:
        base = Path(tmp)
        root = base / "share"
        (root / "congregation").mkdir(parents=True)
        big = root / "congregation" / "big.mp4"
        block = os.urandom(1024 * 1024)
        with open(big, "wb") as fh:
            for _ in range(args.size_mb):
                fh.write(block)
        add_account(default_users_file(root), "vo", "member", PASSWORD)

        serve_port = benchlib.free_port()
        serve = subprocess.Popen(
            [
                *(sys.executable, "-m", "daemon", "serve"),
                "--root",
                str(root),
                "--port",
                str(serve_port),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            benchlib.wait_for_port(serve_port)
            tls = server_dir(root) / "tls"
            with benchlib.running_nginx(
                base / "nginx", root, tls / "cert.pem", tls / "key.pem", dav=False
            ) as ngx:
                path = "/congregation/big.mp4"
                s = measure(f"https://127.0.0.1:{serve_port}{path}", f"vo:{PASSWORD}", args.runs)
                n = measure(f"{ngx.url.rstrip('/')}{path}", None, args.runs)
        finally:
            serve.terminate()
            serve.wait(10)
    mb = 1024 * 1024
    print(f"file: {args.size_mb} MB, median of {args.runs} GETs over TLS on 127.0.0.1 (curl)")
    print(f"congsync serve: {s / mb:8.1f} MB/s")
    print(f"nginx:          {n / mb:8.1f} MB/s")
    print(f"ratio serve/nginx: {s / n:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
