"""The tray icons: every state draws at every size, and states differ in shape, not only colour."""

from __future__ import annotations

from itertools import combinations, pairwise

import pytest
from PIL import Image, ImageChops

from daemon.service.status import State
from tray.icons import SIZES, SYNC_FRAMES, icon_frames, render_icon

STATES = list(State)
STATE_PAIRS = list(combinations(STATES, 2))


def _differing_pixels(a: Image.Image, b: Image.Image, threshold: int = 48) -> int:
    """Pixels where any channel (alpha included) differs by more than `threshold`."""
    diff = ImageChops.difference(a, b)
    channels = diff.split()
    peak = channels[0]
    for channel in channels[1:]:
        peak = ImageChops.lighter(peak, channel)
    return sum(1 for value in peak.tobytes() if value > threshold)


def _shape_mask(icon: Image.Image) -> list[bool]:
    """The glyph of an icon seen without colour: in greyscale, which pixels stand out from the face.

    Only the middle of the icon counts (the rim is the same for every state), and "stands out"
    is measured from that area's median grey, so the face's own colour or lightness cancels out.
    """
    size = icon.width
    flat = Image.new("RGBA", icon.size, (128, 128, 128, 255))
    flat.alpha_composite(icon)
    low, high = round(size * 0.15), round(size * 0.85)
    values = list(flat.convert("L").crop((low, low, high, high)).tobytes())
    face = sorted(values)[len(values) // 2]
    return [abs(v - face) > 48 for v in values]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", STATES)
def test_every_state_renders_at_every_size_as_rgba(state: State, size: int) -> None:
    icon = render_icon(state, size)
    assert icon.size == (size, size)
    assert icon.mode == "RGBA"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", STATES)
def test_every_icon_has_visible_content(state: State, size: int) -> None:
    alpha = render_icon(state, size).getchannel("A")
    opaque = sum(1 for value in alpha.tobytes() if value >= 200)
    assert opaque >= size * size * 0.15  # "stopped" is hollow: its rim and glyph only


@pytest.mark.parametrize("size", SIZES)
def test_icons_leave_a_transparent_margin_for_the_bar(size: int) -> None:
    icon = render_icon(State.IDLE, size)
    assert icon.getpixel((0, 0))[3] == 0  # type: ignore[index]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("first", "second"), STATE_PAIRS, ids=lambda s: s.value)
def test_any_two_states_differ_pixel_wise(first: State, second: State, size: int) -> None:
    changed = _differing_pixels(render_icon(first, size), render_icon(second, size))
    assert changed >= size * size * 0.05


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("first", "second"), STATE_PAIRS, ids=lambda s: s.value)
def test_any_two_states_differ_in_shape_without_colour(
    first: State, second: State, size: int
) -> None:
    a, b = _shape_mask(render_icon(first, size)), _shape_mask(render_icon(second, size))
    changed = sum(1 for x, y in zip(a, b, strict=True) if x != y)
    assert changed >= len(a) * 0.08


def test_only_syncing_is_animated() -> None:
    assert icon_frames(State.SYNCING) == SYNC_FRAMES > 1
    assert all(icon_frames(state) == 1 for state in STATES if state is not State.SYNCING)


@pytest.mark.parametrize("size", SIZES)
def test_syncing_frames_turn(size: int) -> None:
    frames = [render_icon(State.SYNCING, size, frame=f) for f in range(SYNC_FRAMES)]
    for this, following in pairwise(frames):
        assert _differing_pixels(this, following, threshold=24) > 0


def test_frames_wrap_around() -> None:
    first = render_icon(State.SYNCING, 32, frame=0)
    assert _differing_pixels(first, render_icon(State.SYNCING, 32, frame=SYNC_FRAMES)) == 0


def test_still_states_ignore_the_frame() -> None:
    assert _differing_pixels(render_icon(State.IDLE, 24), render_icon(State.IDLE, 24, frame=5)) == 0


@pytest.mark.parametrize("size", SIZES)
def test_progress_shows_as_the_badge_fills(size: int) -> None:
    empty = render_icon(State.SYNCING, size, progress=0.0)
    half = render_icon(State.SYNCING, size, progress=0.5)
    full = render_icon(State.SYNCING, size, progress=1.0)
    assert _differing_pixels(empty, half, threshold=24) >= size * size * 0.1
    assert _differing_pixels(half, full, threshold=24) >= size * size * 0.1


def test_progress_out_of_range_is_clamped() -> None:
    assert (
        _differing_pixels(
            render_icon(State.SYNCING, 32, progress=1.7),
            render_icon(State.SYNCING, 32, progress=1.0),
        )
        == 0
    )


def test_rendering_is_deterministic() -> None:
    assert _differing_pixels(render_icon(State.OFFLINE, 20), render_icon(State.OFFLINE, 20)) == 0


def test_other_sizes_work_too() -> None:
    assert render_icon(State.ERROR, 22).size == (22, 22)  # macOS's menu bar


def test_a_size_below_one_pixel_is_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        render_icon(State.IDLE, 0)
