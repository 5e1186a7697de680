"""Draws the tray icon for each daemon state with Pillow, crisp from 16 to 64 pixels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageDraw

from daemon.service.status import State

#: The sizes the platforms ask for: Windows 16/20/24/32 (100–200 % scaling), Linux panels 22–24,
#: macOS 22 pt (44 px on Retina), large panels and previews 48–64.
SIZES: Final = (16, 20, 24, 32, 48, 64)

#: Frames of the syncing animation; the arrows have half-turn symmetry, so these cover 180°.
SYNC_FRAMES: Final = 8

# Drawn this many times larger, then reduced with a Lanczos filter: Pillow draws without
# anti-aliasing, and the reduction gives smooth edges that still land on whole pixels.
_SUPERSAMPLE: Final = 4

_Colour = tuple[int, int, int, int]
_Ink = _Colour | int  # an int on single-channel masks
_Point = tuple[float, float]

_WHITE: Final[_Colour] = (255, 255, 255, 255)
_INK: Final[_Colour] = (28, 32, 38, 255)  # the outline: separates the badge from light bars
_GREY: Final[_Colour] = (134, 142, 150, 255)


@dataclass(frozen=True)
class _Look:
    fill: _Colour  # light or saturated, so that the badge stands out on dark bars
    glyph: _Colour  # chosen for contrast with the fill, not for the state
    outline: _Colour = _INK


_LOOKS: Final[dict[State, _Look]] = {
    State.IDLE: _Look(fill=(47, 158, 68, 255), glyph=_WHITE),
    State.SYNCING: _Look(fill=(28, 126, 214, 255), glyph=_WHITE),
    State.PAUSED: _Look(fill=(120, 128, 138, 255), glyph=_WHITE),
    State.OFFLINE: _Look(fill=(120, 128, 138, 255), glyph=_WHITE),
    State.ERROR: _Look(fill=(224, 49, 49, 255), glyph=_WHITE),
    State.ATTENTION: _Look(fill=(250, 176, 5, 255), glyph=_INK),
    # Hollow: a faint fill keeps the outline readable on dark bars without looking "on".
    State.STOPPED: _Look(fill=(255, 255, 255, 60), glyph=_GREY, outline=_GREY),
}

# The part of the syncing badge not yet transferred, when progress is known.
_SYNC_REMAINING: Final[_Colour] = (74, 104, 146, 255)

# Geometry, in units of the icon's side (0..1).
_MARGIN: Final = 0.0625  # one pixel at 16 px: a little air between neighbouring tray icons
_OUTLINE: Final = 0.0625
_CORNER: Final = 0.22
_STROKE: Final = 0.135  # glyph lines: two pixels at 16 px, the least that reads


def icon_frames(state: State) -> int:
    """How many animation frames the icon of `state` has (1 when it is still)."""
    return SYNC_FRAMES if state is State.SYNCING else 1


def render_icon(
    state: State, size: int, frame: int = 0, progress: float | None = None
) -> Image.Image:
    """Draw the RGBA icon of `state`, `size` pixels square.

    `frame` selects the animation step (taken modulo `icon_frames(state)`); `progress`
    (0..1, syncing only) fills the badge from the bottom as files arrive.
    """
    if size < 1:
        raise ValueError(f"icon size must be positive, not {size}")
    canvas = Image.new("RGBA", (size * _SUPERSAMPLE,) * 2, (0, 0, 0, 0))
    pen = _Pen(ImageDraw.Draw(canvas), float(size * _SUPERSAMPLE))
    look = _LOOKS[state]

    if state is State.SYNCING and progress is not None:
        _badge(canvas, pen, look, remaining=_SYNC_REMAINING, progress=progress)
    else:
        _badge(canvas, pen, look)

    frame %= icon_frames(state)
    if state is State.IDLE:
        _check_mark(pen, look.glyph)
    elif state is State.SYNCING:
        _circular_arrows(pen, look.glyph, turn=frame / SYNC_FRAMES * 180.0)
    elif state is State.PAUSED:
        _pause_bars(pen, look.glyph)
    elif state is State.OFFLINE:
        _cloud_with_slash(pen, look.glyph, look.outline)
    elif state is State.ERROR:
        _cross(pen, look.glyph)
    elif state is State.ATTENTION:
        _exclamation(pen, look.glyph)
    else:
        _stop_square(pen, look.glyph)

    return canvas.resize((size, size), Image.Resampling.LANCZOS)


class _Pen:
    """Draws in unit coordinates on the oversized canvas, with round line ends."""

    def __init__(self, draw: ImageDraw.ImageDraw, side: float) -> None:
        self.draw = draw
        self.side = side

    def at(self, x: float, y: float) -> _Point:
        return (x * self.side, y * self.side)

    def px(self, length: float) -> int:
        return max(1, round(length * self.side))

    def dot(self, centre: _Point, radius: float, colour: _Colour) -> None:
        x, y = self.at(*centre)
        r = radius * self.side
        self.draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)

    def line(self, points: Sequence[_Point], width: float, colour: _Colour) -> None:
        self.draw.line([self.at(*p) for p in points], fill=colour, width=self.px(width))
        # Pillow rounds joints but not the two ends.
        for end in (points[0], points[-1]):
            self.dot(end, width / 2, colour)
        for joint in points[1:-1]:
            self.dot(joint, width / 2, colour)

    def arc(
        self,
        centre: _Point,
        radius: float,
        start: float,
        end: float,
        width: float,
        colour: _Colour,
    ) -> None:
        """A stroke along a circle; angles in degrees, clockwise from three o'clock."""
        x, y = self.at(*centre)
        outer = (radius + width / 2) * self.side  # Pillow strokes an arc inwards from its box
        self.draw.arc(
            (x - outer, y - outer, x + outer, y + outer),
            start,
            end,
            fill=colour,
            width=self.px(width),
        )

    def polygon(self, points: Sequence[_Point], colour: _Colour) -> None:
        self.draw.polygon([self.at(*p) for p in points], fill=colour)

    def rounded_box(
        self, box: tuple[float, float, float, float], radius: float, colour: _Ink
    ) -> None:
        x0, y0 = self.at(box[0], box[1])
        x1, y1 = self.at(box[2], box[3])
        self.draw.rounded_rectangle((x0, y0, x1, y1), radius=self.px(radius), fill=colour)


