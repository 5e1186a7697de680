"""Specification of the congregation-folder format: date folders and forcedPrefs.json."""

from __future__ import annotations

import contextlib
import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daemon.core.layout import (
    HIDDEN,
    MEDIA,
    PREFS_FILE,
    RECURRING,
    SETTING_KEYS,
    CongregationSettings,
    dump_forced_prefs,
    format_date_folder,
    is_supported_date_format,
    parse_date_folder,
    parse_forced_prefs,
    validate_setting,
)

SUPPORTED_FORMATS = ["YYYY-MM-DD", "YYYY-MM-DD - dddd", "DD-MM-YYYY", "DD-MM-YYYY - dddd"]
dates = st.dates(min_value=date(1000, 1, 1))


def prefs(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode("utf-8")


def parse(document: dict[str, Any]) -> CongregationSettings:
    settings, _warnings = parse_forced_prefs(prefs(document))
    return settings


def warnings_for(document: dict[str, Any]) -> list[str]:
    _settings, warnings = parse_forced_prefs(prefs(document))
    return warnings


def test_folder_names_match_meeting_media_manager() -> None:
    assert (MEDIA, RECURRING, HIDDEN, PREFS_FILE) == (
        "Media",
        "Recurring",
        "Hidden",
        "forcedPrefs.json",
    )


# --- parse_date_folder ---------------------------------------------------------------------


def test_an_iso_date_folder_is_read() -> None:
    assert parse_date_folder("2026-11-24") == date(2026, 11, 24)


def test_a_day_first_date_folder_is_read() -> None:
    assert parse_date_folder("24-11-2026") == date(2026, 11, 24)


@pytest.mark.parametrize("weekday", ["Tuesday", "mardi", "вторник", "火曜日", "الثلاثاء", "x"])
def test_the_weekday_after_a_date_is_ignored_in_any_language(weekday: str) -> None:
    assert parse_date_folder(f"2026-11-24 - {weekday}") == date(2026, 11, 24)
    assert parse_date_folder(f"24-11-2026 - {weekday}") == date(2026, 11, 24)


def test_surrounding_whitespace_is_tolerated() -> None:
    assert parse_date_folder("  2026-11-24 \t") == date(2026, 11, 24)


@pytest.mark.parametrize("name", ["2026-02-30", "2026-13-01", "31-04-2026", "0000-01-01"])
def test_impossible_dates_are_not_date_folders(name: str) -> None:
    assert parse_date_folder(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "Recurring",
        "notes",
        "2026-11",
        "20261124",
        "2026-11-24x",
        "2026-11-24 -",
        "2026/11/24",
        "11-24-2026x",
        "2026-1-24",
        "٢٠٢٦-١١-٢٤",
        "",
    ],
)
def test_other_names_are_not_date_folders(name: str) -> None:
    assert parse_date_folder(name) is None


@given(st.text())
def test_parse_date_folder_never_raises(name: str) -> None:
    parse_date_folder(name)


@given(dates, st.sampled_from(SUPPORTED_FORMATS))
def test_every_supported_format_reads_back_as_the_same_date(d: date, fmt: str) -> None:
    assert parse_date_folder(format_date_folder(d, fmt)) == d


@given(dates)
def test_the_day_first_format_reads_back(d: date) -> None:
    assert parse_date_folder(f"{d.day:02d}-{d.month:02d}-{d.year:04d}") == d


# --- format_date_folder --------------------------------------------------------------------


def test_date_folders_are_written_iso_by_default() -> None:
    assert format_date_folder(date(2026, 11, 24)) == "2026-11-24"


def test_the_weekday_token_writes_the_english_weekday() -> None:
    assert format_date_folder(date(2026, 11, 24), "YYYY-MM-DD - dddd") == "2026-11-24 - Tuesday"


def test_the_day_first_pattern_is_honoured() -> None:
    assert format_date_folder(date(2026, 11, 24), "DD-MM-YYYY - dddd") == "24-11-2026 - Tuesday"


def test_bracketed_text_is_written_literally() -> None:
    assert format_date_folder(date(2026, 11, 24), "YYYY-MM-DD - [Meeting]") == (
        "2026-11-24 - Meeting"
    )


