"""A downloaded file copied to another place of the media folder's temp area, complete and
flushed before anyone renames it into a date folder (recurring media at several meetings)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from daemon.sync.media_folder import disk_error


def copy_flushed(source: Path, target: Path) -> None:
    """Copy `source` to `target` (replaced whole), its bytes on disk before this returns."""
    try:
        with open(source, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
            dst.flush()
            os.fsync(dst.fileno())
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise disk_error(exc, target) from exc
