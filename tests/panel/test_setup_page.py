"""The Setup page in a real browser, against real daemons and the real TLS WebDAV server."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from davserver import DavFixture
from installation import Installation, wait_until
from panel_support import keyring_installation as _installation
from panel_support import needs_browser, sign_in_url
from panel_support import organizer as organizer  # a fixture
from playwright.sync_api import expect
from support import PREFS, write_prefs

pytestmark = needs_browser


@pytest.fixture
def member(dav: DavFixture, tmp_path: Path) -> Iterator[Installation]:
    installed = _installation(dav, tmp_path / "member")
    try:
        yield installed
    finally:
        installed.close()


def _open(browser: Any, installation: Installation, page: str = "setup") -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.goto(sign_in_url(installation, page))
    return tab


def _config(installation: Installation) -> dict[str, Any]:
    path = installation.member.profile.paths.config_file
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    return data


def test_setup_with_a_provider_preset_and_folder_browsing_saves_and_the_daemon_syncs(
    browser: Any, member: Installation, dav: DavFixture, tmp_path: Path
) -> None:
    (dav.root / "Other folder").mkdir()
    before = member.status()["cycles_finished"]
    tab = _open(browser, member)
    try:
        tab.get_by_role("button", name="Providers").click()
        assert tab.get_by_text("the best server is the one you own").is_visible()
        tab.get_by_role("button", name="A self-hosted congsync server").click()
        url = tab.get_by_label("Web address")
        assert url.input_value() == "https://HOST:PORT/"
        tab.keyboard.type("127.0.0.1")  # the preset selected HOST, so typing replaces it
        port = dav.base_url.rsplit(":", 1)[1].strip("/")
        assert url.input_value() == "https://127.0.0.1:PORT/"
        url.fill(url.input_value().replace("PORT", port))

        tab.get_by_label("Folder on the server").fill("")
        tab.get_by_role("button", name="Browse…").click()
        # The account's root: every folder there, the congregation's among them.
        expect(tab.get_by_test_id("browser-where")).to_have_text("/")
        tab.get_by_role("button", name="Other folder").wait_for()
        tab.get_by_role("button", name=dav.folder, exact=True).click()
        expect(tab.get_by_test_id("browser-where")).to_have_text(f"/{dav.folder}")
        assert (
            "looks like a congregation folder" in tab.get_by_test_id("folder-verdict").inner_text()
        )
        tab.get_by_role("button", name="Use this folder").click()
        assert tab.get_by_label("Folder on the server").input_value() == dav.folder

        tab.get_by_label("Password").fill(dav.password)
        tab.get_by_role("button", name="Save").click()
        result = tab.get_by_test_id("setup-result")
        expect(result).to_contain_text("Saved")
        assert "error" not in (result.get_attribute("class") or "")

        saved = _config(member)
        assert saved["url"] == f"https://127.0.0.1:{port}/"
        assert saved["folder"] == dav.folder
        assert saved["ca_bundle"] == str(dav.ca_path)  # what the page does not ask is kept
        keyring = json.loads((tmp_path / "member" / "keyring.json").read_text(encoding="utf-8"))
        assert dav.password in keyring.values()
        # The running daemon took the new settings at once: it synced again.
        wait_until(lambda: member.status()["cycles_finished"] > before, timeout=30)

        # The password is never sent back, on any page.
        for page in ("/setup", "/status", "/media"):
            tab.goto(sign_in_url(member, page.strip("/")))
            assert dav.password not in tab.content()
            assert tab.get_by_label("Password").count() == 0 or (
                tab.get_by_label("Password").input_value() == ""
            )
    finally:
        tab.context.close()


def test_test_connection_diagnoses_a_wrong_password_and_a_retired_provider(
    browser: Any, member: Installation
) -> None:
    tab = _open(browser, member)
    try:
        result = tab.get_by_test_id("setup-result")
        tab.get_by_label("Password").fill("not-the-password")
        tab.get_by_role("button", name="Test connection").click()
        expect(result).to_contain_text("refused the username or password")
        assert "app password" in result.inner_text()  # what to do
        assert "error" in (result.get_attribute("class") or "")

        tab.get_by_label("Password").fill("")  # the stored one
        tab.get_by_role("button", name="Test connection").click()
        expect(result).to_contain_text("The connection works")

        tab.get_by_label("Web address").fill("https://dav.box.com/dav")
        tab.get_by_role("button", name="Test connection").click()
        expect(result).to_contain_text("Box no longer offers WebDAV")
        assert _config(member)["url"] == member.member.dav.base_url  # a test saves nothing
    finally:
        tab.context.close()


def test_an_enforced_setting_is_locked_on_a_members_panel(
    browser: Any, dav: DavFixture, organizer: Installation, member: Installation
) -> None:
    # What congsync does not know stays in forcedPrefs.json.
    write_prefs(dav, {**PREFS, "custom": {"kept": True}})
    tab = _open(browser, organizer)
    try:
        weeks = tab.locator('tr[data-setting="congsync.weeksAhead"]')
        weeks.get_by_label("Weeks ahead to sync", exact=True).fill("3")
        weeks.get_by_role("checkbox").check()
        weekend = tab.locator('tr[data-setting="meeting.weDay"]')
        assert weekend.get_by_role("checkbox").is_checked()
        weekend.get_by_role("checkbox").uncheck()
        tab.get_by_role("button", name="Save congregation-wide settings").click()
        result = tab.get_by_test_id("congregation-result")
        expect(result).to_contain_text("whole congregation")
    finally:
        tab.context.close()

    prefs = json.loads(dav.path("forcedPrefs.json").read_text(encoding="utf-8"))
    assert prefs["congsync"]["weeksAhead"] == 3
    assert "weDay" not in prefs["meeting"] and prefs["meeting"]["mwDay"] == 1
    assert prefs["custom"] == {"kept": True}

    seen = _open(browser, member)
    try:
        weeks_field = seen.get_by_label("Weeks ahead", exact=True)
        assert weeks_field.is_disabled()
        assert weeks_field.input_value() == "3"
        assert seen.get_by_test_id("locked-weeks_ahead").is_visible()
        assert not seen.get_by_label("Day of the weekend meeting", exact=True).is_disabled()
        assert seen.get_by_label("Day of the midweek meeting", exact=True).is_disabled()
        enforced = " ".join(seen.get_by_test_id("enforced").all_inner_texts())
        assert "Weeks ahead to sync" in enforced and "3" in enforced
        assert "Day of the weekend meeting" not in enforced
        assert "Set by the congregation's organizer" in seen.content()
        assert seen.locator("#congregation-form").count() == 0  # no switches for members
    finally:
        seen.context.close()