@pytest.mark.parametrize(
    "fmt",
    [
        "",
        "garbage",
        "MM-DD-YYYY",  # reads back as a different date for many days
        "YYYYMMDD",
        "YYYY-MM-DD HH:mm",
        "YY-MM-DD",
        "YYYY-MM-DD - ddd",
        "YYYY-MM-DD - dddd/evil",
        "[x] YYYY-MM-DD",
        " YYYY-MM-DD",
    ],
)
def test_unusable_patterns_fall_back_to_iso(fmt: str) -> None:
    assert not is_supported_date_format(fmt)
    assert format_date_folder(date(2026, 11, 24), fmt) == "2026-11-24"


# Patterns built from dayjs pieces, so that many of them are close to the supported ones.
dayjs_patterns = st.one_of(
    st.text(),
    st.lists(
        st.sampled_from(["YYYY", "MM", "DD", "dddd", "-", " - ", " ", "[x]", "/", "a", "HH", "Y"]),
        max_size=7,
    ).map("".join),
)


@given(dates, dayjs_patterns)
def test_format_date_folder_always_writes_a_name_that_reads_back(d: date, fmt: str) -> None:
    assert parse_date_folder(format_date_folder(d, fmt)) == d


@given(dates, dayjs_patterns)
def test_an_unsupported_pattern_always_writes_iso(d: date, fmt: str) -> None:
    if not is_supported_date_format(fmt):
        assert format_date_folder(d, fmt) == d.isoformat()


@given(dates, st.sampled_from(SUPPORTED_FORMATS))
def test_a_supported_pattern_is_used_for_every_date(d: date, fmt: str) -> None:
    weekday = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    iso = f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    day_first = f"{d.day:02d}-{d.month:02d}-{d.year:04d}"
    expected = {
        "YYYY-MM-DD": iso,
        "YYYY-MM-DD - dddd": f"{iso} - {weekday[d.weekday()]}",
        "DD-MM-YYYY": day_first,
        "DD-MM-YYYY - dddd": f"{day_first} - {weekday[d.weekday()]}",
    }
    assert format_date_folder(d, fmt) == expected[fmt]


# --- parse_forced_prefs: reading -----------------------------------------------------------

NESTED: dict[str, Any] = {
    "app": {"outputFolderDateFormat": "YYYY-MM-DD - dddd", "congregationName": "North"},
    "media": {"lang": "E"},
    "meeting": {
        "mwDay": 2,
        "weDay": 6,
        "coWeek": "2026-11-24",
        "mwStartTime": "19:00",
        "weStartTime": "10:00",
    },
    "congsync": {"weeksAhead": 3, "keepDays": 14},
}
LEGACY = {
    "mwDay": "2",
    "weDay": "6",
    "lang": "E",
    "outputFolderDateFormat": "YYYY-MM-DD - dddd",
    "congregationName": "North",
    "coWeek": "2026-11-24",
    "mwStartTime": "19:00",
    "weStartTime": "10:00",
}
EXPECTED = CongregationSettings(
    mw_day=2,
    we_day=6,
    co_week=date(2026, 11, 24),
    mw_start_time="19:00",
    we_start_time="10:00",
    output_folder_date_format="YYYY-MM-DD - dddd",
    congregation_name="North",
    lang="E",
)


def typed_fields(settings: CongregationSettings) -> tuple[object, ...]:
    return (
        settings.mw_day,
        settings.we_day,
        settings.co_week,
        settings.mw_start_time,
        settings.we_start_time,
        settings.output_folder_date_format,
        settings.congregation_name,
        settings.lang,
    )


def test_an_empty_settings_object_means_nothing_is_set() -> None:
    assert parse({}) == CongregationSettings()


def test_the_nested_form_is_read() -> None:
    assert typed_fields(parse(NESTED)) == typed_fields(EXPECTED)


def test_the_legacy_flat_form_is_read() -> None:
    assert typed_fields(parse(LEGACY)) == typed_fields(EXPECTED)


def test_congsync_settings_are_read_from_their_own_object() -> None:
    assert dict(parse(NESTED).congsync) == {"weeksAhead": 3, "keepDays": 14}


