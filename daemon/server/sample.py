"""Writes the sample congregation folder that `congsync demo` serves: settings, meetings, media."""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from daemon.i18n import _

__all__ = ["SampleSummary", "populate_sample_congregation"]

CONGREGATION_NAME = "Demo Congregation"
WEEKEND_DAY = 6  # Sunday (0 = Monday … 6 = Sunday)
MIDWEEK_START = "19:00"
WEEKEND_START = "10:00"

_SEED = 20240607
_SIZE = (1280, 720)
# Fixed English names: strftime("%A") would follow the machine's locale and break determinism.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Deterministic stand-in for a video: long enough to show a progress bar, cheap to make.
_VIDEO_BYTES = 320 * 1024


@dataclass(frozen=True)
class SampleSummary:
    """What `populate_sample_congregation` wrote."""

    congregation_name: str
    midweek_day: int  # 0 = Monday … 6 = Sunday
    weekend_day: int
    meeting_dates: tuple[date, ...]  # the upcoming meetings that have media, soonest first
    date_folders: tuple[str, ...]  # their folder names under Media/, same order
    past_date: date  # a meeting a week ago, left for cleanup to find
    hidden: tuple[tuple[date, str], ...]  # (meeting date, file name) hidden by a marker
    file_count: int  # every file written, markers and settings included
    total_bytes: int

    @property
    def hidden_names(self) -> tuple[str, ...]:
        return tuple(name for _date, name in self.hidden)


def choose_midweek_day(today: date) -> int:
    """A weekday 1–3 days after `today` that is Monday–Friday, so it never meets the weekend."""
    for offset in (2, 1, 3):
        weekday = (today + timedelta(days=offset)).weekday()
        if weekday <= 4:
            return weekday
    raise AssertionError("three consecutive days always include a weekday")  # pragma: no cover


def next_meeting_dates(today: date, days: tuple[int, ...], count: int) -> tuple[date, ...]:
    """The next `count` dates from `today` on (inclusive) that fall on one of `days`."""
    found: list[date] = []
    d = today
    while len(found) < count:
        if d.weekday() in days:
            found.append(d)
        d += timedelta(days=1)
    return tuple(found)


def _iso(d: date) -> str:
    return d.isoformat()


