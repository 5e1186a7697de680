"""Who may talk to the control endpoint: this computer's own programs and pages, with the secret.

Three checks, before anything else is read:
  * the `Host` is this endpoint's own loopback address (a DNS-rebinding page cannot name it);
  * an `Origin`, when sent, is that same address (no other web page may ask);
  * the caller proves itself: `Authorization: Bearer <secret>` (the CLI and the tray read the
    secret from the control file), or a session cookie a sign-in handed to a browser. A request
    that changes something on a cookie alone must carry our own `Origin`, which browsers send
    with every such request and no other site can forge, and the session's CSRF token in the
    `X-CSRF-Token` header, which only our own pages know (no cross-site request forgery).

A browser gets its session by opening `/signin?token=…` with a one-time token (valid two
minutes) that the tray or `congsync open` asked for with the secret; that one path is let in
without a session, and the token is checked by the sign-in route itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from http import HTTPStatus
from http.cookies import CookieError, SimpleCookie

from daemon.errors import RequestRefused
from daemon.i18n import fact

SESSION_COOKIE = "congsync_session"
SAFE_METHODS = frozenset({"GET", "HEAD"})
SIGNIN_PATH = "/signin"
CSRF_HEADER = "X-Csrf-Token"  # X-CSRF-Token, as the server spells header names
SIGNIN_TOKEN_SECONDS = 120.0


class Guards:
    """The checks for one endpoint: its port, its secret and the browser sessions it issued."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.port = 0  # known once the endpoint listens
        self._sessions: set[str] = set()
        self._signins: dict[str, float] = {}  # one-time token -> monotonic expiry
        self._lock = threading.Lock()

    @property
    def allowed_hosts(self) -> frozenset[str]:
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    @property
    def cookie_name(self) -> str:
        """Browsers keep cookies per host, not per port: each endpoint (configuration, restart)
        names its own, so signing in to one never signs another tab out."""
        return f"{SESSION_COOKIE}_{self.port}"

    def issue_session(self) -> str:
        """A new browser session (its cookie value); valid until the daemon stops."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions.add(token)
        return token

    def issue_signin(self) -> str:
        """A one-time token that `/signin` turns into a browser session (for two minutes)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._signins = {t: end for t, end in self._signins.items() if end > now}
            self._signins[token] = now + SIGNIN_TOKEN_SECONDS
        return token

    def redeem_signin(self, token: str) -> str | None:
        """The new session for a valid one-time token (which is then used up), else None."""
        with self._lock:
            found = next(
                (t for t in self._signins if hmac.compare_digest(t.encode(), token.encode())), None
            )
            if found is None or self._signins.pop(found) < time.monotonic():
                return None
        return self.issue_session()

    def csrf_token(self, session: str) -> str:
        """The token a session's pages send with every change (derived: nothing to store)."""
        return hmac.new(self.secret.encode(), session.encode(), hashlib.sha256).hexdigest()

    def session_of(self, headers: Mapping[str, str]) -> str | None:
        """The valid session a request's cookie carries, or None."""
        try:
            cookie = SimpleCookie(headers.get("Cookie") or "")
        except CookieError:
            return None
        morsel = cookie.get(self.cookie_name)
        if morsel is None:
            return None
        given = morsel.value.encode("utf-8", "replace")
        with self._lock:
            sessions = list(self._sessions)
        return next((t for t in sessions if hmac.compare_digest(given, t.encode())), None)

    def check(self, method: str, headers: Mapping[str, str], path: str = "") -> str:
        """Refuse (RequestRefused) anything not from this computer's own callers; returns how the
        caller proved itself: "secret", "session", or "signin" (the sign-in page, whose route
        checks the one-time token)."""
        host = (headers.get("Host") or "").strip().lower()
        if host not in self.allowed_hosts:
            raise RequestRefused(
                HTTPStatus.FORBIDDEN, fact("This endpoint only answers to 127.0.0.1.")
            )
        origin = headers.get("Origin")
        own_origin = origin is not None and origin.strip().lower() in {
            f"http://{h}" for h in self.allowed_hosts
        }
        if origin is not None and not own_origin:
            raise RequestRefused(
                HTTPStatus.FORBIDDEN, fact("Requests from other sites are refused.")
            )
        if self._has_secret(headers.get("Authorization") or ""):
            return "secret"
        session = self.session_of(headers)
        if session is not None:
            if method not in SAFE_METHODS:
                if not own_origin:
                    raise RequestRefused(
                        HTTPStatus.FORBIDDEN, fact("Requests from other sites are refused.")
                    )
                given = (headers.get(CSRF_HEADER) or "").encode("utf-8", "replace")
                if not hmac.compare_digest(given, self.csrf_token(session).encode()):
                    raise RequestRefused(
                        HTTPStatus.FORBIDDEN,
                        fact("This page is out of date; reload it and try again."),
                    )
            return "session"
        if path == SIGNIN_PATH and method in SAFE_METHODS:
            return "signin"
        raise RequestRefused(
            HTTPStatus.UNAUTHORIZED, fact("The control secret is missing or wrong.")
        )

    def _has_secret(self, given: str) -> bool:
        expected = f"Bearer {self.secret}"
        return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())
