"""Retrying what may succeed in a moment (network trouble, 429/503, 5xx), with backoff, jitter and the
server's Retry-After; everything else fails at once."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from daemon.dav.entries import parse_http_date
from daemon.errors import Cancelled, CongsyncError, NetworkError, RateLimited, ServerError, TLSError
from daemon.i18n import _

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_RETRY_AFTER = 300.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    when = parse_http_date(value)
    if when is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def sleep_or_cancel(seconds: float, cancel: threading.Event | None) -> None:
    if cancel is None:
        time.sleep(seconds)
    elif cancel.wait(seconds):
        raise Cancelled(_("Stopped on request."))


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, error: CongsyncError) -> float:
        backoff = min(self.max_delay, self.base_delay * (2.0**attempt))
        backoff = backoff / 2 + random.uniform(0, backoff / 2)  # noqa: S311 - jitter, not crypto
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return max(backoff, error.retry_after)
        return backoff


def is_transient(error: CongsyncError) -> bool:
    if isinstance(error, TLSError):
        return False  # a certificate problem does not fix itself in a second
    if isinstance(error, NetworkError | RateLimited):
        return True
    return isinstance(error, ServerError) and error.status in (500, 502, 503, 504, 507, 509)


def refused_before_acting(error: CongsyncError) -> bool:
    """The server said it did nothing (429/503): even a request that is not idempotent may be sent
    again. After a dropped connection it may have acted, so that is not retried."""
    return isinstance(error, RateLimited)


def with_retries(
    action: Callable[[], T],
    policy: RetryPolicy,
    cancel: threading.Event | None = None,
    what: str = "",
    *,
    transient: Callable[[CongsyncError], bool] = is_transient,
) -> T:
    """Run `action`, retrying transient failures with exponential backoff, jitter and Retry-After."""
    for attempt in range(policy.attempts):
        try:
            return action()
        except CongsyncError as error:
            if not transient(error) or attempt == policy.attempts - 1:
                raise
            wait = policy.delay(attempt, error)
            log.info("retrying %s in %.1f s after: %s", what, wait, error)  # English
            sleep_or_cancel(wait, cancel)
    raise AssertionError("unreachable")  # pragma: no cover
