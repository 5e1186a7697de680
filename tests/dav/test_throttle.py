"""The process's token bucket: no limit means no waiting; a wait can be cancelled; the limit is
shared by every caller (booked bytes add up). No timings are asserted."""

from __future__ import annotations

import threading

import pytest

from daemon.dav import PROCESS_THROTTLE, DavClient, Throttle
from daemon.errors import Cancelled


def test_without_a_limit_nothing_waits_even_when_cancelled():
    throttle = Throttle()
    stop = threading.Event()
    stop.set()
    throttle.take(10**12, stop)  # returns at once, raises nothing


def test_a_wait_for_the_bucket_stops_on_request():
    throttle = Throttle(10_000)
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        throttle.take(10**9, stop)  # a day's worth of bytes at this rate


def test_the_rate_can_be_changed_and_never_goes_below_none():
    throttle = Throttle(5_000_000)
    throttle.set_rate(-3)
    assert throttle.rate == 0


def test_every_client_shares_the_process_bucket_unless_given_its_own():
    first = DavClient("https://127.0.0.1:1/", "c", "u", "p")
    second = DavClient("https://127.0.0.1:1/", "c", "u", "p")
    own = Throttle()
    third = DavClient("https://127.0.0.1:1/", "c", "u", "p", throttle=own)
    try:
        assert first.throttle is second.throttle is PROCESS_THROTTLE
        assert third.throttle is own
    finally:
        for client in (first, second, third):
            client.close()
