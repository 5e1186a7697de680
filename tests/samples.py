"""Media made in the tests: small real files of the kinds congsync converts."""

from __future__ import annotations

import io

from PIL import Image


def pdf(pages: int, size: tuple[int, int] = (600, 800)) -> bytes:
    """A PDF of `pages` pages (Pillow stamps the time in it: keep the bytes to compare)."""
    images = [Image.new("RGB", size, (40 * n % 256, 0, 0)) for n in range(pages)]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()
