"""One token bucket for every transfer of the process: parallel downloads and uploads share the
bandwidth limit instead of each taking it whole."""

from __future__ import annotations

import threading
import time

from daemon.errors import Cancelled
from daemon.i18n import _


class Throttle:
    """Bytes per second for all callers together; 0 means no limit. Thread-safe.

    `take(n)` books `n` bytes and waits as long as the bookings run ahead of the rate; a
    caller that books a large chunk waits it off, so the rate holds on average whatever the
    chunk size. At most one second of unused rate is saved up (the burst).
    """

    def __init__(self, rate: int = 0) -> None:
        self._lock = threading.Lock()
        self._rate = rate
        self._tokens = 0.0
        self._stamp = time.monotonic()

    @property
    def rate(self) -> int:
        with self._lock:
            return self._rate

    def set_rate(self, rate: int) -> None:
        with self._lock:
            if rate != self._rate:
                self._rate = max(0, rate)
                self._tokens = 0.0
                self._stamp = time.monotonic()

    def take(self, n: int, cancel: threading.Event | None = None) -> None:
        with self._lock:
            if self._rate <= 0:
                return
            now = time.monotonic()
            self._tokens = min(float(self._rate), self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
            self._tokens -= n
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        if wait <= 0:
            return
        if cancel is None:
            time.sleep(wait)
        elif cancel.wait(wait):
            raise Cancelled(_("Stopped on request."))


# The process's one bucket: every DavClient uses it unless given another.
PROCESS_THROTTLE = Throttle()
