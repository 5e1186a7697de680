"""An embedded WebDAV server over HTTPS (WsgiDAV on cheroot) for `demo`, `serve` and the tests."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import logging
import os
import socket
import ssl
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import trustme
from cheroot.ssl.builtin import BuiltinSSLAdapter
from cheroot.wsgi import Server as CherootWSGIServer
from wsgidav.dc.simple_dc import SimpleDomainController
from wsgidav.error_printer import ErrorPrinter
from wsgidav.fs_dav_provider import FileResource, FilesystemProvider, FolderResource
from wsgidav.http_authenticator import HTTPAuthenticator
from wsgidav.mw.base_mw import BaseMiddleware
from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

from daemon.errors import ConfigError
from daemon.i18n import fact

__all__ = ["DavServer", "TLSMaterial", "WSGIApp", "make_tls"]

WSGIApp = WSGIApplication

_log = logging.getLogger(__name__)

# How long stop() waits for cheroot before giving up on it (its threads are daemons).
_STOP_BUDGET_SECONDS = 1.5


@dataclass(frozen=True)
class TLSMaterial:
    """PEM files of a server certificate (with its chain), its key, and the CA that issued it."""

    cert_pem_path: Path
    key_pem_path: Path
    ca_pem_path: Path

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this CA (verification stays on)."""
        return ssl.create_default_context(cafile=str(self.ca_pem_path))


def make_tls(directory: Path, hostnames: Iterable[str] = ("127.0.0.1", "localhost")) -> TLSMaterial:
    """Create a throwaway CA and a server certificate for `hostnames`, written as PEM files."""
    names = tuple(hostnames)
    if not names:
        raise ValueError("make_tls needs at least one hostname")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca = trustme.CA(organization_name="congsync throwaway CA")
    leaf = ca.issue_cert(*names, organization_name="congsync embedded server")
    material = TLSMaterial(
        cert_pem_path=directory / "server-cert.pem",
        key_pem_path=directory / "server-key.pem",
        ca_pem_path=directory / "ca.pem",
    )
    # The leaf first, then any intermediates, so clients can build the chain.
    material.cert_pem_path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    write_private(material.key_pem_path, leaf.private_key_pem.bytes())
    material.ca_pem_path.write_bytes(ca.cert_pem.bytes())
    return material


def write_private(path: Path, data: bytes) -> None:
    """Write a secret readable by the owner only (mode 0600 from the first byte on)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    path.chmod(0o600)  # the file may have existed with wider permissions


def is_loopback_host(host: str) -> bool:
    """Whether `host` names this machine only (a loopback address or `localhost`)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _PreciseFileResource(FileResource):  # type: ignore[misc]
    """A file whose ETag changes whenever its bytes may have changed.

    Stock WsgiDAV builds the ETag from inode, whole-second mtime and size, so a PUT that
    rewrites a file in place with the same size within one second keeps the old ETag. Real
    servers (Apache: microseconds) do better, and tests rewrite files quickly.
    """

    def get_etag(self) -> str:
        st = self.file_stat
        return f"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"


