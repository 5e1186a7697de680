"""The client of a running daemon's control endpoint: what the CLI (and later the tray) use."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from daemon.errors import ControlError, DaemonNotRunning
from daemon.i18n import Text, fact
from daemon.paths import Paths
from daemon.service.control.api import API_PREFIX, LONG_POLL_MAX
from daemon.service.instance import is_same_process
from daemon.service.logs import register_secret

logger = logging.getLogger(__name__)


class ControlClient:
    """Talks to the running daemon of one configuration (for the CLI, later the tray)."""

    def __init__(
        self,
        url: str,
        secret: str,
        pid: int | None = None,
        start_token: str | None = None,
        *,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.pid = pid
        self.start_token = start_token
        register_secret(secret)
        # trust_env=False: a proxy from the environment must never see loopback traffic.
        self._http = httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {secret}"},
            timeout=timeout,
            trust_env=False,
        )

    @classmethod
    def from_paths(cls, paths: Paths, *, timeout: float = 5.0) -> ControlClient | None:
        """A client for the daemon of `paths`, or None when none runs (or it does not answer)."""
        try:
            data = json.loads(paths.control_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        url, secret, pid = data.get("url"), data.get("secret"), data.get("pid")
        if not isinstance(url, str) or not isinstance(secret, str):
            return None
        if isinstance(pid, int) and not is_same_process(pid, data.get("start_token")):
            return None
        client = cls(
            url,
            secret,
            pid if isinstance(pid, int) else None,
            data.get("start_token"),
            timeout=timeout,
        )
        try:
            client.status()
        except DaemonNotRunning:
            client.close()
            return None
        except BaseException:
            client.close()
            raise
        return client

    # -- commands -----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The daemon's status document (see `GET /v1/status`)."""
        return self._request("GET", "/status")

    def wait_for_change(self, since: int, timeout: float = LONG_POLL_MAX) -> dict[str, Any]:
        """The status document once its `version` exceeds `since` (or after `timeout`)."""
        return self._request(
            "GET",
            "/events",
            params={"since": since, "timeout": timeout},
            timeout=timeout + 10.0,
        )

    def sync_now(self, accept_deletions: bool = False) -> int:
        """Ask for a sync; returns the `cycles_finished` value at which it is over."""
        answer = self._request("POST", "/sync", json={"accept_deletions": accept_deletions})
        return int(answer["ticket"])

    def follow(
        self,
        ticket: int,
        on_update: Callable[[dict[str, Any]], None],
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Hand each status change to `on_update` until the sync of `ticket` is over.

        Returns the final status document (its `last_result` is that sync's result). Raises
        `DaemonNotRunning` if the daemon stops meanwhile, `ControlError` after `timeout`.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        document = self.status()
        while int(document.get("cycles_finished", 0)) < ticket:
            if document.get("state") == "stopped":
                raise DaemonNotRunning()
            on_update(document)
            wait = LONG_POLL_MAX
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    raise ControlError(fact("The sync did not finish in time."))
            document = self.wait_for_change(int(document.get("version", 0)), wait)
        on_update(document)
        return document

    def pause(self, until: datetime | None = None) -> None:
        self._request(
            "POST", "/pause", json={"until": until.isoformat() if until is not None else None}
        )

    def resume(self) -> None:
        self._request("POST", "/resume")

    def credentials_changed(self) -> None:
        """Tell the daemon a new password was saved: it uses it and syncs now."""
        self._request("POST", "/credentials")

    def panel_url(self, page: str = "/") -> str:
        """A one-time sign-in address that opens `page` of the running daemon's panel."""
        answer = self._request("POST", "/signin", json={"next": page})
        return f"{self.url}{answer['path']}"

    def stop(self, wait: float = 10.0) -> bool:
        """Ask the daemon to end; True once its process has exited (False after `wait` s)."""
        try:
            self._request("POST", "/stop")
        except DaemonNotRunning:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not self._still_running():
                return True
            time.sleep(0.1)
        return not self._still_running()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside -------------------------------------------------------------------------------

    def _still_running(self) -> bool:
        if self.pid is not None:
            return is_same_process(self.pid, self.start_token)
        try:
            self._request("GET", "/status", timeout=1.0)
        except DaemonNotRunning:
            return False
        return True

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        try:
            response = self._http.request(
                method, API_PREFIX + path, json=json, params=params, **extra
            )
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            logger.debug("control endpoint unreachable: %s", exc)
            raise DaemonNotRunning() from None
        except httpx.TimeoutException:
            raise ControlError(fact("The congsync daemon does not answer.")) from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code >= 400:
            raise ControlError(
                fact(
                    "The congsync daemon refused the request: {reason}",
                    reason=Text.from_json(answer["fact"])
                    if isinstance(answer.get("fact"), dict)
                    else answer.get("error") or response.reason_phrase,
                )
            )
        return answer
