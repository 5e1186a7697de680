"""Specification of how untrusted remote names become safe local names."""

from __future__ import annotations

import random
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.core.names import (
    assign_local_names,
    collision_key,
    is_safe_local_name,
    safe_local_name,
)

# Text rich in the characters that cause trouble: forbidden ones, dots, spaces, controls,
# combining marks, case pairs and reserved device names.
_tricky_alphabet = st.sampled_from(
    list('<>:"/\\|?*. \x00\x1f\x7f\t\naAbBcCnNoOuUlLpPtTxX_-0123¹é\u0301ÅÅßẞİı😀')
)
tricky_names = st.one_of(
    st.text(),
    st.text(_tricky_alphabet, max_size=12),
    st.builds(
        lambda device, rest: device + rest,
        st.sampled_from(["CON", "prn", "Aux", "nul", "COM1", "lpt9", "com³"]),
        st.text(_tricky_alphabet, max_size=6),
    ),
    st.text(min_size=200, max_size=400),
)
safe_names = tricky_names.map(safe_local_name).filter(lambda name: name is not None)


def utf8_len(name: str) -> int:
    return len(name.encode("utf-8"))


# --- safe_local_name: examples -------------------------------------------------------------


def test_ordinary_names_are_kept_as_they_are() -> None:
    assert safe_local_name("Song 123 - Intro.mp4") == "Song 123 - Intro.mp4"


def test_names_are_nfc_normalised() -> None:
    assert safe_local_name("Cafe\u0301.jpg") == "Café.jpg"


@pytest.mark.parametrize("char", list('<>:"/\\|?*'))
def test_characters_forbidden_on_windows_become_underscores(char: str) -> None:
    assert safe_local_name(f"a{char}b.jpg") == "a_b.jpg"


@pytest.mark.parametrize("char", ["\x00", "\x01", "\t", "\n", "\x1f", "\x7f"])
def test_control_characters_become_underscores(char: str) -> None:
    assert safe_local_name(f"a{char}b") == "a_b"


def test_a_trailing_dot_becomes_an_underscore() -> None:
    assert safe_local_name("photo.") == "photo_"


def test_a_trailing_space_becomes_an_underscore() -> None:
    assert safe_local_name("photo ") == "photo_"


def test_only_the_last_of_several_trailing_dots_and_spaces_is_replaced() -> None:
    assert safe_local_name("a. ") == "a._"


@pytest.mark.parametrize(
    "name", ["CON", "con", "PRN", "AUX", "NUL", "COM1", "com9", "LPT1", "lpt9", "COM¹", "LPT³"]
)
def test_reserved_device_names_get_an_underscore_prefix(name: str) -> None:
    assert safe_local_name(name) == "_" + name


@pytest.mark.parametrize("name", ["con.txt", "NUL.tar.gz", "Aux.jpg", "con .txt"])
def test_reserved_device_names_with_an_extension_get_an_underscore_prefix(name: str) -> None:
    assert safe_local_name(name) == "_" + name


@pytest.mark.parametrize("name", ["CONSOLE.txt", "COM10", "LPT0", "nullable.jpg", "icon.png"])
def test_names_that_merely_start_like_a_device_are_kept(name: str) -> None:
    assert safe_local_name(name) == name


def test_long_names_are_cut_to_255_bytes_keeping_the_extension() -> None:
    local = safe_local_name("x" * 300 + ".jpg")
    assert local == "x" * 251 + ".jpg"


def test_truncation_never_splits_a_character() -> None:
    local = safe_local_name("é" * 200)
    assert local == "é" * 127  # 254 bytes: half of the 128th é would not fit


def test_an_overlong_extension_is_not_kept_whole() -> None:
    local = safe_local_name("a." + "x" * 300)
    assert local is not None
    assert local == ("a." + "x" * 300)[:255]


@pytest.mark.parametrize("name", ["", ".", "..", "...", " ", " . ", "???", "\x00", "/", "\\"])
def test_names_with_nothing_usable_are_skipped(name: str) -> None:
    assert safe_local_name(name) is None


def test_names_starting_with_a_dot_are_kept() -> None:
    assert safe_local_name(".hidden") == ".hidden"


def test_undecodable_bytes_smuggled_in_as_surrogates_become_underscores() -> None:
    assert safe_local_name("a\udcffb") == "a_b"


# --- safe_local_name: properties -----------------------------------------------------------


@given(tricky_names)
def test_safe_local_name_never_raises(name: str) -> None:
    safe_local_name(name)


@given(safe_names)
def test_a_safe_name_maps_to_itself(local: str) -> None:
    assert safe_local_name(local) == local
    assert is_safe_local_name(local)


@given(safe_names)
def test_a_safe_name_fits_in_255_bytes(local: str) -> None:
    assert 0 < utf8_len(local) <= 255


@given(safe_names)
def test_a_safe_name_is_nfc(local: str) -> None:
    assert unicodedata.is_normalized("NFC", local)


@given(safe_names)
def test_a_safe_name_has_no_forbidden_or_control_characters(local: str) -> None:
    assert not any(ch in '<>:"/\\|?*' or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in local)


@given(safe_names)
def test_a_safe_name_does_not_end_with_a_dot_or_space(local: str) -> None:
    assert local[-1] not in ". "


@given(safe_names)
def test_a_safe_name_is_never_a_device_name(local: str) -> None:
    stem = local.split(".", 1)[0].rstrip(" ").upper()
    devices = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in "1234567"}
    assert stem not in devices


