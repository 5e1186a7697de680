"""`congsync serve` put together: the WebDAV share, its accounts, certificate and access log.

What the server keeps lives in one folder beside the served one, `<root>.congsync-server/`
(never inside it, where it would be served): `users.toml`, `tls/cert.pem` + `tls/key.pem`,
and `access.log`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from daemon.errors import AccountsError, ConfigError
from daemon.i18n import fact
from daemon.server.accounts import AccountStore
from daemon.server.certificate import ensure_self_signed, fingerprint_of_pem
from daemon.server.gate import ACCESS_LOGGER, LoginBrake, ServeGate
from daemon.server.webdav import DavServer, TLSMaterial, WSGIApp

DEFAULT_PORT = 8443
BLOCK_SIZE = 256 * 1024


def server_dir(root: Path) -> Path:
    """Where `congsync serve` keeps what belongs to the share of `root`."""
    resolved = root.absolute()
    if not resolved.name:
        raise ConfigError(fact("congsync does not serve a whole disk; name a folder on it."))
    return resolved.parent / f"{resolved.name}.congsync-server"


def default_users_file(root: Path) -> Path:
    return server_dir(root) / "users.toml"


@dataclass
class ServeOptions:
    root: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    cert: Path | None = None
    key: Path | None = None
    users: Path | None = None
    threads: int = 16


class ServeServer:
    """A running (once started) `congsync serve`; `gate` holds the sign-in state."""

    def __init__(self, options: ServeOptions, brake: LoginBrake | None = None) -> None:
        root = options.root.absolute()
        if not root.is_dir():
            raise ConfigError(fact("The folder to serve does not exist: {path}", path=root))
        if (options.cert is None) != (options.key is None):
            raise ConfigError(fact("Give both --cert and --key, or neither."))
        here = server_dir(root)
        if options.cert is not None and options.key is not None:
            cert, key = options.cert, options.key
            for path in (cert, key):
                if not path.is_file():
                    raise ConfigError(fact("There is no file {path}.", path=path))
            self.self_signed = False
        else:
            cert, key = ensure_self_signed(here / "tls", options.host)
            self.self_signed = True
        self.fingerprint = fingerprint_of_pem(cert.read_bytes())
        self.users_file = options.users or default_users_file(root)
        for secret in (self.users_file, key):
            # Every account may read the whole served folder.
            if secret.absolute().resolve().is_relative_to(root.resolve()):
                raise ConfigError(
                    fact(
                        "{path} is inside the served folder, where every account could read it; "
                        "keep it outside {root}.",
                        path=secret,
                        root=root,
                    )
                )
        store = AccountStore(self.users_file)
        if not store.names():
            raise AccountsError(
                fact(
                    "No accounts in {path} yet, so nobody could sign in. Add one first: "
                    "congsync serve user add NAME --organizer --root {root}",
                    path=self.users_file,
                    root=root,
                )
            )
        self.access_log_path = here / "access.log"
        # A logger of its own per server, so two servers in one process keep separate logs.
        self._access = logging.getLogger(f"{ACCESS_LOGGER}.{id(self):x}")
        self._log_handler = _access_handler(self._access, self.access_log_path)
        self.gate: ServeGate | None = None

        def wrap(app: WSGIApp) -> WSGIApp:
            self.gate = ServeGate(app, store, brake, self._access)
            return self.gate

        self.dav = DavServer(
            root,
            TLSMaterial(cert_pem_path=cert, key_pem_path=key, ca_pem_path=cert),
            host=options.host,
            port=options.port,
            wsgi_wrapper=wrap,
            allow_remote=True,
            threads=options.threads,
            folder_etags="tree",
            # WsgiDAV's 8 KB default costs half the loopback throughput of 1 GB files.
            block_size=BLOCK_SIZE,
        )

    def __enter__(self) -> ServeServer:
        self.dav.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.dav.stop()
        self.close_log()

    def close_log(self) -> None:
        self._access.removeHandler(self._log_handler)
        self._log_handler.close()


def _access_handler(access: logging.Logger, path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    access.setLevel(logging.INFO)
    access.propagate = False
    access.addHandler(handler)
    return handler
