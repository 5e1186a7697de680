"""The WebDAV client: addressing, requests, error mapping, listings, transfers and writes.

Built on webdav4's client (its httpx client and its multistatus parser); requests that need
headers or a Depth header go through the httpx client directly, because webdav4's helpers hide
response headers and send PROPFIND without Depth (which servers treat as infinity).

Above this module, a remote path is a tuple of decoded names relative to the congregation
folder, e.g. ("Media", "2026-11-24", "talk.mp4"); nothing above it builds URLs or parses XML.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import ssl
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import certifi
import httpx
from webdav4.client import Client as WebDAVClient
from webdav4.multistatus import MultiStatusResponse

from daemon.dav.capabilities import Capabilities
from daemon.dav.entries import (
    Expect,
    Listing,
    RemoteEntry,
    RemotePath,
    is_strong_etag,
    normalise_etag,
    parse_http_date,
)
from daemon.dav.fetch import Answer, Fetcher, FetchFailed, basic_auth, uses_proxy
from daemon.dav.pinning import pinned_context
from daemon.dav.retry import (
    RetryPolicy,
    is_transient,
    parse_retry_after,
    refused_before_acting,
    with_retries,
)
from daemon.dav.throttle import PROCESS_THROTTLE, Throttle
from daemon.errors import (
    AuthError,
    Cancelled,
    CongsyncError,
    HostileResponse,
    LocalDiskError,
    NetworkError,
    NotFound,
    NotWebDAV,
    PreconditionFailed,
    RateLimited,
    ServerError,
    TLSError,
)
from daemon.i18n import _

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
USER_AGENT = "congsync/0.1"
PROPFIND_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop>'
    "<d:resourcetype/><d:getcontentlength/><d:getetag/><d:getlastmodified/>"
    "</d:prop></d:propfind>"
)
MAX_LISTING_BYTES = 32 * 1024 * 1024  # a congregation folder listing is a few KB; more is hostile


def _ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    # Verification is never switched off; an extra CA is trusted in addition to the system's.
    context = ssl.create_default_context()
    # certifi (an httpx dependency) fills in on machines whose own root store is thin
    context.load_verify_locations(cafile=certifi.where())
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            raise TLSError(
                _("The CA bundle {path} cannot be used: {reason}.").format(
                    path=ca_bundle, reason=exc
                )
            ) from exc
    return context


def _describe_transport_error(exc: httpx.TransportError, host: str) -> CongsyncError:
    return _describe_failure(
        exc,
        host,
        timed_out=isinstance(exc, httpx.TimeoutException),
        connecting=isinstance(exc, httpx.ConnectError),
    )


def _describe_fetch_failure(exc: FetchFailed, host: str) -> CongsyncError:
    """The same messages for a download's GET on http.client (daemon.dav.fetch)."""
    return _describe_failure(
        exc.cause, host, timed_out=isinstance(exc.cause, TimeoutError), connecting=exc.connecting
    )


def _describe_failure(
    exc: BaseException, host: str, *, timed_out: bool, connecting: bool
) -> CongsyncError:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return TLSError(
                _(
                    "The server {host} presented a certificate that cannot be trusted ({reason}). "
                    "If it is a self-hosted server, give its CA with --ca-bundle."
                ).format(host=host, reason=cause.verify_message or cause.reason)
            )
        if isinstance(cause, ssl.SSLError):
            return TLSError(
                _("The secure connection to {host} failed: {reason}.").format(
                    host=host, reason=cause.reason or cause
                )
            )
        cause = cause.__cause__ or cause.__context__
    if timed_out:
        return NetworkError(_("The server {host} did not answer in time.").format(host=host))
    if connecting:
        return NetworkError(
            _("The server {host} cannot be reached ({reason}).").format(host=host, reason=exc)
        )
    return NetworkError(
        _("The connection to {host} was interrupted ({reason}).").format(host=host, reason=exc)
    )


def server_reachable(url: str, timeout: float = 3.0) -> bool:
    """A cheap TCP connect to the server (no request, no credentials): is the network back?"""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