def _tree_etag(folder: str, own: os.stat_result) -> str:
    """A short hash that changes whenever anything below `folder` changes, at any depth.

    It covers the relative path, size, mtime (in nanoseconds) and inode of the folder itself
    (`own` is its stat) and of every file and folder below it, so adding, removing, renaming
    or rewriting a file anywhere changes it. Symlinks and special files are left out, as
    WebDAV never shows them. Entries that vanish during the walk are skipped, not fatal.
    """
    entries: list[tuple[bytes, int, int, int]] = [(b"", own.st_size, own.st_mtime_ns, own.st_ino)]
    pending: list[tuple[str, str]] = [(folder, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as listing:
                for entry in listing:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:  # removed meanwhile
                        continue
                    relative = prefix + entry.name
                    if stat.S_ISDIR(st.st_mode):
                        pending.append((entry.path, relative + "/"))
                    elif not stat.S_ISREG(st.st_mode):
                        continue
                    entries.append((os.fsencode(relative), st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:  # removed meanwhile, or unreadable: its own entry still counts
            continue
    digest = hashlib.blake2b(digest_size=10)
    for name, size, mtime_ns, inode in sorted(entries):
        # NUL never occurs in a path, so the fields cannot run into each other.
        digest.update(b"%s\0%d\0%d\0%d\n" % (name, size, mtime_ns, inode))
    return digest.hexdigest()


class _PropagatingFolderResource(FolderResource):  # type: ignore[misc]
    """A folder with an ETag that changes whenever anything below it changes.

    Nextcloud and ownCloud give folders such ETags, so a client can tell from a folder's ETag
    alone whether it needs to look inside. Stock WsgiDAV gives folders no ETag at all. The
    tree is walked once per resource instance, i.e. at most once per folder and request.
    """

    def __init__(self, path: str, environ: dict[str, Any], file_path: str) -> None:
        super().__init__(path, environ, file_path)
        self._tree_etag: str | None = None

    def get_etag(self) -> str:
        if self._tree_etag is None:
            self._tree_etag = _tree_etag(self._file_path, self.file_stat)
        return self._tree_etag

    def support_etag(self) -> bool:
        return True


class _DirectFolderResource(FolderResource):  # type: ignore[misc]
    """A folder whose ETag is made from its own inode, size and mtime, as Apache's mod_dav_fs does.

    It moves only when a direct entry is added, removed or renamed (the folder's own mtime
    changes then), never for changes further down, nor for a file rewritten in place.
    """

    def get_etag(self) -> str:
        st = self.file_stat
        return f"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"

    def support_etag(self) -> bool:
        return True


# How folders get ETags: none (stock WsgiDAV), from the folder itself (Apache, lighttpd), or
# from everything below it (Nextcloud, ownCloud).
FOLDER_ETAGS = (None, "direct", "tree")
_FOLDER_RESOURCES: dict[str, type[FolderResource]] = {
    "direct": _DirectFolderResource,
    "tree": _PropagatingFolderResource,
}


class _Provider(FilesystemProvider):  # type: ignore[misc]
    """WsgiDAV's filesystem provider with precise file ETags and, optionally, folder ETags."""

    def __init__(
        self,
        root_folder: str,
        *,
        readonly: bool,
        fs_opts: dict[str, Any],
        folder_etags: str | None = None,
    ) -> None:
        super().__init__(root_folder, readonly=readonly, fs_opts=fs_opts)
        if folder_etags not in FOLDER_ETAGS:
            raise ValueError(f"folder_etags must be one of {FOLDER_ETAGS}")
        self.folder_resource = _FOLDER_RESOURCES.get(folder_etags or "")

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        res = super().get_resource_inst(path, environ)
        if isinstance(res, FileResource) and not isinstance(res, _PreciseFileResource):
            return _PreciseFileResource(path, environ, res._file_path)
        wanted = self.folder_resource
        if wanted is not None and isinstance(res, FolderResource) and not isinstance(res, wanted):
            return wanted(path, environ, res._file_path)
        return res


class _DomainController(SimpleDomainController):  # type: ignore[misc]
    """Basic-auth check against the configured users, compared in constant time."""

    def basic_auth_user(
        self, realm: str, user_name: str, password: str, environ: dict[str, Any]
    ) -> bool:
        user = self._get_realm_entry(realm, user_name)
        if not isinstance(user, dict):
            return False
        expected = str(user.get("password", ""))
        if hmac.compare_digest(password.encode("utf-8"), expected.encode("utf-8")):
            environ["wsgidav.auth.roles"] = user.get("roles", [])
            return True
        return False

    def supports_http_digest_auth(self) -> bool:
        return False


_FINITE_DEPTH_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>\n'
)


class _FiniteDepthGuard(BaseMiddleware):  # type: ignore[misc]
    """Refuse PROPFIND with `Depth: infinity` or no Depth header, as Apache and nginx do.

    WsgiDAV would answer such a request with the whole tree (RFC 4918 makes a missing Depth
    mean infinity); real servers refuse it, so ours does too, after authentication.
    """

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "PROPFIND":
            depth = str(environ.get("HTTP_DEPTH", "infinity")).strip().lower()
            if depth == "infinity":
                start_response(
                    "403 Forbidden",
                    [
                        ("Content-Type", 'application/xml; charset="utf-8"'),
                        ("Content-Length", str(len(_FINITE_DEPTH_BODY))),
                    ],
                )
                return [_FINITE_DEPTH_BODY]
        result: Iterable[bytes] = self.next_app(environ, start_response)
        return result


class _HandshakeTimeoutAdapter(BuiltinSSLAdapter):
    """cheroot's TLS adapter with a short handshake timeout that stop() can cut short.

    cheroot performs the handshake in its accept loop, so a client that connects and says
    nothing would stall every other client, and shutdown, for the whole timeout.
    """

    handshake_timeout: float = 3.0

    def __init__(self, certificate: str, private_key: str) -> None:
        super().__init__(certificate, private_key)
        # File descriptors, not socket objects: wrap_socket() detaches the object it is given.
        self._pending: set[int] = set()
        self._pending_lock = threading.Lock()

    def wrap(self, sock: socket.socket) -> Any:
        sock.settimeout(self.handshake_timeout)
        fd = sock.fileno()
        with self._pending_lock:
            self._pending.add(fd)
        try:
            return super().wrap(sock)  # type: ignore[no-untyped-call]
        finally:
            with self._pending_lock:
                self._pending.discard(fd)

    def abort_handshakes(self) -> None:
        """Fail every handshake in progress now (those clients see the connection close)."""
        with self._pending_lock:  # held throughout, so no descriptor is reused meanwhile
            for fd in self._pending:
                with contextlib.suppress(OSError):
                    borrowed = socket.socket(fileno=fd)
                    try:
                        borrowed.shutdown(socket.SHUT_RDWR)
                    finally:
                        borrowed.detach()  # the descriptor still belongs to cheroot


class _CherootServer(CherootWSGIServer):
    """cheroot's WSGI server, reporting through `logging` instead of writing to stderr."""

    def error_log(self, msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
        # cheroot reports dropped clients and TLS noise at INFO; that is debug detail for us.
        effective = logging.DEBUG if level < logging.WARNING else level
        _log.log(effective, "%s", msg, exc_info=traceback)


class DavServer:
    """A WebDAV share of `root` over HTTPS on loopback, run in a background thread.

    `users` maps user names to passwords for HTTP Basic auth; without users the share is
    open to anyone (read and write). `wsgi_wrapper` wraps the WebDAV application, e.g. in
    fault-injecting middleware for tests. Non-loopback addresses are refused unless
    `allow_remote` is set. `folder_etags` says how folders get ETags: "tree" makes one that
    changes whenever anything below changes, as on Nextcloud and ownCloud; "direct" one that
    changes only when a direct entry comes, goes or is renamed, as on Apache; None gives them
    none, as on stock WsgiDAV.
    """

    def __init__(
        self,
        root: Path,
        tls: TLSMaterial,
        users: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        wsgi_wrapper: Callable[[WSGIApp], WSGIApp] | None = None,
        *,
        allow_remote: bool = False,
        allow_infinite_propfind: bool = False,
        threads: int = 10,
        socket_timeout: float = 10.0,
        handshake_timeout: float = 3.0,
        folder_etags: str | None = None,
        block_size: int | None = None,
    ) -> None:
        if not allow_remote and not is_loopback_host(host):
            raise ConfigError(
                fact(
                    "The built-in server only listens on this computer (127.0.0.1), "
                    "not on {host}. Allow remote access explicitly to serve other computers.",
                    host=host,
                )
            )
        if not root.is_dir():
            raise ConfigError(fact("The folder to serve does not exist: {path}", path=root))
        self._root = root
        self._tls = tls
        self._host = host.strip("[]")
        self._requested_port = port
        self._app = self._build_app(
            root,
            tls,
            users or {},
            allow_infinite_propfind,
            folder_etags=folder_etags,
            block_size=block_size,
        )
        if wsgi_wrapper is not None:
            self._app = wsgi_wrapper(self._app)
        self._threads = threads
        self._socket_timeout = socket_timeout
        self._handshake_timeout = handshake_timeout
        self._server: _CherootServer | None = None
        self._adapter: _HandshakeTimeoutAdapter | None = None
        self._thread: threading.Thread | None = None
        self._bound_port: int | None = None
        self._stopped = False
        self._lock = threading.Lock()

    @staticmethod
    def _build_app(
        root: Path,
        tls: TLSMaterial,
        users: Mapping[str, str],
        allow_infinite: bool,
        *,
        folder_etags: str | None = None,
        block_size: int | None = None,
    ) -> WSGIApp:
        # WsgiDAV's logger would otherwise print every request on stdout.
        logging.getLogger("wsgidav").setLevel(logging.WARNING)
        user_mapping: dict[str, Any] = (
            {"*": {name: {"password": password} for name, password in users.items()}}
            if users
            else {"*": True}
        )
        stack: list[Any] = [ErrorPrinter, HTTPAuthenticator]
        if not allow_infinite:
            stack.append(_FiniteDepthGuard)
        stack.append(RequestResolver)  # must stay last
        provider = _Provider(
            str(root),
            readonly=False,
            fs_opts={"follow_symlinks": False},
            folder_etags=folder_etags,
        )
        config: dict[str, Any] = {
            "provider_mapping": {"/": provider},
            "simple_dc": {"user_mapping": user_mapping},
            "http_authenticator": {
                "domain_controller": _DomainController,
                "accept_basic": True,
                "accept_digest": False,
                "default_to_digest": False,
            },
            # Only tells WsgiDAV that Basic auth travels over TLS (it warns otherwise).
            "ssl_certificate": str(tls.cert_pem_path),
            "middleware_stack": stack,  # no HTML directory browser, no CORS
            "lock_storage": True,  # in memory
            "property_manager": True,  # in memory, so PROPPATCH of dead properties works
            "verbose": 2,
            "logging": {"enable": False},
            "suppress_version_info": True,
            "dir_browser": {"enable": False},
        }
        if block_size is not None:  # how much of a file each GET reads and writes at once
            config["block_size"] = block_size
        app: WSGIApp = WsgiDAVApp(config)
        return app

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Bind, then serve in a daemon thread; connections are accepted when this returns."""
        with self._lock:
            if self._server is not None:
                raise RuntimeError("DavServer.start() called twice")
            adapter = _HandshakeTimeoutAdapter(
                str(self._tls.cert_pem_path), str(self._tls.key_pem_path)
            )
            adapter.handshake_timeout = self._handshake_timeout
            server = _CherootServer(
                (self._host, self._requested_port),
                self._app,
                numthreads=self._threads,
                server_name="congsync",
                timeout=self._socket_timeout,  # type: ignore[arg-type]  # stub says int
                shutdown_timeout=1,
            )
            server.ssl_adapter = adapter
            server.expiration_interval = 0.25  # how often the accept loop notices stop()
            server.prepare()  # binds and listens here, so errors surface in the caller
            self._bound_port = int(server.bind_addr[1])
            thread = threading.Thread(
                target=self._serve, args=(server,), name="congsync-dav-server", daemon=True
            )
            self._server = server
            self._adapter = adapter
            self._thread = thread
            thread.start()
        _log.debug("WebDAV server serving %s at %s", self._root, self.url)

    @staticmethod
    def _serve(server: _CherootServer) -> None:
        try:
            server.serve()
        except Exception:  # noqa: BLE001  # a thread's last word: log it rather than lose it
            _log.exception("The embedded WebDAV server stopped unexpectedly")

    def stop(self) -> None:
        """Stop serving within about 1.5 seconds, even if clients keep connections open."""
        with self._lock:
            server, thread = self._server, self._thread
            if server is None or self._stopped:
                return
            self._stopped = True
        deadline = time.monotonic() + _STOP_BUDGET_SECONDS
        stopper = threading.Thread(target=server.stop, name="congsync-dav-server-stop", daemon=True)
        stopper.start()
        adapter = self._adapter
        while stopper.is_alive() and time.monotonic() < deadline:
            # A client stuck in the TLS handshake holds cheroot's accept loop; cut it loose.
            if adapter is not None:
                adapter.abort_handshakes()
            # The accept loop notices stop() only when select() returns; make it return now.
            self._poke()
            stopper.join(0.05)
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
        if stopper.is_alive():
            _log.debug("WebDAV server still finishing requests in the background")

    def _poke(self) -> None:
        host = self._host
        if host in ("0.0.0.0", ""):  # noqa: S104  # the wildcard is reached through loopback
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        with contextlib.suppress(OSError):
            socket.create_connection((host, self.port), timeout=0.2).close()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stopped

    def serve_forever_until(self, stop_event: threading.Event, poll_seconds: float = 0.5) -> None:
        """Serve until `stop_event` is set (or the server thread dies), then stop."""
        if self._server is None:
            self.start()
        try:
            while not stop_event.wait(poll_seconds):
                if not self.running:
                    break
        finally:
            self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port actually bound (known once started)."""
        if self._bound_port is None:
            raise RuntimeError("DavServer is not started")
        return self._bound_port

    @property
    def host(self) -> str:
        return self._host

    @property
    def url(self) -> str:
        """The share's base URL, e.g. `https://127.0.0.1:8443/`."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"https://{host}:{self.port}/"

    @property
    def root(self) -> Path:
        return self._root

    @property
    def tls(self) -> TLSMaterial:
        return self._tls
