"""Shared by the organizer's commands: a progress bar for uploads on a terminal, file sizes in words."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from daemon.i18n import _


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


def human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            shown = f"{value:.0f}" if unit == "B" else f"{value:.1f}"
            return _("{value} {unit}").format(value=shown, unit=unit)
        value /= 1000
    return str(size)  # pragma: no cover - the loop always returns