def _badge(
    canvas: Image.Image,
    pen: _Pen,
    look: _Look,
    remaining: _Colour | None = None,
    progress: float = 0.0,
) -> None:
    """The common rounded square: dark rim (light bars), coloured face (dark bars)."""
    low, high = _MARGIN, 1.0 - _MARGIN
    pen.rounded_box((low, low, high, high), _CORNER, look.outline)
    inner = (low + _OUTLINE, low + _OUTLINE, high - _OUTLINE, high - _OUTLINE)
    inner_corner = _CORNER - _OUTLINE
    if remaining is None:
        # Paint the face on a cleared rim interior so a translucent fill stays translucent.
        _clear_inside(canvas, pen, inner, inner_corner)
        pen.rounded_box(inner, inner_corner, look.fill)
        return
    pen.rounded_box(inner, inner_corner, remaining)
    done = min(1.0, max(0.0, progress))
    level = inner[3] - (inner[3] - inner[1]) * done
    mask = Image.new("L", canvas.size, 0)
    mask_pen = _Pen(ImageDraw.Draw(mask), pen.side)
    mask_pen.rounded_box(inner, inner_corner, 255)
    mask_pen.draw.rectangle((0, 0, canvas.size[0], level * pen.side), fill=0)
    canvas.paste(Image.new("RGBA", canvas.size, look.fill), (0, 0), mask)


def _clear_inside(
    canvas: Image.Image, pen: _Pen, box: tuple[float, float, float, float], radius: float
) -> None:
    mask = Image.new("L", canvas.size, 0)
    _Pen(ImageDraw.Draw(mask), pen.side).rounded_box(box, radius, 255)
    canvas.paste((0, 0, 0, 0), (0, 0, *canvas.size), mask)


def _check_mark(pen: _Pen, colour: _Colour) -> None:
    pen.line([(0.27, 0.52), (0.43, 0.68), (0.73, 0.35)], _STROKE, colour)


def _circular_arrows(pen: _Pen, colour: _Colour, turn: float) -> None:
    """Two arrows chasing each other round a circle, turned `turn` degrees clockwise."""
    centre, radius, sweep = (0.5, 0.5), 0.23, 118.0
    width = _STROKE * 0.85
    for start in (turn + 200.0, turn + 20.0):
        end = start + sweep
        pen.arc(centre, radius, start, end, width, colour)
        pen.dot(_on_circle(centre, radius, start), width / 2, colour)
        _arrow_head(pen, centre, radius, end, width, colour)


def _on_circle(centre: _Point, radius: float, degrees: float) -> _Point:
    a = math.radians(degrees)
    return (centre[0] + radius * math.cos(a), centre[1] + radius * math.sin(a))


def _arrow_head(
    pen: _Pen, centre: _Point, radius: float, degrees: float, width: float, colour: _Colour
) -> None:
    """A triangle at the end of an arc, pointing clockwise along it."""
    a = math.radians(degrees)
    tangent = (-math.sin(a), math.cos(a))
    half = width * 1.35
    base_in = _on_circle(centre, radius - half, degrees)
    base_out = _on_circle(centre, radius + half, degrees)
    mid = _on_circle(centre, radius, degrees)
    tip = (mid[0] + tangent[0] * half * 1.25, mid[1] + tangent[1] * half * 1.25)
    pen.polygon([base_in, base_out, tip], colour)


def _pause_bars(pen: _Pen, colour: _Colour) -> None:
    for left in (0.31, 0.55):
        pen.rounded_box((left, 0.28, left + 0.14, 0.72), 0.04, colour)


def _cloud_with_slash(pen: _Pen, colour: _Colour, slash: _Colour) -> None:
    # The cloud: three puffs on a flat bottom, as wide as the badge allows.
    pen.dot((0.34, 0.58), 0.13, colour)
    pen.dot((0.52, 0.45), 0.18, colour)
    pen.dot((0.69, 0.57), 0.125, colour)
    pen.rounded_box((0.21, 0.56, 0.81, 0.72), 0.08, colour)
    # A dark slash across it: a white one would vanish into the cloud at 16 px.
    pen.line([(0.26, 0.24), (0.76, 0.8)], _STROKE * 0.85, slash)


def _cross(pen: _Pen, colour: _Colour) -> None:
    pen.line([(0.31, 0.31), (0.69, 0.69)], _STROKE, colour)
    pen.line([(0.69, 0.31), (0.31, 0.69)], _STROKE, colour)


def _exclamation(pen: _Pen, colour: _Colour) -> None:
    pen.line([(0.5, 0.25), (0.5, 0.55)], _STROKE * 1.1, colour)
    pen.dot((0.5, 0.73), _STROKE * 0.62, colour)


def _stop_square(pen: _Pen, colour: _Colour) -> None:
    pen.rounded_box((0.35, 0.35, 0.65, 0.65), 0.04, colour)
