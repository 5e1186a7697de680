"""Helpers the benchmarks share: Debian packages, nginx over TLS on loopback, measured child runs.

Not a benchmark itself. Scripts in bench/ import it as `benchlib` (they run with bench/ first on
sys.path). Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

GNU_TIME = "/usr/bin/time"  # Debian package "time"
DAV_EXT_MODULE = Path("/usr/lib/nginx/modules/ngx_http_dav_ext_module.so")

NGINX_CONF = """
{load_modules}
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
    log_format bench '$request_method $status $bytes_sent $request_length "$uri"';
    access_log {dir}/access.log bench;
    sendfile on;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {root};
        {dav}
        client_body_temp_path {dir}/body;
        proxy_temp_path {dir}/proxy;
        fastcgi_temp_path {dir}/fcgi;
        uwsgi_temp_path {dir}/uwsgi;
        scgi_temp_path {dir}/scgi;
    }}
}}
"""
NGINX_DAV = "dav_methods PUT DELETE MKCOL COPY MOVE; dav_ext_methods PROPFIND OPTIONS;"


def install_packages(packages: Sequence[str]) -> None:
    """apt-get install the Debian packages that are not installed yet (needs root)."""
    missing = [
        p
        for p in packages
        if subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True, check=False
        ).stdout
        != "install ok installed"
    ]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], env=env, check=True)


def nginx_binary() -> str:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx is not installed (try --install)")
    return nginx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port}")


@dataclass(frozen=True)
class LoggedHit:
    method: str
    status: int
    bytes_sent: int
    uri: str


class Nginx:
    """A running nginx serving `root` over TLS; `hits()` reads its access log."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self._log_offset = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    @property
    def access_log(self) -> Path:
        return self.workdir / "access.log"

    def clear(self) -> None:
        """Forget the hits so far (the log keeps growing; we remember where we were)."""
        self._log_offset = self.access_log.stat().st_size if self.access_log.exists() else 0

    def hits(self) -> list[LoggedHit]:
        """Requests logged since the last clear(); nginx writes a line as each request ends."""
        if not self.access_log.exists():
            return []
        with open(self.access_log, "rb") as fh:
            fh.seek(self._log_offset)
            lines = fh.read().decode("utf-8", "replace").splitlines()
        out = []
        for line in lines:
            method, status, sent, _length, uri = line.split(" ", 4)
            out.append(LoggedHit(method, int(status), int(sent), uri.strip('"')))
        return out


@contextmanager
def running_nginx(
    workdir: Path, root: Path, cert: Path, key: Path, *, dav: bool = True
) -> Iterator[Nginx]:
    """nginx (Debian's) in the foreground on a free loopback port; WebDAV on when `dav`."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    modules = f"load_module {DAV_EXT_MODULE};" if dav and DAV_EXT_MODULE.exists() else ""
    if dav and not modules:
        raise SystemExit("nginx's WebDAV module is missing: install libnginx-mod-http-dav-ext")
    conf = workdir / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            load_modules=modules,
            # started by root, workers would run as www-data and could not read 0700 temp dirs
            user="user root;" if os.geteuid() == 0 else "",
            dir=workdir,
            port=port,
            cert=cert,
            key=key,
            root=root,
            dav=NGINX_DAV if dav else "",
        )
    )
    proc = subprocess.Popen(
        [nginx_binary(), "-c", str(conf), "-e", str(workdir / "error.log"), "-g", "daemon off;"]
    )
    try:
        wait_for_port(port)
        yield Nginx(workdir, port)
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass(frozen=True)
class Measured:
    """One child process: wall time (including the closing `sync`), CPU seconds, peak RSS."""

    wall: float
    cpu: float
    peak_rss: int  # bytes
    returncode: int
    stdout: str
    stderr: str


def run_measured(
    argv: Sequence[str], env: dict[str, str] | None = None, *, sync_after: bool = True
) -> Measured:
    """Run `argv` as a child under GNU time; the disk `sync` is in the wall time."""
    # Peak RSS comes from GNU time, not from our own wait4: Linux keeps a child's high-water mark
    # across exec, so a child forked from this (big) Python process would report our size.
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".time") as rss,
    ):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [GNU_TIME, "-q", "-f", "%M", "-o", rss.name, *argv], env=env, stdout=out, stderr=err
        )
        # wait4, not proc.wait(): it also returns the child's CPU time (and its children's)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if sync_after:
            subprocess.run(["sync"], check=True)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        peak_kib = int(rss.read().split()[-1])
    return Measured(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss=peak_kib * 1024,
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
    )


def write_random(path: Path, size: int, block: bytes | None = None) -> None:
    """A file of `size` bytes (incompressible); one reused random block keeps it fast."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = block or os.urandom(4 * 1024 * 1024)
    with open(path, "wb") as fh:
        left = size
        while left:
            chunk = block[: min(left, len(block))]
            fh.write(chunk)
            left -= len(chunk)


def tool_version(argv: Sequence[str]) -> str:
    """The first line a tool prints about its version, or 'not installed'."""
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        return "not installed"
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0] if text else "unknown"