def test_unknown_congsync_keys_are_not_exposed() -> None:
    assert dict(parse({"congsync": {"weeksAhead": 2, "future": True}}).congsync) == {
        "weeksAhead": 2
    }


def test_the_nested_form_wins_over_the_flat_form() -> None:
    assert parse({"mwDay": "3", "meeting": {"mwDay": 1}}).mw_day == 1


def test_the_flat_form_is_used_when_the_nested_value_is_unusable() -> None:
    assert parse({"mwDay": "3", "meeting": {"mwDay": "soon"}}).mw_day == 3


def test_locked_lists_the_accepted_settings_by_dotted_name() -> None:
    assert parse({"mwDay": "2", "app": {"congregationName": "North"}}).locked == {
        "meeting.mwDay",
        "app.congregationName",
    }


def test_locked_includes_congsync_settings() -> None:
    assert "congsync.weeksAhead" in parse(NESTED).locked


def test_ignored_values_are_not_locked() -> None:
    assert parse({"meeting": {"mwDay": 9}}).locked == frozenset()


def test_null_means_not_set_without_a_warning() -> None:
    assert parse({"meeting": {"mwDay": None}}).mw_day is None
    assert warnings_for({"meeting": {"mwDay": None}}) == []


def test_raw_keeps_the_whole_file() -> None:
    document = {**NESTED, "app": {**NESTED["app"], "theme": "dark"}, "other": [1, 2]}
    assert parse(document).raw == document


@pytest.mark.parametrize("value", [0, 6, "0", "6", " 4 "])
def test_meeting_days_may_be_numbers_or_numeric_strings(value: object) -> None:
    assert parse({"meeting": {"weDay": value}}).we_day == int(str(value))


@pytest.mark.parametrize("value", [7, -1, "7", "Tuesday", 2.0, True, [2], {"d": 2}, ""])
def test_unusable_meeting_days_are_unset_with_a_warning(value: object) -> None:
    assert parse({"meeting": {"mwDay": value}}).mw_day is None
    assert len(warnings_for({"meeting": {"mwDay": value}})) == 1


def test_a_warning_names_the_setting() -> None:
    [warning] = warnings_for({"meeting": {"weDay": 12}})
    assert "meeting.weDay" in warning


@pytest.mark.parametrize(
    "value", ["2026-11-24", "2026-11-24T00:00:00", "2026-11-24T22:00:00.000Z", "2026-11-24 08:00"]
)
def test_the_co_week_is_the_calendar_date_the_value_starts_with(value: str) -> None:
    assert parse({"meeting": {"coWeek": value}}).co_week == date(2026, 11, 24)


@pytest.mark.parametrize("value", ["2026-02-30", "next week", 20261124, "24-11-2026"])
def test_an_unusable_co_week_is_unset_with_a_warning(value: object) -> None:
    assert parse({"meeting": {"coWeek": value}}).co_week is None
    assert len(warnings_for({"meeting": {"coWeek": value}})) == 1


def test_start_times_are_normalised_to_hh_mm() -> None:
    assert parse({"meeting": {"mwStartTime": "9:30"}}).mw_start_time == "09:30"


@pytest.mark.parametrize("value", ["24:00", "19:60", "7pm", 1900, "19"])
def test_unusable_start_times_are_unset_with_a_warning(value: object) -> None:
    assert parse({"meeting": {"weStartTime": value}}).we_start_time is None
    assert len(warnings_for({"meeting": {"weStartTime": value}})) == 1


def test_an_unsupported_folder_date_format_is_unset_with_a_warning() -> None:
    document = {"app": {"outputFolderDateFormat": "MM/DD/YYYY"}}
    assert parse(document).output_folder_date_format is None
    assert len(warnings_for(document)) == 1


@pytest.mark.parametrize("section", ["app", "meeting", "media", "congsync"])
def test_a_section_that_is_not_an_object_is_ignored_with_one_warning(section: str) -> None:
    assert parse({section: [1, 2]}) == CongregationSettings(raw={section: [1, 2]})
    assert len(warnings_for({section: "oops"})) == 1


@pytest.mark.parametrize("value", [{"weeksAhead": 0}, {"weeksAhead": 9}, {"keepDays": 366}])
def test_out_of_range_congsync_settings_are_ignored_with_a_warning(value: dict[str, int]) -> None:
    assert dict(parse({"congsync": value}).congsync) == {}
    assert len(warnings_for({"congsync": value})) == 1


