"""Writes into a watched folder the way Meeting Media Manager makes them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

LAYOUT = ".section-order.json"


def m3_writes_layout(folder: Path, entries: dict[str, Any]) -> None:
    """As M³'s saveWatchedMediaLayout does: read, overlay, temp file with a ms stamp, rename."""
    target = folder / LAYOUT
    merged = json.loads(target.read_text(encoding="utf-8")) if target.exists() else {}
    merged.update(entries)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{LAYOUT}.{time.time_ns() // 1_000_000}.tmp"
    tmp.write_text(json.dumps(merged), encoding="utf-8")
    os.replace(tmp, target)


def layout(folder: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((folder / LAYOUT).read_text(encoding="utf-8"))
    return result


def entry(order: int, section: str) -> dict[str, Any]:
    return {"order": order, "section": section}
