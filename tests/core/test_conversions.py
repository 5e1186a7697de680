"""Pure rules of conversions: names of what a file becomes, and whether what is owned for a
placement matches the convert setting; the setting itself (local, lockable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import Config
from daemon.core.conversions import conversion_kind, image_name, out_of_step, page_name
from daemon.core.layout import CongregationSettings, parse_forced_prefs
from daemon.core.records import OwnedFile
from daemon.core.settings import describe, effective, set_local
from daemon.errors import ConfigError


def config() -> Config:
    return Config(url="https://example.org/dav", username="u", folder="c", media_dir=Path("/m"))


def owned(name: str, placement: str | None = None) -> OwnedFile:
    return OwnedFile("2030-01-08", name, ("Media", "x"), "v1", 1, 1, placement)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.pdf", "pdf"), ("A.PDF", "pdf"), ("d.Svg", "svg"), ("p.HEIC", "heic"), ("p.heif", "heic")],
)
def test_convertible_names_by_extension_in_any_case(name: str, kind: str):
    assert conversion_kind(name) == kind


@pytest.mark.parametrize("name", ["a.mp4", "a.jpg", "pdf", "a.pdf.txt", "a.svgz"])
def test_other_names_stay_as_they_are(name: str):
    assert conversion_kind(name) is None


def test_pages_are_numbered_to_the_page_counts_width_at_least_two_digits():
    assert page_name("Talk.pdf", 1, 3) == "Talk - page 01.png"
    assert page_name("Talk.pdf", 12, 12) == "Talk - page 12.png"
    assert page_name("Talk.pdf", 7, 150) == "Talk - page 007.png"
    assert page_name("My.talk.PDF", 1, 1) == "My.talk - page 01.png"


def test_an_svg_becomes_a_png_and_a_photo_a_jpeg():
    assert image_name("drawing.SVG") == "drawing.png"
    assert image_name("photo.heif") == "photo.jpg"


def test_placements_out_of_step_with_the_setting():
    records = {
        ("2030-01-08", "Talk - page 01.png"): owned("Talk - page 01.png", "Talk.pdf"),
        ("2030-01-08", "raw.pdf"): owned("raw.pdf"),
        ("2030-01-08", "clip.mp4"): owned("clip.mp4"),
    }
    assert out_of_step(records, convert=True) == {("2030-01-08", "raw.pdf")}
    assert out_of_step(records, convert=False) == {("2030-01-08", "Talk.pdf")}


def test_convert_is_a_local_setting_on_by_default():
    congregation = CongregationSettings()
    assert effective(config(), congregation).convert is True
    changed = set_local(config(), "convert", "off", congregation)
    assert changed.convert is False and effective(changed, congregation).convert is False
    with pytest.raises(ConfigError):
        set_local(config(), "convert", "maybe", congregation)


def test_the_congregation_locks_convert():
    congregation, _warnings = parse_forced_prefs(b'{"congsync": {"convert": false}}')
    assert effective(config(), congregation).convert is False
    view = next(v for v in describe(config(), congregation) if v.key == "convert")
    assert view.locked and view.value is False
    with pytest.raises(ConfigError, match=r"congsync\.convert"):
        set_local(config(), "convert", "on", congregation)