SENSITIVE = {
    "app": {
        "localOutputPath": "C:\\evil",
        "congServer": "evil.example",
        "congServerUser": "mallory",
        "congServerPass": "secret",
        "congServerDir": "/elsewhere",
        "congServerPort": 1,
    },
    "congsync": {"serverUrl": "https://evil.example", "mediaDir": "/tmp", "user": "x"},
    "congServer": "evil.example",
    "localOutputPath": "/tmp",
}


def test_server_account_and_path_settings_are_never_interpreted() -> None:
    settings = parse(SENSITIVE)
    assert settings == CongregationSettings(raw=SENSITIVE)


def test_no_understood_setting_is_a_server_account_or_path_setting() -> None:
    for key in SETTING_KEYS:
        assert not any(word in key.lower() for word in ("server", "user", "pass", "path", "dir"))


def test_a_byte_order_mark_is_tolerated() -> None:
    settings, _warnings = parse_forced_prefs(b"\xef\xbb\xbf" + prefs({"mwDay": "2"}))
    assert settings.mw_day == 2


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"{",
        b"[1, 2]",
        b'"text"',
        b"null",
        b"\xff\xfe{}",
        b'{"mwDay": NaN}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": "' + b"x" * (1024 * 1024) + b'"}',
    ],
    ids=["empty", "broken", "list", "string", "null", "not-utf8", "nan", "deep", "huge"],
)
def test_an_unusable_file_is_refused_with_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_forced_prefs(data)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
prefs_documents = st.dictionaries(
    st.sampled_from(["app", "media", "meeting", "congsync", *LEGACY]) | st.text(),
    json_values
    | st.dictionaries(
        st.sampled_from([key.split(".")[1] for key in SETTING_KEYS]) | st.text(), json_values
    ),
)


@given(prefs_documents)
def test_any_json_object_is_read_without_crashing(document: dict[str, Any]) -> None:
    settings, warnings = parse_forced_prefs(prefs(document))
    assert all(isinstance(warning, str) and warning for warning in warnings)
    assert settings.locked <= set(SETTING_KEYS)


