"""The test WebDAV server in its own process, so a test can kill it with SIGKILL mid-transfer.

Usage: python server_child.py ROOT TLS_DIR PORT USER PASSWORD [GET_RATE PUT_RATE]
(rates in bytes per second, 0 for full speed). Prints "ready" once it listens, then serves
until killed. PYTHONPATH must hold tests/ (for davserver).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from davserver import FaultController

from daemon.server.webdav import DavServer, TLSMaterial


def main() -> None:
    root, tls_dir, port, user, password = sys.argv[1:6]
    get_rate, put_rate = (int(r) for r in (sys.argv[6:8] or ["0", "0"]))
    tls = Path(tls_dir)
    material = TLSMaterial(
        cert_pem_path=tls / "server-cert.pem",
        key_pem_path=tls / "server-key.pem",
        ca_pem_path=tls / "ca.pem",
    )
    faults = FaultController()
    if get_rate:
        faults.slow_get(get_rate)
    if put_rate:
        faults.slow_put(put_rate)
    server = DavServer(
        Path(root), material, users={user: password}, port=int(port), wsgi_wrapper=faults.wrap
    )
    server.start()
    print("ready", flush=True)
    threading.Event().wait()  # until killed


if __name__ == "__main__":
    main()
