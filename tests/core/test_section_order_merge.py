"""M³'s layout file: parsed, re-keyed for the server, merged into a member's own."""

from __future__ import annotations

import json

import pytest

from daemon.core.names import safe_local_name
from daemon.core.section_order import (
    is_section_order_file,
    merge,
    parse,
    serialize,
    to_remote,
)


def test_the_layout_and_m3s_temporary_files_are_recognised():
    assert is_section_order_file(".section-order.json")
    assert is_section_order_file(".section-order.json.1764680000000.tmp")
    assert not is_section_order_file("section-order.json")
    assert not is_section_order_file(".section-order.json.bak")
    assert not is_section_order_file("talk.mp4")


@pytest.mark.parametrize("data", [b'{"a.mp4": {"ord', b"[1, 2]", b"\xff\xfe", b""])
def test_a_truncated_or_foreign_file_is_no_layout(data: bytes):
    assert parse(data) is None


def test_values_are_kept_as_m3_wrote_them():
    data = json.dumps({"a.mp4": {"order": "2", "section": "custom-7", "extra": 1}}).encode()
    assert parse(data) == {"a.mp4": {"order": "2", "section": "custom-7", "extra": 1}}
    assert parse(serialize(parse(data) or {})) == parse(data)


def test_only_the_congregations_files_are_published_under_their_remote_names():
    entries = {"what_.jpg": {"order": 0}, "mine.jpg": {"order": 1}, "song.mp4": {"order": 2}}
    remote_names = {"what_.jpg": "what?.jpg", "song.mp4": "song.mp4"}
    assert to_remote(entries, remote_names) == {
        "what?.jpg": {"order": 0},
        "song.mp4": {"order": 2},
    }


def test_the_organizers_entries_win_for_his_files_and_the_members_others_stay():
    own = {"mine.jpg": {"order": 0, "section": "lac"}, "talk.mp4": {"order": 9, "section": "pt"}}
    published = {"talk?.mp4": {"order": 1, "section": "tgw"}, "absent.jpg": {"order": 2}}
    merged = merge(own, published, {"talk?.mp4": "talk_.mp4", "photo.jpg": "photo.jpg"})
    assert merged == {
        "mine.jpg": {"order": 0, "section": "lac"},
        "talk.mp4": {"order": 9, "section": "pt"},
        "talk_.mp4": {"order": 1, "section": "tgw"},
    }


@pytest.mark.parametrize(
    "name",
    [
        "01 Treasures From God’s Word - 01 “Be Joyful”.mp4",
        "03 Living as Christians - 12 Song 151.mp3",
        "10 Imported media - 100 It's a photo.jpg",
    ],
)
def test_m3_export_names_map_to_themselves(name: str):
    assert safe_local_name(name) == name
