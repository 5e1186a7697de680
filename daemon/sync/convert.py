"""Conversions after download: what Meeting Media Manager's watch folder ignores becomes images.

Each PDF page becomes `<stem> - page 01.png` (1920 px wide), an SVG `<stem>.png`, a HEIC/HEIF
photo `<stem>.jpg` with its EXIF orientation applied. The step writes its outputs into the
private working folder it is given (under `.congsync/tmp/`), flushed, so nothing half-written
ever reaches a date folder: the Installer renames complete files into place.

Libraries, all wheels with their native code inside: pypdfium2 (Google's PDFium, the renderer
of Chrome), pillow-heif (libheif inside), resvg-py (resvg, pure Rust: no cairo, no system font
library needed).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING

from daemon.core.conversions import HEIC, PDF, SVG, conversion_kind, image_name, page_name
from daemon.errors import ConversionError
from daemon.i18n import fact
from daemon.sync.downloads import Output
from daemon.sync.media_folder import disk_error

if TYPE_CHECKING:
    from PIL import Image

# The renderers are imported when a file needs them: every `congsync` command and every daemon
# start would otherwise pay for loading PDFium, libheif and resvg (about a tenth of a second).

log = logging.getLogger(__name__)

WIDTH = 1920  # pixels: a full-HD projector or TV shows a page or a drawing at this width
MAX_HEIGHT = 4 * WIDTH  # a strip-shaped page is scaled down rather than made a huge bitmap
_SNIFF = 4096

# PDFium is not thread-safe: one document at a time in the process (several profiles may sync).
_PDFIUM = threading.Lock()


class Converter:
    """The post-download step that makes PDF, SVG and HEIC/HEIF files showable."""

    def applies(self, name: str) -> bool:
        return conversion_kind(name) is not None

    def __call__(self, download: Path, name: str, workdir: Path) -> list[Output] | None:
        kind = conversion_kind(name)
        if kind is None:
            return None
        head = _head(download)
        if kind == PDF:
            with _PDFIUM:
                return convert_pdf(download, name, workdir, head)
        if kind == SVG:
            return [convert_svg(download, name, workdir, head)]
        return [convert_heic(download, name, workdir, head)]


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(_SNIFF)
    except OSError as exc:
        raise ConversionError(
            fact("{name} cannot be read: {reason}.", name=path.name, reason=exc.strerror)
        ) from exc


def _not_a(name: str, kind: str) -> ConversionError:
    return ConversionError(
        fact(
            "{name} is not a readable {kind} file, so it cannot be shown as an image.",
            name=name,
            kind=kind.upper(),
        )
    )


def convert_pdf(download: Path, name: str, workdir: Path, head: bytes) -> list[Output]:
    """Every page in turn: rendered, written and released before the next (bounded memory)."""
    if b"%PDF-" not in head[:1024]:
        raise _not_a(name, PDF)
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(download)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower() or "security" in str(exc).lower():
            raise ConversionError(
                fact("{name} is protected by a password, so its pages cannot be shown.", name=name)
            ) from exc
        raise _not_a(name, PDF) from exc
    outputs = []
    try:
        count = len(document)
        if count == 0:
            raise _not_a(name, PDF)
        for index in range(count):
            page = document[index]
            try:
                width, height = page.get_size()
                if width <= 0 or height <= 0:
                    raise _not_a(name, PDF)
                scale = min(WIDTH / width, MAX_HEIGHT / height)
                bitmap = page.render(scale=scale)
                try:
                    target = workdir / f"page-{index + 1}.png"
                    _write(target, partial(_save, bitmap.to_pil(), "PNG"))
                finally:
                    bitmap.close()
            except pdfium.PdfiumError as exc:
                raise _not_a(name, PDF) from exc
            finally:
                page.close()
            outputs.append(Output(page_name(name, index + 1, count), target))
    finally:
        document.close()
    return outputs


def convert_svg(download: Path, name: str, workdir: Path, head: bytes) -> Output:
    if b"<svg" not in head.lower() and not head.startswith(b"\x1f\x8b"):
        raise _not_a(name, SVG)
    import resvg_py

    try:
        # Both bounds: resvg fits the drawing inside them, keeping its shape, so a strip-shaped
        # drawing is scaled down rather than made a bitmap resvg cannot allocate (resvg aborts
        # the whole process then, it raises nothing).
        png = bytes(
            resvg_py.svg_to_bytes(
                svg_path=str(download), width=WIDTH, height=MAX_HEIGHT, background="#ffffff"
            )
        )
    except (ValueError, OSError) as exc:
        raise _not_a(name, SVG) from exc
    target = workdir / "image.png"
    _write(target, lambda fh: fh.write(png))
    return Output(image_name(name), target)


def convert_heic(download: Path, name: str, workdir: Path, head: bytes) -> Output:
    """A HEIC/HEIF photo as JPEG, turned the way the camera meant (EXIF orientation)."""
    if head[4:8] != b"ftyp":
        raise _not_a(name, HEIC)
    from PIL import Image, ImageOps, UnidentifiedImageError
    from pillow_heif import register_heif_opener

    register_heif_opener()  # idempotent
    target = workdir / "photo.jpg"
    try:
        with Image.open(download) as photo:
            upright = ImageOps.exif_transpose(photo).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise _not_a(name, HEIC) from exc
    _write(target, partial(_save, upright, "JPEG"))
    return Output(image_name(name), target)


def _save(image: Image.Image, fmt: str, fh: IO[bytes]) -> None:
    image.save(fh, format=fmt, quality=90) if fmt == "JPEG" else image.save(fh, format=fmt)


def _write(target: Path, fill: Callable[[IO[bytes]], object]) -> None:
    """Write a complete, flushed file (it is renamed into the date folder afterwards)."""
    try:
        with open(target, "wb") as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise disk_error(exc, target) from exc
