"""The only code that speaks WebDAV: Depth 0/1 listings, GET to file, PUT from file, MKCOL, MOVE,
DELETE, conditional requests, retries, error mapping, and what this server has proven it does.
Imports nothing above it; everything above imports it from here.

Above this package a remote path is a tuple of decoded names relative to the congregation
folder, e.g. ("Media", "2026-11-24", "talk.mp4"); nothing above it builds URLs, reads headers,
compares status codes or parses XML.
"""

from daemon.dav.capabilities import Capabilities
from daemon.dav.client import DavClient, server_reachable
from daemon.dav.entries import (
    Expect,
    Listing,
    RemoteEntry,
    RemotePath,
    is_strong_etag,
    normalise_etag,
    parse_http_date,
)
from daemon.dav.retry import MAX_RETRY_AFTER, RetryPolicy, parse_retry_after
from daemon.dav.throttle import PROCESS_THROTTLE, Throttle

__all__ = [
    "MAX_RETRY_AFTER",
    "PROCESS_THROTTLE",
    "Capabilities",
    "DavClient",
    "Expect",
    "Listing",
    "RemoteEntry",
    "RemotePath",
    "RetryPolicy",
    "Throttle",
    "is_strong_etag",
    "normalise_etag",
    "parse_http_date",
    "parse_retry_after",
    "server_reachable",
]