@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_with_a_value_error(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        parse_forced_prefs(data)


# --- dump_forced_prefs ---------------------------------------------------------------------


def dumped(raw: dict[str, Any], changes: dict[str, Any], removals: tuple[str, ...] = ()) -> Any:
    return json.loads(dump_forced_prefs(raw, changes, removals))


def test_a_change_sets_a_nested_key() -> None:
    assert dumped({"meeting": {"weDay": 6}}, {"meeting.mwDay": 1}) == {
        "meeting": {"weDay": 6, "mwDay": 1}
    }


def test_a_change_creates_missing_sections() -> None:
    assert dumped({}, {"congsync.weeksAhead": 3}) == {"congsync": {"weeksAhead": 3}}


def test_a_change_replaces_a_section_that_is_not_an_object() -> None:
    assert dumped({"meeting": "broken"}, {"meeting.mwDay": 1}) == {"meeting": {"mwDay": 1}}


def test_a_removal_deletes_a_nested_key() -> None:
    assert dumped({"meeting": {"mwDay": 1, "weDay": 6}}, {}, ("meeting.mwDay",)) == {
        "meeting": {"weDay": 6}
    }


def test_removing_a_setting_also_removes_its_legacy_flat_alias() -> None:
    assert dumped({"mwDay": "2", "meeting": {"mwDay": 1}}, {}, ("meeting.mwDay",)) == {
        "meeting": {}
    }


def test_removing_a_missing_key_changes_nothing() -> None:
    assert dumped({"a": 1}, {}, ("meeting.mwDay", "x.y.z")) == {"a": 1}


def test_unmentioned_keys_keep_their_values_and_order() -> None:
    raw = {"zeta": 1, "mwDay": "2", "app": {"theme": "dark", "congServer": "x"}, "alpha": [None]}
    result = dumped(raw, {"app.congregationName": "North"})
    assert list(result) == ["zeta", "mwDay", "app", "alpha"]
    assert result["app"] == {"theme": "dark", "congServer": "x", "congregationName": "North"}


def test_the_input_mapping_is_not_modified() -> None:
    raw = {"meeting": {"mwDay": 1}}
    dump_forced_prefs(raw, {"meeting.weDay": 6}, ["meeting.mwDay"])
    assert raw == {"meeting": {"mwDay": 1}}


def test_the_file_is_indented_utf8_json() -> None:
    data = dump_forced_prefs({}, {"app.congregationName": "Zürich"})
    assert data == '{\n  "app": {\n    "congregationName": "Zürich"\n  }\n}\n'.encode()


def test_a_parsed_file_dumps_back_to_the_same_content() -> None:
    settings, _warnings = parse_forced_prefs(prefs({**LEGACY, **NESTED, "x": {"y": [1]}}))
    assert json.loads(dump_forced_prefs(settings.raw, {})) == {**LEGACY, **NESTED, "x": {"y": [1]}}


def test_a_key_both_changed_and_removed_is_refused() -> None:
    with pytest.raises(ValueError):
        dump_forced_prefs({}, {"meeting.mwDay": 1}, ["meeting.mwDay"])


@pytest.mark.parametrize("key", ["app.congServer", "app.localOutputPath", "congsync.user", "x..y"])
def test_server_account_and_path_settings_are_never_written(key: str) -> None:
    with pytest.raises(ValueError):
        dump_forced_prefs({}, {key: "x"})


@given(prefs_documents, st.integers(0, 6), st.integers(0, 6))
def test_dumped_changes_are_read_back(document: dict[str, Any], mw_day: int, we_day: int) -> None:
    data = dump_forced_prefs(document, {"meeting.mwDay": mw_day, "meeting.weDay": we_day})
    settings, _warnings = parse_forced_prefs(data)
    assert (settings.mw_day, settings.we_day) == (mw_day, we_day)


@given(prefs_documents, st.sampled_from(sorted(SETTING_KEYS)))
def test_a_dumped_removal_unlocks_the_setting(document: dict[str, Any], key: str) -> None:
    settings, _warnings = parse_forced_prefs(dump_forced_prefs(document, {}, [key]))
    assert key not in settings.locked


# --- validate_setting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("meeting.mwDay", "1", 1),
        ("meeting.weDay", "6", 6),
        ("meeting.coWeek", "2026-11-24", "2026-11-24"),
        ("meeting.mwStartTime", "19:00", "19:00"),
        ("meeting.weStartTime", "9:30", "09:30"),
        ("app.outputFolderDateFormat", "DD-MM-YYYY - dddd", "DD-MM-YYYY - dddd"),
        ("app.congregationName", " North ", "North"),
        ("media.lang", "E", "E"),
        ("congsync.weeksAhead", "8", 8),
        ("congsync.keepDays", "0", 0),
    ],
)
def test_a_typed_setting_is_converted_to_its_stored_value(key: str, text: str, value: Any) -> None:
    assert validate_setting(key, text) == value


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("meeting.mwDay", "7"),
        ("meeting.mwDay", "Tuesday"),
        ("meeting.coWeek", "2026-02-30"),
        ("meeting.mwStartTime", "25:00"),
        ("app.outputFolderDateFormat", "MM/DD/YYYY"),
        ("app.congregationName", "  "),
        ("media.lang", "English language"),
        ("congsync.weeksAhead", "0"),
        ("congsync.weeksAhead", "9"),
        ("congsync.keepDays", "366"),
        ("congsync.keepDays", "-1"),
    ],
)
def test_a_bad_value_is_refused_with_a_sentence_naming_the_setting(key: str, text: str) -> None:
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        validate_setting(key, text)


@pytest.mark.parametrize("key", ["app.congServer", "app.localOutputPath", "nonsense", ""])
def test_an_unknown_setting_is_refused(key: str) -> None:
    with pytest.raises(ValueError):
        validate_setting(key, "1")


@given(st.sampled_from(sorted(SETTING_KEYS)), st.text())
def test_validate_setting_accepts_or_refuses_with_a_value_error(key: str, text: str) -> None:
    try:
        value = validate_setting(key, text)
    except ValueError:
        return
    assert validate_setting(key, str(value)) == value
