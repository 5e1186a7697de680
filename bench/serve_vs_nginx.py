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
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from daemon.server.accounts import add_account
from daemon.server.serve import default_users_file, server_dir

PASSWORD = "bench-password"
NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {root};
        client_body_temp_path {dir}/body;
        proxy_temp_path {dir}/proxy;
        fastcgi_temp_path {dir}/fcgi;
        uwsgi_temp_path {dir}/uwsgi;
        scgi_temp_path {dir}/scgi;
    }}
}}
"""


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


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
    if args.install_nginx and shutil.which("nginx") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], check=False)
        if shutil.which("nginx") is None:
            subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx is not installed (try --install-nginx)")
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed")

    with tempfile.TemporaryDirectory(prefix="congsync-bench-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)  # nginx's workers run as www-data when started by root
        root = base / "share"
        (root / "congregation").mkdir(parents=True)
        big = root / "congregation" / "big.mp4"
        block = os.urandom(1024 * 1024)
        with open(big, "wb") as fh:
            for _ in range(args.size_mb):
                fh.write(block)
        big.chmod(0o644)
        add_account(default_users_file(root), "vo", "member", PASSWORD)

        serve_port, nginx_port = 18543, 18544
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
            wait_for_port(serve_port)
            tls = server_dir(root) / "tls"
            conf = base / "nginx.conf"
            conf.write_text(
                NGINX_CONF.format(
                    dir=base,
                    port=nginx_port,
                    cert=tls / "cert.pem",
                    key=tls / "key.pem",
                    root=root,
                )
            )
            ngx = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"])
            try:
                wait_for_port(nginx_port)
                path = "/congregation/big.mp4"
                s = measure(f"https://127.0.0.1:{serve_port}{path}", f"vo:{PASSWORD}", args.runs)
                n = measure(f"https://127.0.0.1:{nginx_port}{path}", None, args.runs)
            finally:
                ngx.terminate()
                ngx.wait(10)
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
