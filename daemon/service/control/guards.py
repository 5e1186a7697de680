"""Who may talk to the control endpoint: this computer's own programs and pages, with the secret.

Three checks, before anything else is read:
  * the `Host` is this endpoint's own loopback address (a DNS-rebinding page cannot name it);
  * an `Origin`, when sent, is that same address (no other web page may ask);
  * the caller proves itself: `Authorization: Bearer <secret>` (the CLI and the tray read the
    secret from the control file), or a session cookie a sign-in handed to a browser. A request
    that changes something on a cookie alone must carry our own `Origin`, which browsers send
    with every such request and no other site can forge (no cross-site request forgery).
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie

from daemon.errors import RequestRefused
from daemon.i18n import _

SESSION_COOKIE = "congsync_session"
SAFE_METHODS = frozenset({"GET", "HEAD"})


class Guards:
    """The checks for one endpoint: its port, its secret and the browser sessions it issued."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.port = 0  # known once the endpoint listens
        self._sessions: set[str] = set()
        self._lock = threading.Lock()

    @property
    def allowed_hosts(self) -> frozenset[str]:
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    def issue_session(self) -> str:
        """A new browser session (its cookie value); valid until the daemon stops."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions.add(token)
        return token

    def check(self, method: str, headers: Mapping[str, str]) -> str:
        """Refuse (RequestRefused) anything not from this computer's own callers; returns how the
        caller proved itself: "secret" or "session"."""
        host = (headers.get("Host") or "").strip().lower()
        if host not in self.allowed_hosts:
            raise RequestRefused(
                HTTPStatus.FORBIDDEN, _("This endpoint only answers to 127.0.0.1.")
            )
        origin = headers.get("Origin")
        own_origin = origin is not None and origin.strip().lower() in {
            f"http://{h}" for h in self.allowed_hosts
        }
        if origin is not None and not own_origin:
            raise RequestRefused(HTTPStatus.FORBIDDEN, _("Requests from other sites are refused."))
        if self._has_secret(headers.get("Authorization") or ""):
            return "secret"
        if self._has_session(headers.get("Cookie") or ""):
            if method not in SAFE_METHODS and not own_origin:
                raise RequestRefused(
                    HTTPStatus.FORBIDDEN, _("Requests from other sites are refused.")
                )
            return "session"
        raise RequestRefused(HTTPStatus.UNAUTHORIZED, _("The control secret is missing or wrong."))

    def _has_secret(self, given: str) -> bool:
        expected = f"Bearer {self.secret}"
        return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())

    def _has_session(self, header: str) -> bool:
        try:
            cookie = SimpleCookie(header)
        except CookieError:
            return False
        morsel = cookie.get(SESSION_COOKIE)
        if morsel is None:
            return False
        with self._lock:
            sessions = list(self._sessions)
        given = morsel.value.encode("utf-8", "replace")
        return any(hmac.compare_digest(given, token.encode()) for token in sessions)
