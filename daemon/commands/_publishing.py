"""Shared by the organizer's commands: a progress bar for uploads on a terminal, file sizes in words."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from daemon.i18n import human_size

__all__ = ["human_size", "upload_progress"]


@contextmanager
def upload_progress(files: Sequence[Path]) -> Iterator[Callable[[int], None] | None]:
    """A byte counter for uploads, drawn as a bar when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import (  # only needed on a terminal
        BarColumn,
        DownloadColumn,
        Progress,
        TransferSpeedColumn,
    )

    total = 0
    for path in files:
        try:
            total += path.stat().st_size
        except OSError:
            continue  # the publisher reports an unreadable file itself
    with Progress(BarColumn(), DownloadColumn(), TransferSpeedColumn(), transient=True) as bar:
        task = bar.add_task("upload", total=total or None)
        yield lambda n: bar.advance(task, n)
