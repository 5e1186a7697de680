"""Benchmark: convert a generated 100-page PDF with the production converter, then 300 pages.

Prints the conversion time and the peak memory of each run. Peak memory is measured two ways:
tracemalloc (Python allocations, which include the PIL image of the page being written) and
the process's RSS high-water mark (ru_maxrss, which also counts PDFium's own bitmaps). Making the
PDF and each conversion run in fresh child processes, so no high-water mark hides another.

    python bench/convert_pdf.py
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from PIL import Image, ImageDraw


def make_pdf(path: Path, pages: int) -> None:
    """A4 pages with some drawing on each, written page by page into one PDF."""

    def page(n: int) -> Image.Image:
        image = Image.new("RGB", (1240, 1754), (255, 255, 255))  # A4 at 150 dpi
        draw = ImageDraw.Draw(image)
        for line in range(40):
            draw.rectangle(
                (100, 100 + line * 40, 100 + (n * 37 + line * 53) % 1000, 120 + line * 40),
                fill=(n % 255, 60, 120),
            )
        return image

    buffer = io.BytesIO()
    first = page(0)
    first.save(buffer, "PDF", save_all=True, append_images=(page(n) for n in range(1, pages)))
    path.write_bytes(buffer.getvalue())


def run(source: Path, pages: int) -> None:
    from daemon.sync.convert import Converter

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        started = time.perf_counter()
        outputs = Converter()(source, "talk.pdf", workdir)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert outputs is not None and len(outputs) == pages
        print(
            f"{pages} pages ({source.stat().st_size / 2**20:.1f} MiB PDF): {elapsed:.1f} s "
            f"({elapsed / pages * 1000:.0f} ms/page); tracemalloc peak {peak / 2**20:.1f} MiB; "
            f"RSS high-water {after / 1024:.0f} MiB ({before / 1024:.0f} MiB after imports)"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make_pdf(Path(sys.argv[3]), int(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "convert":
        run(Path(sys.argv[3]), int(sys.argv[2]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            for count in (100, 300):
                pdf = str(Path(folder) / f"{count}.pdf")
                # Each in a fresh process: the PDF's making never counts in the converter's peak.
                subprocess.run([sys.executable, __file__, "make", str(count), pdf], check=True)
                subprocess.run([sys.executable, __file__, "convert", str(count), pdf], check=True)
