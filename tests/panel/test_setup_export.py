"""The Setup page's field for M³'s auto-export folder: shown, saved, refused when it overlaps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
from installation import Installation
from panel_support import needs_browser, sign_in_url
from panel_support import organizer as organizer  # a fixture
from playwright.sync_api import expect
from test_open import browse, path_of
from test_setup_page import _config, _open


def _form(page: str) -> dict[str, str]:
    """What the page's script sends: every named, enabled field of the setup form."""
    form = page.split('id="setup-form"', 1)[-1].split("</form>", 1)[0]
    answers: dict[str, str] = {}
    for tag in re.findall(r"<(?:input|select)[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or " disabled" in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        answers[name.group(1)] = value.group(1) if value else ""
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', options)
        answers[name] = chosen.group(1) if chosen else ""
    return answers


def _signed_in(installation: Installation) -> tuple[httpx.Client, str]:
    url = sign_in_url(installation, "setup")
    client = browse(url)
    assert client.get(path_of(url)).status_code == 303
    page = client.get("/setup").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token is not None
    client.headers.update({"X-CSRF-Token": token.group(1), "Origin": str(client.base_url)})
    return client, page


def test_the_setup_page_saves_the_export_folder(organizer: Installation, tmp_path: Path):
    export = tmp_path / "M3 export"
    client, page = _signed_in(organizer)
    try:
        assert 'name="export_dir"' in page
        answers = _form(page)
        answers.update(export_dir=str(export), password="")

        saved = client.post("/setup/save", json=answers)

        assert saved.status_code == 200, saved.text
        assert _config(organizer)["export_dir"] == str(export)
        assert f'value="{export}"' in client.get("/setup").text

        # Inside the media folder: refused with the sentence, nothing saved.
        answers.update(export_dir=str(Path(answers["media_dir"]) / "export"))
        refused = client.post("/setup/save", json=answers)

        assert refused.status_code == 400
        assert "export folder" in refused.json()["error"]
        assert _config(organizer)["export_dir"] == str(export)
    finally:
        client.close()


@needs_browser
def test_the_export_field_in_a_real_browser(
    browser: Any, organizer: Installation, tmp_path: Path
) -> None:
    export = tmp_path / "M3 export"
    tab = _open(browser, organizer)
    try:
        tab.get_by_label("Meeting Media Manager's export folder (optional)").fill(str(export))
        tab.get_by_role("button", name="Save", exact=True).click()
        expect(tab.get_by_test_id("setup-result")).to_contain_text("Saved")
        assert _config(organizer)["export_dir"] == str(export)
    finally:
        tab.context.close()
