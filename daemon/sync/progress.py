"""Progress of a cycle's transfers: one snapshot type, and the meter that adds up worker threads' bytes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    current: str | None = None  # the file being transferred, for display


class ProgressMeter:
    """Adds up bytes from worker threads and reports a Progress snapshot."""

    def __init__(
        self, total_files: int, total_bytes: int, report: Callable[[Progress], None] | None
    ) -> None:
        self._lock = threading.Lock()
        self._report = report
        self.files_total = total_files
        self.bytes_total = total_bytes
        self.files_done = 0
        self.bytes_done = 0
        self.current: str | None = None

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes_done += n
            snapshot = self._snapshot() if self._report is not None else None
        if self._report is not None and snapshot is not None:
            self._report(snapshot)

    def file_started(self, label: str) -> None:
        with self._lock:
            self.current = label

    def file_done(self) -> None:
        with self._lock:
            self.files_done += 1
            snapshot = self._snapshot()
        if self._report is not None:
            self._report(snapshot)

    def _snapshot(self) -> Progress:
        return Progress(
            files_done=self.files_done,
            files_total=self.files_total,
            bytes_done=self.bytes_done,
            bytes_total=self.bytes_total,
            current=self.current,
        )
