"""Small file-system helpers every layer may use: replacing a JSON file atomically."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never a torn one.

    The temporary file is created user-only (0600) before anything is written to it, so
    secrets in it are never readable by others, not even for a moment.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    payload = json.dumps(data, indent=2, sort_keys=True).encode("utf-8")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _replace(src: Path, dst: Path) -> None:
    # Windows refuses to replace a file another process has open for a moment; try briefly.
    for attempt in range(20):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if attempt == 19 or os.name != "nt":
                raise
            time.sleep(0.025)
