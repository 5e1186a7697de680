"""One background thread fed by a queue: slow work after a download (conversions) runs here
while the download workers go on with the next transfers; joined at the end of the cycle."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Background(Generic[T]):
    """Runs submitted jobs in order on one thread; `join` waits for all and returns results."""

    def __init__(self, name: str = "convert") -> None:
        self._jobs: queue.Queue[Callable[[], list[T]] | None] = queue.Queue()
        self._results: list[T] = []
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], list[T]]) -> None:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
        self._jobs.put(job)

    def join(self) -> list[T]:
        with self._lock:
            if self._started:
                self._jobs.put(None)
                self._thread.join()
                self._started = False
        return self._results

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._results.extend(job())
            except Exception:  # a defect in one job must not strand the jobs queued after it
                log.exception("background job failed")
