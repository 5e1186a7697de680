"""Meeting Media Manager's `.section-order.json`: read it, re-key it, merge the organizer's into a member's.

The file maps a date folder's file names, byte for byte as on disk, to `{"order": …, "section": …}`.
On the server the organizer's entries are keyed by remote names (the names in `Media/<date>/` or
`Media/Recurring/`), so that each member can map them to its own local names. Nothing here
touches the disk or the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

SECTION_ORDER_FILE = ".section-order.json"
# M³ writes `.section-order.json.<milliseconds>.tmp` beside it and renames it into place.
_TEMP = re.compile(r"^\.section-order\.json\.\d+\.tmp$")

Entries = dict[str, Any]  # file name -> M³'s value (kept as M³ wrote it; M³ checks no value)


def is_section_order_file(name: str) -> bool:
    """Whether a date folder's entry is M³'s layout file or one of its temporary files."""
    return name == SECTION_ORDER_FILE or _TEMP.match(name) is not None


def parse(data: bytes) -> Entries | None:
    """The entries of a `.section-order.json`, None when it is not one (truncated, not JSON)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        return None
    if not isinstance(document, dict):
        return None
    return {str(name): value for name, value in document.items()}


def serialize(entries: Mapping[str, Any]) -> bytes:
    """The file's bytes, in the shape M³ writes (an object; names sorted for stable versions)."""
    return (json.dumps(dict(sorted(entries.items())), ensure_ascii=False, indent=2) + "\n").encode(
        "utf-8"
    )


def to_remote(entries: Mapping[str, Any], remote_names: Mapping[str, str]) -> Entries:
    """The organizer's entries for the congregation's files, keyed by remote name.

    `remote_names` maps each congregation file's local name to its remote name; entries for
    other files (his own, stale ones M³ keeps) are not published.
    """
    return {
        remote_names[name]: value for name, value in sorted(entries.items()) if name in remote_names
    }


def merge(
    own: Mapping[str, Any], published: Mapping[str, Any], local_names: Mapping[str, str]
) -> Entries:
    """A member's entries with the organizer's laid over them.

    `local_names` maps each congregation file's remote name to its local name here. Entries for
    the congregation's files come from the organizer where he has one; every other entry of the
    member's stays as it was.
    """
    merged: Entries = dict(own)
    for remote, value in published.items():
        local = local_names.get(remote)
        if local is not None:
            merged[local] = value
    return merged
