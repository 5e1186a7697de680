"""The convert setting on the Setup page: a choice of this computer's, shown locked when the
congregation enforces it (served page, read over HTTP: no browser needed)."""

from __future__ import annotations

import json

import httpx
from davserver import DavFixture
from installation import Installation
from panel_support import sign_in_url
from support import PREFS, write_prefs


def setup_page(installation: Installation) -> str:
    control = json.loads(installation.member.profile.paths.control_file.read_text("utf-8"))
    signin = sign_in_url(installation, "setup")
    with httpx.Client(base_url=control["url"], trust_env=False, timeout=10) as browser:
        assert browser.get(signin.removeprefix(control["url"])).status_code == 303
        page = browser.get("/setup")
        assert page.status_code == 200
        return page.text


def test_convert_is_a_choice_of_this_computer_until_the_congregation_enforces_it(
    dav: DavFixture, installation: Installation
):
    page = setup_page(installation)
    choice = page.split('<select id="convert"', 1)[1].split("</select>", 1)[0]
    assert "disabled" not in choice.split(">", 1)[0]
    assert '<option value="true" selected>' in choice
    assert 'data-testid="locked-convert"' not in page

    write_prefs(dav, {**PREFS, "congsync": {"convert": False}})
    page = setup_page(installation)

    choice = page.split('<select id="convert"', 1)[1].split("</select>", 1)[0]
    assert "disabled" in choice.split(">", 1)[0]
    assert '<option value="false" selected>' in choice
    assert 'data-testid="locked-convert"' in page
