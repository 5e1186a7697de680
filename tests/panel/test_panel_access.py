"""Who may open the panel: a signed-in browser of this computer, nobody else."""

from __future__ import annotations

import json
from typing import Any

import httpx
from installation import Installation
from panel_support import needs_browser, sign_in_url


def control(installation: Installation) -> dict[str, Any]:
    path = installation.member.profile.paths.control_file
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_requests_without_a_session_a_foreign_host_or_origin_or_the_csrf_token_are_refused(
    installation: Installation,
):
    url = control(installation)["url"]
    port = control(installation)["port"]
    signin = sign_in_url(installation)
    with httpx.Client(base_url=url, trust_env=False, timeout=10) as browser:
        assert browser.get("/status").status_code == 401  # no session
        assert browser.get(signin.removeprefix(url)).status_code == 303
        assert browser.get("/status").status_code == 200  # signed in
        page = browser.get("/status").text
        assert 'name="csrf-token"' in page
        csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        origin = {"Origin": f"http://127.0.0.1:{port}"}
        # DNS rebinding: a page of another name resolving to 127.0.0.1.
        assert browser.get("/status", headers={"Host": f"evil.example:{port}"}).status_code == 403
        # Another site's page posting with the visitor's cookie.
        foreign = {"Origin": "http://evil.example", "X-CSRF-Token": csrf}
        assert browser.post("/v1/pause", json={}, headers=foreign).status_code == 403
        # Our own origin, but not the page's CSRF token.
        assert browser.post("/v1/pause", json={}, headers=origin).status_code == 403
        assert installation.status()["state"] == "idle"
        ok = browser.post("/v1/pause", json={}, headers={**origin, "X-CSRF-Token": csrf})
        assert ok.status_code == 202
    assert installation.wait_state("paused")


@needs_browser
def test_the_status_page_opens_signed_in_and_its_buttons_work(
    panel: Any, installation: Installation
):
    assert panel.get_by_test_id("state").get_attribute("data-state") == "idle"
    panel.get_by_role("button", name="Pause").click()
    installation.wait_state("paused")
    panel.reload()
    panel.get_by_role("button", name="Resume").click()
    installation.wait_state("idle")
