"""All benchmarks in one run, side by side against WsgiDAV and nginx; writes bench/RESULTS.md.

Usage: python bench/run_all.py [--quick] [--install] [--runs N] [--skip SECTION ... | --only SECTION ...]

--install apt-get installs nginx, libnginx-mod-http-dav-ext, rclone, curl and time when missing
(needs root; GNU time measures each client's peak RSS).
--quick shrinks every size (a check that everything runs, not figures to quote).

Both servers serve the same folder over TLS on 127.0.0.1 with one test CA: the embedded WsgiDAV
server (daemon.server.webdav, what the tests use, with Basic auth) and Debian's nginx with its
WebDAV modules (no auth). Clients: congsync (`congsync sync`, a member cycle into a fresh media
folder), `rclone copy` (Debian's rclone, default flags, a webdav remote from environment
variables, --ca-cert the test CA) and one `curl` process fetching every file in sequence over
one connection (a floor). Every client runs in its own process; its CPU seconds and peak RSS come
from wait4, and each timed run ends with `sync` (congsync fsyncs every file, the others do not).
Requests are counted on the server side: WsgiDAV through the tests' logging middleware, nginx
through its access log. All data lives in a temporary folder that is deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import benchlib
import organizer_latency
from benchlib import Measured, run_measured, write_random
from davserver import FaultController
from idle_poll import populate as populate_idle

from daemon.config import Config, Profile
from daemon.paths import Paths
from daemon.server.webdav import DavServer, TLSMaterial, make_tls

PASSWORD = "bench-password"
USER = "bench"
FOLDER = "congregation"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PACKAGES = ["nginx", "libnginx-mod-http-dav-ext", "rclone", "curl", "time"]
SECTIONS = ["cold", "idle", "latency", "memory", "scale"]
MB = 1_000_000


@dataclass
class Server:
    """One running server: its URL, whether it wants auth, and its request log."""

    name: str
    url: str
    auth: bool
    clear: Callable[[], None]
    hits: Callable[[], list[tuple[str, int]]]  # (method, response bytes) since clear()


@contextmanager
def servers(base: Path, root: Path, tls: TLSMaterial) -> Iterator[list[Server]]:
    """WsgiDAV and nginx, both serving `root` (whose FOLDER is the share) over TLS."""
    faults = FaultController()
    with (
        DavServer(root, tls, users={USER: PASSWORD}, wsgi_wrapper=faults.wrap) as dav,
        benchlib.running_nginx(base / "nginx", root, tls.cert_pem_path, tls.key_pem_path) as ngx,
    ):
        yield [
            Server(
                "WsgiDAV",
                dav.url,
                True,
                faults.clear,
                lambda: [(r.method, r.bytes_sent) for r in faults.requests],
            ),
            Server(
                "nginx",
                ngx.url,
                False,
                ngx.clear,
                lambda: [(h.method, h.bytes_sent) for h in ngx.hits()],
            ),
        ]


def settled_hits(server: Server) -> list[tuple[str, int]]:
    time.sleep(0.3)  # nginx logs a request when it ends; let the last line land
    return server.hits()


# --- the clients ---------------------------------------------------------------------------


def congsync_profile(base: Path, server: Server, tls: TLSMaterial, tag: str) -> Paths:
    paths = Paths(base / f"{tag}.toml", base / f"{tag}-state", base / f"{tag}-logs")
    Profile(paths=paths).save(
        Config(
            url=server.url,
            username=USER,
            folder=FOLDER,
            media_dir=base / f"{tag}-media",
            ca_bundle=tls.ca_pem_path,
        )
    )
    return paths


def congsync_env(paths: Paths) -> dict[str, str]:
    return dict(
        os.environ,
        CONGSYNC_CONFIG=str(paths.config_file),
        CONGSYNC_STATE_DIR=str(paths.state_dir),
        CONGSYNC_PASSWORD=PASSWORD,
        PYTHONPATH=str(REPO),
    )


def congsync_sync(paths: Paths) -> Measured:
    """`congsync sync --json`: the real CLI, one full member cycle."""
    return run_measured([sys.executable, "-m", "daemon", "sync", "--json"], congsync_env(paths))


def congsync_cycle(paths: Paths, *, idle: bool) -> Measured:
    argv = [
        sys.executable,
        str(HERE / "cycle.py"),
        *map(str, (paths.config_file, paths.state_dir, paths.log_dir)),
    ]
    return run_measured([*argv, "--idle"] if idle else argv, congsync_env(paths))


def rclone_env(base: Path, server: Server, tls: TLSMaterial) -> dict[str, str]:
    env = dict(
        os.environ,
        RCLONE_CONFIG=str(base / "rclone.conf"),  # never the user's own
        RCLONE_CONFIG_SRV_TYPE="webdav",
        RCLONE_CONFIG_SRV_URL=server.url,
        RCLONE_CONFIG_SRV_VENDOR="other",
        RCLONE_CA_CERT=str(tls.ca_pem_path),
    )
    if server.auth:
        obscured = subprocess.run(
            ["rclone", "obscure", PASSWORD], capture_output=True, text=True, check=True
        ).stdout.strip()
        env.update(RCLONE_CONFIG_SRV_USER=USER, RCLONE_CONFIG_SRV_PASS=obscured)
    return env


def rclone_copy(base: Path, server: Server, tls: TLSMaterial, dest: Path) -> Measured:
    return run_measured(
        ["rclone", "copy", f"srv:{FOLDER}", str(dest), "--ca-cert", str(tls.ca_pem_path)],
        rclone_env(base, server, tls),
    )


def curl_all(server: Server, tls: TLSMaterial, files: list[str], dest: Path) -> Measured:
    """One curl process, one connection, every file in sequence."""
    argv = ["curl", "-sS", "--fail", "--cacert", str(tls.ca_pem_path), "--create-dirs"]
    if server.auth:
        argv += ["-u", f"{USER}:{PASSWORD}"]
    for rel in files:
        argv += ["-o", str(dest / rel), f"{server.url}{FOLDER}/{rel}"]
    return run_measured(argv)


def tree_bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file() and ".congsync" not in p.parts]
    return len(files), sum(p.stat().st_size for p in files)


def checked(m: Measured, what: str) -> Measured:
    if m.returncode != 0:
        raise SystemExit(f"{what} failed ({m.returncode}): {m.stderr[-2000:]}")
    return m


# --- sections ------------------------------------------------------------------------------


@dataclass
class Row:
    server: str
    dataset: str
    client: str
    wall: float
    cpu: float
    rss: int
    nbytes: int
    nfiles: int


def cold_sync(base: Path, quick: bool, runs: int) -> list[Row]:
    root = base / "cold"
    share = root / FOLDER
    days = [(date.today() + timedelta(days=d)).isoformat() for d in (1, 3)]
    many_n, many_mb = (10, 20) if quick else (40, 200)
    one_mb = 100 if quick else 1000
    many = [f"Media/{days[i % 2]}/file-{i:02d}.mp4" for i in range(many_n)]
    big = f"Media/{days[0]}/big.mp4"
    sets = {f"{many_n} files / {many_mb} MB": many, f"1 file / {one_mb} MB": [big]}
    sizes = dict.fromkeys(many, many_mb * MB // many_n) | {big: one_mb * MB}
    block = os.urandom(4 * 1024 * 1024)
    rows: list[Row] = []
    tls = make_tls(base / "tls-cold")
    for label, files in sets.items():
        if share.exists():
            shutil.rmtree(share)
        for rel in files:
            write_random(share / rel, sizes[rel], block)
        subprocess.run(["sync"], check=True)
        expect = (len(files), sum(sizes[r] for r in files))
        with servers(base / "srv-cold", root, tls) as both:
            for server in both:
                for client in ("congsync", "rclone", "curl"):
                    walls: list[Measured] = []
                    for run in range(runs + 1):  # the first run warms caches and is dropped
                        dest = base / "dest"
                        if dest.exists():
                            shutil.rmtree(dest)
                        tag = f"cold-{server.name}-{run}"
                        if client == "congsync":
                            paths = congsync_profile(base / tag, server, tls, "c")
                            m = checked(congsync_sync(paths), "congsync sync")
                            got = tree_bytes(base / tag / "c-media")
                            shutil.rmtree(base / tag)
                        elif client == "rclone":
                            m = checked(rclone_copy(base, server, tls, dest), "rclone copy")
                            got = tree_bytes(dest)
                        else:
                            m = checked(curl_all(server, tls, files, dest), "curl")
                            got = tree_bytes(dest)
                        if got != expect:
                            raise SystemExit(f"{client} from {server.name}: {got} != {expect}")
                        if run:
                            walls.append(m)
                    best = sorted(walls, key=lambda m: m.wall)[len(walls) // 2]  # median run
                    rows.append(
                        Row(
                            server.name,
                            label,
                            client,
                            best.wall,
                            best.cpu,
                            best.peak_rss,
                            expect[1],
                            expect[0],
                        )
                    )
                    print(
                        f"cold {server.name:7} {label:20} {client:8} {best.wall:6.2f} s "
                        f"{best.cpu:6.2f} s CPU {best.peak_rss / 2**20:6.1f} MiB",
                        flush=True,
                    )
    shutil.rmtree(root)
    shutil.rmtree(base / "dest", ignore_errors=True)
    return rows


def idle_polls(base: Path) -> list[tuple[str, int, str, int, int]]:
    """(server, past folders, client, requests, response bytes) of one poll with nothing to do."""
    out = []
    for past in (1, 50):
        root = base / f"idle-{past}"
        (root / FOLDER).mkdir(parents=True)
        populate_idle(root / FOLDER, past)
        tls = make_tls(base / f"tls-idle-{past}")
        with servers(base / f"srv-idle-{past}", root, tls) as both:
            for server in both:
                paths = congsync_profile(base / f"idle-{past}-{server.name}", server, tls, "c")
                checked(congsync_cycle(paths, idle=False), "first cycle")
                checked(congsync_cycle(paths, idle=True), "warm-up poll")
                server.clear()
                checked(congsync_cycle(paths, idle=True), "idle poll")
                hits = settled_hits(server)
                out.append((server.name, past, "congsync", len(hits), sum(b for _m, b in hits)))
                dest = base / f"idle-{past}-{server.name}-rclone"
                checked(rclone_copy(base, server, tls, dest), "rclone copy")
                time.sleep(0.3)
                server.clear()
                checked(rclone_copy(base, server, tls, dest), "rclone copy (nothing to do)")
                hits = settled_hits(server)
                out.append((server.name, past, "rclone", len(hits), sum(b for _m, b in hits)))
                print(f"idle {server.name:7} {past:2} past: {out[-2][3:]} congsync, "
                      f"{out[-1][3:]} rclone", flush=True)  # fmt: skip
        shutil.rmtree(root)
    return out


def latency(quick: bool) -> list[tuple[int, str, float | None, float | None]]:
    """(interval, label, seconds to the server, seconds to the member) per drop (WsgiDAV)."""
    out = []
    intervals = [10] if quick else [Config.interval, 10]
    for interval in intervals:
        drops, _peak = organizer_latency.measure(interval, 1, 20 if quick else 200)
        for label, _size, up, down in drops:
            out.append((interval, label, up, down))
            print(f"latency {interval:3} s {label}: {up} / {down}", flush=True)
    return out


def memory(base: Path, quick: bool) -> list[tuple[str, int, float, int]]:
    """(server, bytes, wall, peak RSS) of congsync syncing one big file."""
    size = (200 if quick else 2000) * MB
    root = base / "mem"
    write_random(root / FOLDER / "Media" / (date.today() + timedelta(days=1)).isoformat()
                 / "huge.mp4", size)  # fmt: skip
    tls = make_tls(base / "tls-mem")
    out = []
    with servers(base / "srv-mem", root, tls) as both:
        for server in both:
            paths = congsync_profile(base / f"mem-{server.name}", server, tls, "c")
            m = checked(congsync_sync(paths), "congsync sync")
            out.append((server.name, size, m.wall, m.peak_rss))
            shutil.rmtree(base / f"mem-{server.name}")
            print(f"memory {server.name}: {m.peak_rss / 2**20:.1f} MiB", flush=True)
    shutil.rmtree(root)
    return out


@dataclass
class ScaleRow:
    server: str
    layout: str
    phase: str
    wall: float
    cpu: float
    rss: int
    requests: int
    nbytes: int
    downloaded: int


def scale(base: Path, quick: bool) -> list[ScaleRow]:
    today = date.today()
    files, folders, flat = (2000, 50, 500) if quick else (20_000, 500, 5_000)
    layouts = {
        f"{files} files in {folders} date folders": [
            f"Media/{(today + timedelta(days=d - folders // 2)).isoformat()}/f{i:03d}.jpg"
            for d in range(folders)
            for i in range(files // folders)
        ],
        f"{flat} files in one date folder": [
            f"Media/{(today + timedelta(days=1)).isoformat()}/f{i:05d}.jpg" for i in range(flat)
        ],
    }
    out = []
    for layout, rels in layouts.items():
        root = base / "scale"
        for rel in rels:
            (root / FOLDER / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / FOLDER / rel).write_bytes(rel.encode())
        hour_ago = time.time() - 3600
        for path in (root / FOLDER).rglob("*"):
            os.utime(path, (hour_ago, hour_ago))
        tls = make_tls(base / "tls-scale")
        with servers(base / "srv-scale", root, tls) as both:
            for server in both:
                paths = congsync_profile(base / f"scale-{server.name}", server, tls, "c")
                for phase in ("first cycle", "warm-up", "idle poll"):
                    server.clear()
                    m = checked(congsync_cycle(paths, idle=phase != "first cycle"), phase)
                    hits = settled_hits(server)
                    if phase == "warm-up":
                        continue
                    row = ScaleRow(
                        server.name,
                        layout,
                        phase,
                        m.wall,
                        m.cpu,
                        m.peak_rss,
                        len(hits),
                        sum(b for _m, b in hits),
                        json.loads(m.stdout)["downloaded"],
                    )
                    out.append(row)
                    print(f"scale {row}", flush=True)
                shutil.rmtree(base / f"scale-{server.name}")
        shutil.rmtree(root)
    return out


# --- the report ----------------------------------------------------------------------------


def machine_facts() -> list[tuple[str, str]]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        ram = next(
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram_text = f"{int(ram) / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        ram_text = "unknown"
    git = ["git", "-C", str(REPO)]
    commit = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    if commit and changed:
        commit += " (with uncommitted changes)"
    return [
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("RAM", ram_text),
        ("kernel", platform.release()),
        ("Python", platform.python_version()),
        ("nginx", benchlib.tool_version([benchlib.nginx_binary(), "-v"])),
        (
            "nginx dav-ext",
            benchlib.tool_version(
                ["dpkg-query", "-W", "-f=${Version}", "libnginx-mod-http-dav-ext"]
            ),
        ),
        ("rclone", benchlib.tool_version(["rclone", "version"])),
        ("curl", " ".join(benchlib.tool_version(["curl", "--version"]).split()[:2])),
        ("congsync commit", commit or "unknown"),
        ("date", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
    ]


def table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
    ]


def secs(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def report(args: argparse.Namespace, results: dict[str, object]) -> str:
    lines = [
        "# congsync benchmarks",
        "",
        f"Written by `python bench/run_all.py{' --quick' if args.quick else ''}`"
        f". Cold sync: the median of {args.runs} timed runs after one untimed warm-up run;"
        " every other figure is one run."
        " Servers over TLS on 127.0.0.1: WsgiDAV (embedded, Basic auth) and nginx with"
        " its WebDAV modules (no auth). Wall time includes the closing `sync`.",
        "",
        "## Machine",
        "",
        *table(["", ""], [[k, v] for k, v in machine_facts()]),
    ]
    if args.quick:
        lines[2:2] = ["**--quick run: shrunk sizes, figures not to be quoted.**", ""]
    cold = results.get("cold")
    if isinstance(cold, list):
        body = []
        for r in cold:
            ref = next(
                x
                for x in cold
                if x.server == r.server and x.dataset == r.dataset and x.client == "rclone"
            )
            body.append(
                [
                    r.server,
                    r.dataset,
                    r.client,
                    f"{r.wall:.2f} s",
                    f"{r.nbytes / r.wall / MB:.0f} MB/s",
                    f"{r.cpu:.2f} s",
                    f"{r.cpu / (r.nbytes / 1e9):.2f} s",
                    f"{r.rss / 2**20:.0f} MiB",
                    f"{r.wall / ref.wall:.2f}×",
                    f"{r.cpu / ref.cpu:.2f}×",
                ]
            )
        lines += [
            "## Cold sync",
            "",
            *table(
                [
                    "server",
                    "data",
                    "client",
                    "wall",
                    "throughput",
                    "CPU",
                    "CPU per GB",
                    "peak RSS",
                    "wall vs rclone",
                    "CPU vs rclone",
                ],
                body,
            ),
        ]
    idle = results.get("idle")
    if isinstance(idle, list):
        lines += [
            "## Idle poll (nothing changed on the server)",
            "",
            *table(
                ["server", "past date folders", "client", "requests", "response bytes"],
                [[s, str(p), c, str(n), str(b)] for s, p, c, n, b in idle],
            ),
        ]
    lat = results.get("latency")
    if isinstance(lat, list):
        lines += [
            "## Propagation organizer → member (WsgiDAV, both `congsync run` daemons)",
            "",
            *table(
                ["poll interval", "file", "on the server after", "at the member after"],
                [[f"{i} s", label, secs(up), secs(down)] for i, label, up, down in lat],
            ),
        ]
    mem = results.get("memory")
    if isinstance(mem, list):
        lines += [
            "## Memory: congsync syncing one large file",
            "",
            *table(
                ["server", "file", "wall", "peak RSS"],
                [
                    [s, f"{n / MB:.0f} MB", f"{w:.1f} s", f"{r / 2**20:.0f} MiB"]
                    for s, n, w, r in mem
                ],
            ),
        ]
    sc = results.get("scale")
    if isinstance(sc, list):
        lines += [
            "## Scale (tiny files; congsync downloads only the dates in its window)",
            "",
            *table(
                [
                    "server",
                    "layout",
                    "phase",
                    "wall",
                    "CPU",
                    "peak RSS",
                    "requests",
                    "response bytes",
                    "downloaded",
                ],
                [
                    [
                        r.server,
                        r.layout,
                        r.phase,
                        f"{r.wall:.2f} s",
                        f"{r.cpu:.2f} s",
                        f"{r.rss / 2**20:.0f} MiB",
                        str(r.requests),
                        str(r.nbytes),
                        str(r.downloaded),
                    ]
                    for r in sc
                ],
            ),
        ]
    lines += [
        "## Notes",
        "",
        "- congsync's wall time and CPU include starting Python and importing congsync"
        " (about 0.25 s on this machine); the running daemon pays that once, not per cycle.",
        "- Idle polls and scale phases run one `ProfileRoot.run_cycle` in its own process"
        " (bench/cycle.py; an idle poll is measured after one warm-up poll); requests and bytes"
        " are counted by the server. rclone's idle figure is a `rclone copy` with nothing to do.",
        "- Peak RSS comes from GNU time, CPU seconds (user + sys) from wait4 of the client.",
        "- Propagation runs against WsgiDAV only; the server's own CPU is not measured.",
        "",
    ]
    skipped = [s for s in SECTIONS if s not in results]
    if skipped:
        lines += [f"Not run this time: {', '.join(skipped)}.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, one run")
    parser.add_argument("--install", action="store_true", help="apt-get the missing tools")
    parser.add_argument("--runs", type=int, default=None, help="timed runs per cold sync")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--skip", nargs="*", default=[], choices=SECTIONS)
    which.add_argument("--only", nargs="+", choices=SECTIONS, help="run these sections alone")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    args.runs = args.runs or (1 if args.quick else 3)
    if args.only:
        args.skip = [s for s in SECTIONS if s not in args.only]
    if args.install:
        benchlib.install_packages(PACKAGES)
    for tool in ("rclone", "curl"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (try --install)")
    benchlib.nginx_binary()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="congsync-bench-") as tmp:
        base = Path(tmp)
        # An installed congsync has its bytecode compiled; without this, a shell that sets
        # PYTHONDONTWRITEBYTECODE makes every congsync process compile its modules again
        # (about 0.1 s a start). The cache lives in the temp dir and goes with it.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
        free = shutil.disk_usage(base).free
        if free < (1 if args.quick else 8) * 10**9:
            raise SystemExit(f"only {free / 1e9:.1f} GB free under {base}")
        work: dict[str, Callable[[], object]] = {
            "cold": lambda: cold_sync(base, args.quick, args.runs),
            "idle": lambda: idle_polls(base),
            "latency": lambda: latency(args.quick),
            "memory": lambda: memory(base, args.quick),
            "scale": lambda: scale(base, args.quick),
        }
        for name, step in work.items():
            if name not in args.skip:
                results[name] = step()
                args.output.write_text(report(args, results))  # partial results survive
    text = report(args, results)
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
