"""The daemon's loopback control endpoint, in three parts: the guards (who may talk to it), the API
(routes as plain functions over the daemon's protocol) and the client; `server` is the HTTP
plumbing that joins them."""

from daemon.service.control.api import API_PREFIX, Request, Response, Route
from daemon.service.control.client import ControlClient
from daemon.service.control.guards import SESSION_COOKIE, Guards
from daemon.service.control.server import ControlServer

__all__ = [
    "API_PREFIX",
    "SESSION_COOKIE",
    "ControlClient",
    "ControlServer",
    "Guards",
    "Request",
    "Response",
    "Route",
]
