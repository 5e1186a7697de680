"""Whether a media file's own structure says it is complete, and how long a file must stay quiet.

Formats that state their own length are checked by walking that structure: MP4/MOV (ISO base
media and QuickTime atoms must tile the file exactly and hold a `moov`), JPEG (the marker
segments and the entropy-coded scans must reach an end-of-image marker), PNG (chunks up to
`IEND`) and PDF (`%%EOF` near the end). A file is recognised by its first bytes, not by its
name, so a file that merely carries a media extension is not judged by a format it is not in.
Trailing bytes after a JPEG's or PNG's end (a "motion photo" appends a video) are allowed.

Pure functions over a buffer (an mmap of the file, or bytes): no I/O here.
"""

from __future__ import annotations

from collections.abc import Callable

# QuickTime files written before ISO BMFF may start with any of these atoms instead of `ftyp`.
_MP4_FIRST_ATOMS = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PDF_TAIL = 2048  # `%%EOF` must appear this close to the end (trailing whitespace, a newline)

# How long a new or changed file must have been left alone before it counts as finished: a
# base that grows with the size (large files come from slow copies and exports that stall)
# and grows by that much again each time the file was seen changing since an earlier look.
QUIET_BYTES_PER_SECOND = 32 * 1024 * 1024
QUIET_FOR_SIZE_MAX = 60.0
QUIET_MAX = 120.0


def required_quiet(size: int, base: float, changes: int = 0) -> float:
    """Seconds without any change after which a file of `size` bytes counts as finished.

    `changes`: how often earlier looks found the file changed since the look before."""
    by_size = min(QUIET_FOR_SIZE_MAX, size / QUIET_BYTES_PER_SECOND)
    return min(QUIET_MAX, (base + by_size) * (1 + max(changes, 0)))


def truncated_format(data: bytes | bytearray | memoryview) -> str | None:
    """The name of the format whose structure says this file is cut short, or None.

    None means complete, or not one of the formats that state their own length.
    """
    view = memoryview(data)
    for detect, complete, name in _FORMATS:
        if detect(view):
            return None if complete(view) else name
    return None


# -- MP4 / MOV --------------------------------------------------------------------------------


def _u32(data: memoryview, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big")


def _is_mp4(data: memoryview) -> bool:
    # An atom's size is 0 (to the end), 1 (64-bit size follows) or at least its 8-byte header.
    return (
        len(data) >= 8 and bytes(data[4:8]) in _MP4_FIRST_ATOMS and _u32(data, 0) not in range(2, 8)
    )


def _mp4_complete(data: memoryview) -> bool:
    size = len(data)
    position = 0
    has_movie = False
    while position < size:
        if size - position < 8:
            return False  # a header cut in half
        box = _u32(data, position)
        header = 8
        if box == 1:  # a 64-bit size follows the type
            if size - position < 16:
                return False
            box = int.from_bytes(data[position + 8 : position + 16], "big")
            header = 16
        elif box == 0:  # "to the end of the file": valid for the last atom only
            box = size - position
        if box < header or position + box > size:
            return False  # the atom says it is longer than what is there
        if bytes(data[position + 4 : position + 8]) == b"moov":
            has_movie = True
        position += box
    # Without the movie atom no player can show it: an export writes it last.
    return has_movie


# -- JPEG -------------------------------------------------------------------------------------


def _is_jpeg(data: memoryview) -> bool:
    return bytes(data[:3]) == b"\xff\xd8\xff"


def _jpeg_complete(data: memoryview) -> bool:
    # Searching for 0xFF in C: the underlying bytes or mmap when the view covers all of it.
    whole = getattr(data.obj, "find", None) if len(data) == len(data.obj) else None  # type: ignore[arg-type]
    find: Callable[[bytes, int], int] = whole if whole is not None else bytes(data).find
    size = len(data)
    position = 2
    while position + 1 < size:
        if data[position] != 0xFF:
            return False  # not a marker where one must be: damaged or cut
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xD9:
            return True  # end of image
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            position += 2  # markers without a length
            continue
        if position + 4 > size:
            return False
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2 or position + 2 + length > size:
            return False
        position += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            position = _after_scan(find, position, size, data)
            if position < 0:
                return False
    return False


def _after_scan(
    find: Callable[[bytes, int], int], position: int, size: int, data: memoryview
) -> int:
    """Position of the first marker after entropy-coded data, or -1 if the data runs out."""
    while True:
        at = find(b"\xff", position)
        if at < 0 or at + 1 >= size:
            return -1
        following = data[at + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position = at + 1 if following == 0xFF else at + 2  # stuffing, restarts, fill
            continue
        return at


# -- PNG --------------------------------------------------------------------------------------


def _is_png(data: memoryview) -> bool:
    return bytes(data[:8]) == _PNG_SIGNATURE


def _png_complete(data: memoryview) -> bool:
    size = len(data)
    position = len(_PNG_SIGNATURE)
    while position + 12 <= size:
        length = _u32(data, position)
        kind = bytes(data[position + 4 : position + 8])
        end = position + 12 + length  # length, type, data, CRC
        if end > size:
            return False
        if kind == b"IEND":
            return True
        position = end
    return False


# -- PDF --------------------------------------------------------------------------------------


def _is_pdf(data: memoryview) -> bool:
    return bytes(data[:5]) == b"%PDF-"


def _pdf_complete(data: memoryview) -> bool:
    return b"%%EOF" in bytes(data[-_PDF_TAIL:])


_FORMATS: tuple[tuple[Callable[[memoryview], bool], Callable[[memoryview], bool], str], ...] = (
    (_is_mp4, _mp4_complete, "MP4"),
    (_is_jpeg, _jpeg_complete, "JPEG"),
    (_is_png, _png_complete, "PNG"),
    (_is_pdf, _pdf_complete, "PDF"),
)
