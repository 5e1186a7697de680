"""Media files that state their own length: complete ones pass, every cut-short one is caught."""

from __future__ import annotations

import io
import os
import struct

import pytest
from PIL import Image

from daemon.core.structure import required_quiet, truncated_format


def _image(fmt: str, **options: object) -> bytes:
    # Noise, so that the JPEG's entropy-coded data holds 0xFF bytes (stuffed) and restarts.
    picture = Image.frombytes("RGB", (96, 64), os.urandom(96 * 64 * 3))
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _mp4(moov_last: bool = True) -> bytes:
    ftyp = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
    moov = _box(b"moov", _box(b"mvhd", bytes(100)))
    mdat = _box(b"mdat", os.urandom(5000))
    return ftyp + mdat + moov if moov_last else ftyp + moov + mdat


COMPLETE = {
    "jpeg": _image("JPEG", quality=90),
    "jpeg-progressive": _image("JPEG", progressive=True, quality=80),
    "jpeg-restarts": _image("JPEG", quality=70, restart_marker_blocks=1),
    "png": _image("PNG"),
    "pdf": _image("PDF"),
    "mp4-moov-last": _mp4(moov_last=True),
    "mp4-moov-first": _mp4(moov_last=False),
}


@pytest.mark.parametrize("name", sorted(COMPLETE))
def test_complete_files_are_complete(name: str):
    assert truncated_format(COMPLETE[name]) is None


@pytest.mark.parametrize("name", sorted(COMPLETE))
def test_every_cut_of_a_file_is_caught(name: str):
    data = COMPLETE[name]
    # Cut everywhere near the start and the end (where headers and end markers are) and at
    # a spread of points between.
    cuts = set(range(1, min(len(data), 64))) | set(range(max(1, len(data) - 64), len(data)))
    cuts |= set(range(1, len(data), max(1, len(data) // 97)))
    missed = [
        cut for cut in sorted(cuts) if len(data[:cut]) > 8 and truncated_format(data[:cut]) is None
    ]
    if name == "pdf":
        # A PDF's only length statement is its %%EOF at the very end: cuts after it pass.
        end = data.rindex(b"%%EOF") + 5
        missed = [cut for cut in missed if cut < end]
    assert missed == []


def test_a_jpeg_with_something_appended_is_complete():
    # Motion photos append a video after the image's end marker.
    assert truncated_format(COMPLETE["jpeg"] + _mp4()) is None


def test_a_64_bit_atom_and_an_atom_to_the_end_of_the_file():
    ftyp = _box(b"ftyp", b"isom\x00\x00\x02\x00")
    moov = _box(b"moov", bytes(20))
    payload = os.urandom(300)
    large = struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 16 + len(payload)) + payload
    assert truncated_format(ftyp + moov + large) is None
    assert truncated_format(ftyp + moov + large[:-1]) == "MP4"
    to_end = struct.pack(">I", 0) + b"mdat" + payload
    assert truncated_format(ftyp + moov + to_end) is None
    assert truncated_format(ftyp + to_end) == "MP4"  # the movie atom never came


def test_files_that_only_carry_a_media_name_are_not_judged():
    for data in (b"q", b"just some text in a file called talk.mp4", os.urandom(4096), b""):
        if data[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"):
            continue  # random bytes that happen to look like an atom
        assert truncated_format(data) is None


def test_the_quiet_time_grows_with_size_and_with_repeated_changes():
    small = required_quiet(1000, 2.0)
    assert small == pytest.approx(2.0, abs=0.01)
    large = required_quiet(2 * 1024**3, 2.0)
    assert large > 30 * small
    assert required_quiet(1000, 2.0, changes=1) == pytest.approx(2 * small)
    assert required_quiet(1000, 2.0, changes=3) == pytest.approx(4 * small)
    assert required_quiet(10**12, 2.0, changes=50) == 120.0  # capped: it is published eventually
