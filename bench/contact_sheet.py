"""Renders every tray icon at every size on light and dark bars into one PNG, for eyeballing."""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

from daemon.service.status import State
from tray.icons import SIZES, icon_frames, render_icon

DEFAULT_OUT = Path(__file__).parent / "out" / "tray-icons.png"

# Typical bar colours: Windows 11 light and dark taskbars, a dark GNOME top bar.
BACKGROUNDS = {
    "light": (243, 243, 243),
    "dark": (32, 32, 32),
}
LABEL_WIDTH = 170
GAP = 12
ROW_HEIGHT = max(SIZES) + 2 * GAP
HEADER_HEIGHT = 3 * GAP
ZOOM = 4  # the 16 px icons again, magnified with hard pixel edges, to judge them pixel by pixel


def _rows() -> list[tuple[str, State, int, float | None]]:
    rows: list[tuple[str, State, int, float | None]] = []
    for state in State:
        rows.append((state.value, state, 0, None))
    for frame in range(1, icon_frames(State.SYNCING)):
        rows.append((f"syncing frame {frame}", State.SYNCING, frame, None))
    for progress in (0.0, 0.35, 0.7, 1.0):
        rows.append((f"syncing {progress:.0%}", State.SYNCING, 0, progress))
    return rows


def render_sheet() -> Image.Image:
    rows = _rows()
    strip = sum(SIZES) + GAP * (len(SIZES) + 1) + 16 * ZOOM + GAP
    width = LABEL_WIDTH + strip * len(BACKGROUNDS)
    height = HEADER_HEIGHT + ROW_HEIGHT * len(rows)
    sheet = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)

    for column, (name, colour) in enumerate(BACKGROUNDS.items()):
        x0 = LABEL_WIDTH + column * strip
        draw.rectangle((x0, 0, x0 + strip - 1, height), fill=colour)
        ink = (0, 0, 0) if sum(colour) > 384 else (255, 255, 255)
        x = x0 + GAP
        for size in SIZES:
            draw.text((x, GAP), f"{size}", fill=ink)
            x += size + GAP
        draw.text((x, GAP), f"16 x{ZOOM} ({name})", fill=ink)

    for index, (label, state, frame, progress) in enumerate(rows):
        y_mid = HEADER_HEIGHT + index * ROW_HEIGHT + ROW_HEIGHT // 2
        draw.text((GAP, y_mid - 6), label, fill=(0, 0, 0))
        for column in range(len(BACKGROUNDS)):
            x = LABEL_WIDTH + column * strip + GAP
            for size in SIZES:
                icon = render_icon(state, size, frame=frame, progress=progress)
                sheet.paste(icon, (x, y_mid - size // 2), icon)
                x += size + GAP
            small = render_icon(state, 16, frame=frame, progress=progress)
            zoomed = small.resize((16 * ZOOM,) * 2, Image.Resampling.NEAREST)
            sheet.paste(zoomed, (x, y_mid - 8 * ZOOM), zoomed)
    return sheet


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    render_sheet().save(out)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
