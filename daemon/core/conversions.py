"""Pure rules for the files congsync makes showable after download: which names convert into
what, and whether what the journal owns for a placement matches the convert setting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath

from daemon.core.records import OwnedFile

PDF = "pdf"
SVG = "svg"
HEIC = "heic"

_KINDS = {".pdf": PDF, ".svg": SVG, ".heic": HEIC, ".heif": HEIC}


def conversion_kind(name: str) -> str | None:
    """What `name` converts as (by extension, case-insensitive); None when it stays as it is."""
    return _KINDS.get(PurePosixPath(name).suffix.lower())


def stem(name: str) -> str:
    return PurePosixPath(name).stem


def image_name(name: str) -> str:
    """The single image an SVG (PNG) or a HEIC/HEIF photo (JPEG) becomes."""
    suffix = ".png" if conversion_kind(name) == SVG else ".jpg"
    return stem(name) + suffix


def page_name(name: str, page: int, count: int) -> str:
    """`<stem> - page 01.png`: numbered from 1, zero-padded to the page count's width (>= 2)."""
    width = max(2, len(str(count)))
    return f"{stem(name)} - page {page:0{width}d}.png"


def is_converted(placement: str, records: Iterable[OwnedFile]) -> bool:
    """Whether the owned files of one placement are conversions (not the download as it is)."""
    return any(r.name != placement for r in records)


def out_of_step(owned: Mapping[tuple[str, str], OwnedFile], convert: bool) -> set[tuple[str, str]]:
    """Placements (date, planned name) whose owned files disagree with the convert setting:
    a convertible file installed as it is while converting is on, or conversions while off."""
    placements: dict[tuple[str, str], list[OwnedFile]] = {}
    for (day, _name), record in owned.items():
        placements.setdefault((day, record.placed_as), []).append(record)
    return {
        place
        for place, records in placements.items()
        if conversion_kind(place[1]) is not None and is_converted(place[1], records) != convert
    }