class DavClient:
    """A connection to one congregation folder on one WebDAV server."""

    def __init__(
        self,
        url: str,
        folder: str,
        username: str,
        password: str,
        *,
        ca_bundle: Path | None = None,
        pin_sha256: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        capabilities: dict[str, Any] | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https":
            # config validates this too; the check here keeps the rule whoever calls us
            raise NotWebDAV(_("congsync only talks to servers over https://."))
        self.host = parts.netloc
        base_path = parts.path.rstrip("/")
        folder_segments = [s for s in folder.strip("/").split("/") if s]
        if any(s in (".", "..") for s in folder_segments):
            raise NotFound(_("The folder path must not contain “.” or “..”."), 404)
        self._root_path = "/".join([base_path, *(quote(s, safe="") for s in folder_segments)])
        # Decoded path prefix every href in a listing must live under.
        self._root_decoded = unquote(self._root_path).rstrip("/")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self.retry = retry or RetryPolicy()
        # The bandwidth limit, shared by every transfer of the process (set by the sync shell).
        self.throttle = PROCESS_THROTTLE if throttle is None else throttle
        # Which server and folder this is: what learned capabilities and caches are keyed by.
        self.identity = f"{self._origin}{self._root_path}/"
        # What this server proved before (Capabilities.to_json()); another server's is ignored.
        self.capabilities = Capabilities.from_json(capabilities, self.identity)
        context = (
            _ssl_context(ca_bundle)
            if pin_sha256 is None
            else pinned_context(parts.hostname or "", parts.port or 443, pin_sha256)
        )
        self._webdav = WebDAVClient(
            self._origin,
            auth=(username, password),
            verify=context,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
            retry=False,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        )
        self.http: httpx.Client = self._webdav.http
        # Download bodies on http.client (a third of httpx's CPU per byte), unless via a proxy.
        self._fetcher = (
            None
            if uses_proxy(parts.hostname or "")
            else Fetcher(
                parts.hostname or "",
                parts.port or 443,
                context,
                timeout=timeout,
                connect_timeout=min(timeout, 15.0),
                headers={
                    "User-Agent": USER_AGENT,
                    "Authorization": basic_auth(username, password),
                },
            )
        )

    def close(self) -> None:
        self.http.close()
        if self._fetcher is not None:
            self._fetcher.close()

    def __enter__(self) -> DavClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- addressing -------------------------------------------------------------------------

    def url_for(self, path: RemotePath, collection: bool = False) -> str:
        for name in path:
            if name in ("", ".", "..") or "/" in name:
                raise HostileResponse(
                    _("Refusing the unsafe remote name “{name}”.").format(name=name)
                )
        # quote() encodes # and ? too, which webdav4's own path handling cannot
        suffix = "".join("/" + quote(name, safe="") for name in path)
        return f"{self._origin}{self._root_path}{suffix}{'/' if collection else ''}"

    def _relative(self, href: str) -> RemotePath | None:
        """Decode an href to a path under the congregation folder; None if it points elsewhere."""
        parts = urlsplit(href.strip())
        other_origin = f"{parts.scheme}://{parts.netloc}".lower() != self._origin.lower()
        if (parts.scheme or parts.netloc) and other_origin:
            return None
        decoded = unquote(parts.path)
        if decoded.rstrip("/") == self._root_decoded:
            return ()
        prefix = self._root_decoded + "/"
        if not decoded.startswith(prefix):
            return None
        rest = decoded[len(prefix) :].rstrip("/")
        segments = tuple(rest.split("/"))
        if any(s in ("", ".", "..") for s in segments):
            return None
        return segments

    # -- requests ---------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        content: Any = None,
        stream: bool = False,
    ) -> httpx.Response:
        request = self.http.build_request(method, url, headers=headers, content=content)
        try:
            return self.http.send(request, stream=stream)
        except httpx.TransportError as exc:
            raise _describe_transport_error(exc, self.host) from exc

    @contextmanager
    def _get_body(self, url: str, headers: dict[str, str]) -> Iterator[Answer]:
        """A GET whose body the caller streams: through the fetcher, or httpx behind a proxy.
        Transport failures, also while the body is read, become CongsyncErrors."""
        if self._fetcher is None:
            response = self._send("GET", url, headers=headers, stream=True)
            try:
                yield Answer(
                    response.status_code,
                    response.headers,
                    lambda n: _iter_body(response, self.host, n),
                )
            finally:
                response.close()
            return
        try:
            with self._fetcher.get(url[len(self._origin) :], headers) as answer:
                yield answer
        except FetchFailed as exc:
            raise _describe_fetch_failure(exc, self.host) from exc

    def _check(self, response: httpx.Response | Answer, what: str, ok: tuple[int, ...]) -> None:
        status = response.status_code
        if status in ok:
            return
        if status == 401:
            raise AuthError(
                _(
                    "The server {host} refused the username or password. Check them and run "
                    "“congsync setup” again."
                ).format(host=self.host)
            )
        if status == 404:
            raise NotFound(_("{what} does not exist on the server.").format(what=what), status)
        if status == 412:
            raise PreconditionFailed(
                _("{what} was changed on the server by someone else meanwhile.").format(what=what)
            )
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429:
                message = _("The server {host} asks congsync to slow down (429).")
            else:
                message = _("The server {host} is temporarily unavailable (503).")
            raise RateLimited(message.format(host=self.host), status, retry_after)
        if status == 403:
            raise ServerError(
                _("The server refused access to {what} (403 Forbidden).").format(what=what), status
            )
        if status in (405, 501) or 300 <= status < 400:
            raise NotWebDAV(
                _(
                    "The server at {host} does not accept WebDAV requests for {what} ({status}). "
                    "Check the server address: it must be the WebDAV address."
                ).format(host=self.host, what=what, status=status),
                status,
            )
        if status == 507:
            raise ServerError(_("The server has no space left (507)."), status)
        raise ServerError(
            _("The server answered {status} for {what}.").format(status=status, what=what), status
        )

    # -- listings ---------------------------------------------------------------------------

    def list(self, path: RemotePath, cancel: threading.Event | None = None) -> Listing:
        """Depth-1 listing of one collection (never Depth infinity, never without Depth)."""
        return with_retries(lambda: self._propfind(path, 1), self.retry, cancel, "listing")

    def stat(self, path: RemotePath, cancel: threading.Event | None = None) -> RemoteEntry:
        """Depth-0 PROPFIND of one resource."""
        listing = with_retries(lambda: self._propfind(path, 0), self.retry, cancel, "stat")
        return listing.collection

    def stat_or_none(
        self, path: RemotePath, cancel: threading.Event | None = None
    ) -> RemoteEntry | None:
        """Depth-0 PROPFIND of one resource; None when it does not exist."""
        try:
            return self.stat(path, cancel)
        except NotFound:
            return None

    def _propfind(self, path: RemotePath, depth: int) -> Listing:
        what = "/".join(path) or _("the congregation folder")
        url = self.url_for(path, collection=depth == 1)
        response = self._send(
            "PROPFIND",
            url,
            headers={"Depth": str(depth), "Content-Type": "application/xml; charset=utf-8"},
            content=PROPFIND_BODY,
            stream=True,
        )
        try:
            if response.status_code == 200:
                # An ordinary web page where a WebDAV listing should be.
                raise NotWebDAV(
                    _(
                        "The address {host} answers like a web page, not a WebDAV server. Check the "
                        "server address: it must be the WebDAV address (often ending in /dav/ or "
                        "/remote.php/dav/files/USER/)."
                    ).format(host=self.host),
                    200,
                )
            self._check(response, what, (207,))
            body = _read_limited(response, MAX_LISTING_BYTES, self.host)
        finally:
            response.close()
        listing = self._parse_listing(path, body, depth)
        return replace(listing, server_date=parse_http_date(response.headers.get("Date")))

    def _parse_listing(self, path: RemotePath, body: bytes, depth: int) -> Listing:
        try:
            multistatus = MultiStatusResponse(body.decode("utf-8", errors="replace"))
        except (ET.ParseError, AssertionError, ValueError) as exc:
            raise HostileResponse(
                _("The server sent a listing that is not valid WebDAV XML ({reason}).").format(
                    reason=exc
                )
            ) from exc
        collection: RemoteEntry | None = None
        children: list[RemoteEntry] = []
        warnings: list[str] = []
        for response in multistatus.responses.values():
            rel = self._relative(response.href)
            if rel is None:
                warnings.append(
                    _("Ignored a listing entry that points outside the folder: {href}").format(
                        href=response.href[:200]
                    )
                )
                continue
            entry = _entry_from(rel, response)
            if entry is None:
                continue  # a propstat without 200 (e.g. 404 for each property): nothing to use
            if rel == path:
                collection = entry
            elif depth == 1 and rel[:-1] == path:
                children.append(entry)
            else:
                warnings.append(
                    _("Ignored a listing entry that is not a direct child: {href}").format(
                        href=response.href[:200]
                    )
                )
        if collection is None:
            if depth == 0 and len(children) == 0 and not warnings:
                raise HostileResponse(
                    _("The server's answer did not describe the resource asked for.")
                )
            # Some servers omit the collection itself; synthesise it so callers need not care.
            collection = RemoteEntry(path=path, is_dir=True, size=None, etag=None, modified=None)
        children.sort(key=lambda e: e.path)
        return Listing(collection=collection, children=tuple(children), warnings=tuple(warnings))

    # -- downloads --------------------------------------------------------------------------

    def download(
        self,
        entry: RemoteEntry,
        partial: Path,
        *,
        cancel: threading.Event | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> int:
        """Download `entry` into `partial`, resuming what is there, and prove it is that version.

        Returns the size of the complete file. `partial` is only ever appended to or truncated;
        the caller renames it into place afterwards, so nothing incomplete appears where
        presentation software looks. A wrong length or a different ETag means the file changed
        meanwhile: `partial` is dropped (the next attempt starts clean) and ServerError raised.
        """
        what = "/".join(entry.path)

        def attempt() -> httpx.Headers:
            return self._download_once(entry, partial, cancel, on_bytes)

        headers = with_retries(attempt, self.retry, cancel, what)
        size = partial.stat().st_size
        if entry.size is not None and size != entry.size:
            partial.unlink(missing_ok=True)
            raise ServerError(
                _(
                    "{what} arrived with {got} bytes but the server listed {want}; it will be "
                    "downloaded again."
                ).format(what=what, got=size, want=entry.size)
            )
        served = normalise_etag(headers.get("ETag"))
        trusted = self.capabilities.strong_etags is not False
        if served is not None and is_strong_etag(entry.etag_raw):
            self.capabilities.observe_download(served_same=served == entry.etag)
        # A server that serves other ETags than it lists (proven once) is held to the length.
        if entry.etag and served and served != entry.etag and trusted:
            partial.unlink(missing_ok=True)
            raise ServerError(
                _(
                    "{what} changed on the server during the download; it will be fetched again."
                ).format(what=what)
            )
        return size

    def _download_once(
        self,
        entry: RemoteEntry,
        partial: Path,
        cancel: threading.Event | None,
        on_bytes: Callable[[int], None] | None,
    ) -> httpx.Headers:
        what = "/".join(entry.path)
        have = partial.stat().st_size if partial.exists() else 0
        if entry.size is not None and have > entry.size:
            have = 0  # longer than the file: not a prefix of this version
        headers: dict[str, str] = {"Accept-Encoding": "identity"}
        usable_etag = is_strong_etag(entry.etag_raw) and self.capabilities.strong_etags is not False
        validator = (entry.etag_raw if usable_etag else None) or entry.modified_raw
        if have and validator:
            headers["Range"] = f"bytes={have}-"
            headers["If-Range"] = validator
        elif have:
            have = 0  # cannot prove the partial file is of this version: start over
        with self._get_body(self.url_for(entry.path), headers) as response:
            if response.status_code == 416 and have:
                # Already complete (or the file shrank): restart from scratch next attempt.
                partial.unlink(missing_ok=True)
                raise ServerError(_("The download of {what} must restart.").format(what=what), 503)
            self._check(response, what, (200, 206))
            append = response.status_code == 206 and _range_start(response) == have
            if response.status_code == 206 and not append:
                partial.unlink(missing_ok=True)
                raise ServerError(
                    _("The server sent the wrong part of {what}; restarting.").format(what=what),
                    503,
                )
            expected_total = _expected_total(response, have if append else 0)
            received = have if append else 0
            if on_bytes is not None and not append and have:
                on_bytes(-have)  # progress already counted for the discarded partial file
            try:
                with open(partial, "ab" if append else "wb") as fh:
                    for chunk in response.chunks(CHUNK):
                        if cancel is not None and cancel.is_set():
                            raise Cancelled(_("Stopped on request."))
                        self.throttle.take(len(chunk), cancel)
                        fh.write(chunk)
                        received += len(chunk)
                        if on_bytes is not None:
                            on_bytes(len(chunk))
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    partial.unlink(missing_ok=True)  # give the space back; resuming cannot help
                raise _local_error(exc, partial) from exc
            if expected_total is not None and received != expected_total:
                raise NetworkError(
                    _("The download of {what} ended early ({got} of {total} bytes).").format(
                        what=what, got=received, total=expected_total
                    )
                )
            return response.headers

    def get_bytes(self, path: RemotePath, limit: int) -> bytes:
        """A small file fetched whole (forcedPrefs.json); refuses anything over `limit` bytes."""

        def attempt() -> bytes:
            response = self._send("GET", self.url_for(path), stream=True)
            try:
                self._check(response, "/".join(path), (200,))
                return _read_limited(response, limit, self.host)
            finally:
                response.close()

        return with_retries(attempt, self.retry, None, "/".join(path))

    # -- writes (organizer only; the caller enforces the role) -------------------------------

    def _simple(
        self,
        method: str,
        path: RemotePath,
        ok: tuple[int, ...],
        *,
        headers: dict[str, str] | None = None,
        collection: bool = False,
        cancel: threading.Event | None = None,
        transient: Callable[[CongsyncError], bool] = is_transient,
    ) -> int:
        """A request without a body to read; retried while `transient` says so. Returns the status."""
        what = "/".join(path)

        def attempt() -> int:
            response = self._send(
                method, self.url_for(path, collection=collection), headers=headers
            )
            response.close()
            self._check(response, what, ok)
            return response.status_code

        return with_retries(attempt, self.retry, cancel, what, transient=transient)

    def mkcol(self, path: RemotePath, cancel: threading.Event | None = None) -> None:
        """Create a collection; one that exists already (405) is fine."""
        self._simple("MKCOL", path, (201, 200, 204, 405), collection=True, cancel=cancel)

    def ensure_collections(self, path: RemotePath, known: set[RemotePath] | None = None) -> None:
        """Create `path` and its missing ancestors; `known` (updated) lists those that exist."""
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if known is not None and prefix in known:
                continue
            self.mkcol(prefix)
            if known is not None:
                known.add(prefix)

    def put_file(
        self,
        path: RemotePath,
        source: Path,
        *,
        cancel: threading.Event | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        """Stream `source` to `path` in constant memory, retrying transient failures.

        Exactly the size `source` had when the upload started is sent: a file that grows
        meanwhile is cut there, one that shrinks raises LocalDiskError (the caller compares
        size and mtime afterwards to notice a file that changed while it was read). A retry
        starts over and takes back the progress it had reported.
        """
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise _local_error(exc, source) from exc
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        sent = 0

        def count(n: int) -> None:
            nonlocal sent
            sent += n
            if on_bytes is not None:
                on_bytes(n)

        def body() -> Iterator[bytes]:
            left = size
            try:
                with open(source, "rb") as fh:
                    while left > 0:
                        chunk = fh.read(min(CHUNK, left))
                        if not chunk:
                            raise LocalDiskError(
                                _("{path} became shorter while it was being uploaded.").format(
                                    path=source
                                )
                            )
                        if cancel is not None and cancel.is_set():
                            raise Cancelled(_("Stopped on request."))
                        left -= len(chunk)
                        self.throttle.take(len(chunk), cancel)
                        count(len(chunk))
                        yield chunk
            except OSError as exc:
                raise _local_error(exc, source) from exc

        def attempt() -> None:
            nonlocal sent
            if sent and on_bytes is not None:
                on_bytes(-sent)
            sent = 0
            self._put(path, headers, body())

        with_retries(attempt, self.retry, cancel, "/".join(path))

    def put_bytes(
        self, path: RemotePath, data: bytes, cancel: threading.Event | None = None
    ) -> None:
        """PUT a small file held in memory (a hidden-media marker, forcedPrefs.json)."""
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))}
        with_retries(lambda: self._put(path, headers, data), self.retry, cancel, "/".join(path))

    def _put(self, path: RemotePath, headers: dict[str, str], content: Any) -> None:
        response = self._send("PUT", self.url_for(path), headers=headers, content=content)
        response.close()
        self._check(response, "/".join(path), (200, 201, 204))

    # -- conditional writes --------------------------------------------------------------------
    #
    # A condition (`Expect`) is sent as a header where the server can check it (If-Match on the
    # resource itself, a tagged `If` for MOVE's target) and the ETag is strong. Until the server
    # has proven it evaluates that header, congsync also looks first (a Depth-0 PROPFIND) and
    # refuses on its own; a 412 is then examined to learn which it was.

    def move(
        self,
        source: RemotePath,
        target: RemotePath,
        *,
        expect: Expect | None = None,
        source_expect: Expect | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """MOVE `source` to `target`; PreconditionFailed when a condition does not hold.

        `expect` is about the target: absent (it must not exist: `Overwrite: F`, what
        `If-None-Match: *` is for a PUT) or a version it must still have. `source_expect` is a
        version the source must still have. Retried only when the server said it did nothing.
        """
        headers = {"Destination": self.url_for(target), "Overwrite": "T"}
        checks: tuple[_Condition, ...] = ()
        if expect is not None and expect.must_be_absent:
            headers["Overwrite"] = "F"
        elif expect is not None:
            checks += (("If", target, expect),)
        if source_expect is not None:
            checks += (("If-Match", source, source_expect),)
        sent = self._prepare_conditions(checks, headers, cancel)
        try:
            self._simple(
                "MOVE",
                source,
                (201, 204),
                headers=headers,
                cancel=cancel,
                transient=refused_before_acting,
            )
        except PreconditionFailed:
            absent = expect is not None and expect.must_be_absent
            if absent and self.stat_or_none(target, cancel) is not None:
                raise PreconditionFailed(_published_meanwhile(target)) from None
            self._examine_refusal(sent, headers, cancel)
            self._simple(
                "MOVE",
                source,
                (201, 204),
                headers=headers,
                cancel=cancel,
                transient=refused_before_acting,
            )

    def delete(
        self,
        path: RemotePath,
        *,
        collection: bool = False,
        expect: Expect | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        """DELETE `path` (a missing one is fine); with `expect`, only if it is still that version."""
        headers: dict[str, str] = {}
        checks: tuple[_Condition, ...] = (("If-Match", path, expect),) if expect else ()
        sent = self._prepare_conditions(checks, headers, cancel)
        ok = (200, 204, 404)
        try:
            self._simple("DELETE", path, ok, headers=headers, collection=collection, cancel=cancel)
        except PreconditionFailed:
            self._examine_refusal(sent, headers, cancel)
            self._simple("DELETE", path, ok, headers=headers, collection=collection, cancel=cancel)

    def _prepare_conditions(
        self,
        checks: tuple[_Condition, ...],
        headers: dict[str, str],
        cancel: threading.Event | None,
    ) -> tuple[_Condition, ...]:
        """Look first where the server is not proven to check; put the headers it can check."""
        sent: tuple[_Condition, ...] = ()
        for header, path, condition in checks:
            proven = self.capabilities.tagged_if if header == "If" else self.capabilities.if_match
            strong = is_strong_etag(condition.etag_raw) and proven is not False
            if not (strong and proven):
                self._require(path, condition, cancel)
            if strong:
                assert condition.etag_raw is not None
                headers[header] = (
                    f"<{self._path_for(path)}> ([{condition.etag_raw}])"
                    if header == "If"
                    else condition.etag_raw
                )
                sent += ((header, path, condition),)
        return sent

    def _examine_refusal(
        self, sent: tuple[_Condition, ...], headers: dict[str, str], cancel: threading.Event | None
    ) -> None:
        """After a 412: raise if a condition really failed. Otherwise the server misread a header:
        it is dropped from `headers` (the caller sends the request again, guarded by the looks
        already taken) and never sent to this server again."""
        if not sent:
            raise PreconditionFailed(_("The server refused the request (412)."))
        failed = [
            path
            for header, path, condition in sent
            if self._changed(header, path, condition, cancel)
        ]
        if failed:
            raise PreconditionFailed(_changed_meanwhile(failed[0]))
        for header, _path, _condition in sent:
            headers.pop(header, None)
        log.info("the server misread a conditional header; relying on congsync's own check")

    def _changed(
        self, header: str, path: RemotePath, condition: Expect, cancel: threading.Event | None
    ) -> bool:
        changed = not condition.met_by(self.stat_or_none(path, cancel))
        self.capabilities.observe_condition(header, really_changed=changed)
        return changed

    def _require(self, path: RemotePath, condition: Expect, cancel: threading.Event | None) -> None:
        if not condition.met_by(self.stat_or_none(path, cancel)):
            if condition.must_be_absent:
                raise PreconditionFailed(_published_meanwhile(path))
            raise PreconditionFailed(_changed_meanwhile(path))

    def _path_for(self, path: RemotePath) -> str:
        """The absolute path (no origin) of `path`, as WebDAV's tagged `If` lists name it."""
        return self.url_for(path)[len(self._origin) :]


_Condition = tuple[str, RemotePath, Expect]  # (header, resource it is about, condition)


def _changed_meanwhile(path: RemotePath) -> str:
    return _("{what} was changed on the server by someone else meanwhile.").format(
        what="/".join(path)
    )


def _published_meanwhile(path: RemotePath) -> str:
    return _("{what} was published on the server by someone else meanwhile.").format(
        what="/".join(path)
    )


def _entry_from(path: RemotePath, response: Any) -> RemoteEntry | None:
    props = response.properties
    if response.status_code is not None and response.status_code >= 400:
        return None
    etag_raw = props.raw.get("etag") or None
    modified_raw = props.raw.get("modified") or None
    size: int | None = props.content_length if props.content_length is not None else None
    if size is not None and size < 0:
        size = None
    return RemoteEntry(
        path=path,
        is_dir=props.collection is True,
        size=size,
        etag=normalise_etag(etag_raw),
        modified=parse_http_date(modified_raw),
        etag_raw=_entity_tag(etag_raw),
        modified_raw=modified_raw.strip() if modified_raw else None,
    )


def _entity_tag(getetag: str | None) -> str | None:
    """The ETag as a header carries it. RFC 4918 lists getetag with its quotes, but some servers
    (WsgiDAV) leave them off; a bare tag is the same strong tag their ETag header sends quoted."""
    if not getetag or not getetag.strip():
        return None
    tag = getetag.strip()
    if tag.startswith(("W/", "w/")) or (tag.startswith('"') and tag.endswith('"')):
        return tag
    return f'"{tag}"' if '"' not in tag else tag


def _read_limited(response: httpx.Response, limit: int, host: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    for chunk in _iter_body(response, host):
        total += len(chunk)
        if total > limit:
            raise HostileResponse(
                _(
                    "The server sent more than {limit} bytes where a small answer was expected."
                ).format(limit=limit)
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _iter_body(response: httpx.Response, host: str, size: int = CHUNK) -> Iterator[bytes]:
    try:
        yield from response.iter_raw(size)
    except httpx.TransportError as exc:
        raise _describe_transport_error(exc, host) from exc


def _range_start(response: Answer) -> int | None:
    value = response.headers.get("Content-Range", "")
    # "bytes 100-199/200"
    try:
        unit, rest = value.split(" ", 1)
        start = rest.split("-", 1)[0]
        return int(start) if unit.lower() == "bytes" else None
    except ValueError:
        return None


def _expected_total(response: Answer, already: int) -> int | None:
    length = response.headers.get("Content-Length")
    if length is None or not length.isdigit():
        return None
    return already + int(length)


def _local_error(exc: OSError, path: Path) -> LocalDiskError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return LocalDiskError(
            _(
                "The disk holding {path} is full; free some space and congsync will continue."
            ).format(path=path.parent)
        )
    return LocalDiskError(
        _("congsync cannot write {path}: {reason}.").format(path=path, reason=exc.strerror or exc)
    )