@given(tricky_names)
def test_safe_local_name_is_deterministic(name: str) -> None:
    assert safe_local_name(name) == safe_local_name(name)


# --- collision_key -------------------------------------------------------------------------


def test_names_differing_only_in_case_collide() -> None:
    assert collision_key("Photo.JPG") == collision_key("photo.jpg")


def test_names_differing_only_in_normalisation_collide() -> None:
    assert collision_key("Cafe\u0301") == collision_key("Café")


def test_case_and_normalisation_together_collide() -> None:
    assert collision_key("CAFE\u0301") == collision_key("café")


def test_different_names_do_not_collide() -> None:
    assert collision_key("a.jpg") != collision_key("b.jpg")


@given(st.text())
def test_collision_key_ignores_normalisation(name: str) -> None:
    nfd = unicodedata.normalize("NFD", name)
    nfc = unicodedata.normalize("NFC", name)
    assert collision_key(nfd) == collision_key(nfc) == collision_key(name)


# Case mapping is only an equivalence for ordinary letters (not for dotless ı or lone marks).
_latin_letters = st.text(st.sampled_from(list("abcxyzABCXYZäöüéèçñåøæßÄÖÜÉÈÇÑÅØÆ0123 .-_")))


@given(_latin_letters)
def test_collision_key_ignores_case(name: str) -> None:
    assert collision_key(name.upper()) == collision_key(name.lower()) == collision_key(name)


# --- assign_local_names: examples ----------------------------------------------------------


def test_safe_names_are_assigned_unchanged() -> None:
    result = assign_local_names(["a.jpg", "b.mp4"])
    assert result.mapping == {"a.jpg": "a.jpg", "b.mp4": "b.mp4"}
    assert result.skipped == []


def test_unsafe_names_are_assigned_their_safe_form() -> None:
    assert assign_local_names(["what?.jpg"]).mapping == {"what?.jpg": "what_.jpg"}


def test_unmappable_names_are_skipped_with_a_reason_naming_them() -> None:
    result = assign_local_names([".."])
    assert result.mapping == {}
    [(remote, reason)] = result.skipped
    assert remote == ".."
    assert "“..”" in reason


def test_a_case_collision_keeps_the_first_in_sorted_order() -> None:
    result = assign_local_names(["photo.jpg", "Photo.jpg"])
    assert result.mapping == {"Photo.jpg": "Photo.jpg"}
    assert [remote for remote, _reason in result.skipped] == ["photo.jpg"]


def test_the_reason_for_a_collision_names_both_files() -> None:
    [(_remote, reason)] = assign_local_names(["photo.jpg", "Photo.jpg"]).skipped
    assert "photo.jpg" in reason
    assert "Photo.jpg" in reason


def test_a_name_that_is_already_safe_wins_over_one_mapped_onto_it() -> None:
    result = assign_local_names(["a?", "a_"])
    assert result.mapping == {"a_": "a_"}
    assert [remote for remote, _reason in result.skipped] == ["a?"]


def test_a_normalisation_collision_keeps_one_file() -> None:
    result = assign_local_names(["Cafe\u0301.jpg", "Café.jpg"])
    assert list(result.mapping.values()) == ["Café.jpg"]
    assert len(result.skipped) == 1


def test_duplicate_remote_names_are_assigned_once() -> None:
    result = assign_local_names(["a.jpg", "a.jpg"])
    assert result.mapping == {"a.jpg": "a.jpg"}
    assert result.skipped == []


def test_control_characters_in_a_skip_reason_are_shown_escaped() -> None:
    [(_remote, reason)] = assign_local_names(["\n"]).skipped
    assert "\n" not in reason
    assert "\\u000a" in reason


# --- assign_local_names: properties --------------------------------------------------------

name_lists = st.lists(tricky_names, max_size=12)


@given(name_lists, st.randoms(use_true_random=False))
def test_assignment_does_not_depend_on_input_order(names: list[str], rnd: random.Random) -> None:
    shuffled = list(names)
    rnd.shuffle(shuffled)
    assert assign_local_names(names) == assign_local_names(shuffled)


@given(name_lists)
def test_every_assigned_local_name_is_safe(names: list[str]) -> None:
    for local in assign_local_names(names).mapping.values():
        assert is_safe_local_name(local)


@given(name_lists)
def test_no_two_assigned_local_names_collide(names: list[str]) -> None:
    locals_ = list(assign_local_names(names).mapping.values())
    assert len({collision_key(local) for local in locals_}) == len(locals_)


@given(name_lists)
def test_no_assigned_local_name_can_escape_the_folder(names: list[str]) -> None:
    for local in assign_local_names(names).mapping.values():
        assert "/" not in local
        assert "\\" not in local
        assert local not in {".", ".."}


@given(name_lists)
def test_every_remote_name_is_either_assigned_or_skipped(names: list[str]) -> None:
    result = assign_local_names(names)
    skipped = [remote for remote, _reason in result.skipped]
    assert set(result.mapping) | set(skipped) == set(names)
    assert not set(result.mapping) & set(skipped)


@given(name_lists)
def test_assigning_already_safe_names_is_the_identity(names: list[str]) -> None:
    first = assign_local_names(names).mapping.values()
    again = assign_local_names(first)
    assert again.mapping == {local: local for local in first}
    assert again.skipped == []