def _dmy_with_weekday(d: date) -> str:
    # The other spelling seen in the wild, to show that readers must be lenient.
    return f"{d.day:02d}-{d.month:02d}-{d.year:04d} - {_WEEKDAYS[d.weekday()]}"


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _picture(title: str, subtitle: str, rng: random.Random, *, gradient: bool) -> Image.Image:
    """A 1280×720 slide with a title: a gradient for photos (JPEG), flat bands for PNG."""
    hue = (rng.randrange(40, 200), rng.randrange(40, 200), rng.randrange(40, 200))
    dark = tuple(c // 4 for c in hue)
    if gradient:
        ramp = Image.linear_gradient("L").rotate(rng.choice((0, 90, 180, 270))).resize(_SIZE)
        image = ImageOps.colorize(ramp, black=dark, white=hue).convert("RGB")
    else:
        image = Image.new("RGB", _SIZE, dark)
    draw = ImageDraw.Draw(image)
    for _i in range(6):
        x, y = rng.randrange(0, _SIZE[0]), rng.randrange(0, _SIZE[1])
        r = rng.randrange(40, 220)
        shade = tuple(min(255, c + rng.randrange(20, 80)) for c in hue)
        draw.ellipse((x - r, y - r, x + r, y + r), outline=shade, width=6)
    draw.rectangle((0, 250, _SIZE[0], 470), fill=(0, 0, 0))
    draw.text((640, 330), title, font=_font(72), fill=(255, 255, 255), anchor="mm")
    draw.text((640, 420), subtitle, font=_font(32), fill=(210, 210, 210), anchor="mm")
    return image


def _encode(image: Image.Image, suffix: str) -> bytes:
    buffer = io.BytesIO()
    if suffix == ".png":
        image.save(buffer, format="PNG", optimize=True)
    else:
        image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _image(title: str, subtitle: str, suffix: str, rng: random.Random) -> bytes:
    return _encode(_picture(title, subtitle, rng, gradient=suffix != ".png"), suffix)


def _video_like(rng: random.Random) -> bytes:
    # Not a playable video: an MP4 file-type box followed by deterministic noise. It has the
    # size and name of a short clip, which is all a sync needs; players will refuse it.
    header = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return header + rng.randbytes(_VIDEO_BYTES - len(header))


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = 0
        self.bytes = 0

    def write(self, rel_path: str, data: bytes) -> None:
        target = self.folder / rel_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.files += 1
        self.bytes += len(data)


def populate_sample_congregation(folder: Path, today: date) -> SampleSummary:
    """Write a Meeting Media Manager–compatible congregation folder under `folder`.

    The same `today` always gives the same bytes. Existing files of the same names are
    overwritten; anything else in `folder` is left alone.
    """
    rng = random.Random(_SEED)  # noqa: S311  # sample pictures, not secrets
    midweek_day = choose_midweek_day(today)
    upcoming = next_meeting_dates(today, (midweek_day, WEEKEND_DAY), 2)
    folders = (_iso(upcoming[0]), _dmy_with_weekday(upcoming[1]))
    past = today - timedelta(days=7)
    out = _Writer(folder)

    prefs = {
        "app": {"congregationName": CONGREGATION_NAME, "outputFolderDateFormat": "YYYY-MM-DD"},
        "meeting": {
            "mwDay": midweek_day,
            "weDay": WEEKEND_DAY,
            "mwStartTime": MIDWEEK_START,
            "weStartTime": WEEKEND_START,
        },
        "media": {"lang": "E"},
    }
    out.write("forcedPrefs.json", (json.dumps(prefs, indent=2) + "\n").encode("utf-8"))

    demo_note = _("Sample image made by congsync demo")
    out.write(
        "Media/Recurring/Year text.png",
        _image(_("Year text {year}").format(year=today.year), demo_note, ".png", rng),
    )
    out.write(
        "Media/Recurring/Announcement.jpg",
        _image(_("Announcements"), demo_note, ".jpg", rng),
    )

    first = [
        ("01 Opening slide.jpg", _("Opening slide")),
        ("02 Talk illustration.png", _("Talk illustration")),
        ("03 Map of the journey.jpg", _("Map of the journey")),
    ]
    for name, title in first:
        subtitle = _("Meeting of {date}").format(date=upcoming[0].isoformat())
        out.write(f"Media/{folders[0]}/{name}", _image(title, subtitle, Path(name).suffix, rng))
    out.write(f"Media/{folders[0]}/04 Short clip.mp4", _video_like(rng))

    second = [
        ("01 Welcome.jpg", _("Welcome")),
        ("02 Café scene.png", _("Illustration")),  # a non-ASCII name, as real folders have
    ]
    for name, title in second:
        subtitle = _("Meeting of {date}").format(date=upcoming[1].isoformat())
        out.write(f"Media/{folders[1]}/{name}", _image(title, subtitle, Path(name).suffix, rng))
    out.write(f"Media/{folders[1]}/03 Short clip.mp4", _video_like(rng))

    past_subtitle = _("Meeting of {date}").format(date=past.isoformat())
    out.write(
        f"Media/{_iso(past)}/01 Last week.jpg",
        _image(_("Last week"), past_subtitle, ".jpg", rng),
    )

    hidden_name = first[2][0]
    out.write(f"Hidden/{folders[0]}/{hidden_name}", b"")

    out.write(
        "custom-background-image-demo.jpg",
        _image(CONGREGATION_NAME, _("A file that is not meeting media"), ".jpg", rng),
    )

    return SampleSummary(
        congregation_name=CONGREGATION_NAME,
        midweek_day=midweek_day,
        weekend_day=WEEKEND_DAY,
        meeting_dates=upcoming,
        date_folders=folders,
        past_date=past,
        hidden=((upcoming[0], hidden_name),),
        file_count=out.files,
        total_bytes=out.bytes,
    )
