"""The status page of a member's computer, in a real browser against a real daemon and server."""

from __future__ import annotations

import io
from typing import Any

from davserver import DavFixture
from installation import TOMORROW, Installation
from panel_support import needs_browser
from PIL import Image


def png(colour: str = "red", size: tuple[int, int] = (800, 500)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def publish_tomorrow(dav: DavFixture) -> None:
    dav.put_file(f"Media/{TOMORROW}/slide.png", png())
    dav.put_file(f"Media/{TOMORROW}/song.mp4", b"\x00" * 50_000)


def base_url(panel: Any) -> str:
    return str(panel.url).split("/status", 1)[0]


@needs_browser
def test_a_member_sees_ready_a_thumbnail_the_log_and_working_buttons(
    panel: Any, installation: Installation, dav: DavFixture
):
    state = panel.get_by_test_id("state")
    assert state.get_attribute("data-state") == "idle"
    assert state.inner_text() == "Up to date"
    assert "today at" in panel.get_by_test_id("last-check").inner_text()

    publish_tomorrow(dav)
    panel.get_by_role("button", name="Sync now").click()
    # No reload: the page follows the daemon (long poll) and says so in words.
    meeting = panel.locator(f'[data-testid="meeting"][data-date="{TOMORROW}"]')
    readiness = meeting.get_by_test_id("readiness")
    readiness.wait_for()
    panel.wait_for_function(
        "el => el.textContent.includes('Ready for')", arg=readiness.element_handle()
    )
    assert readiness.inner_text() == "Ready for tomorrow's meeting: 2 of 2 files"
    assert meeting.get_by_text("song.mp4").is_visible()
    assert meeting.get_by_text("50.0 KB").is_visible()
    thumb = meeting.locator("img.thumb")
    assert thumb.count() == 1  # the picture, not the video
    panel.wait_for_function(
        "img => img.complete && img.naturalWidth > 0 && img.naturalWidth <= 160",
        arg=thumb.element_handle(),
    )
    assert "Sync cycle finished" in panel.get_by_test_id("log").inner_text()
    assert panel.get_by_text("None: the last sync went well.").is_visible()

    panel.get_by_role("button", name="Pause").click()
    installation.wait_state("paused")
    resume = panel.get_by_role("button", name="Resume")
    resume.wait_for()  # shown without a reload
    assert not panel.get_by_role("button", name="Pause").is_visible()
    panel.wait_for_function(
        "el => el.dataset.state === 'paused'", arg=state.element_handle(timeout=5000)
    )
    resume.click()
    installation.wait_state("idle")
    panel.get_by_role("button", name="Pause").wait_for()


@needs_browser
def test_the_thumbnail_route_serves_only_images_in_date_folders(
    panel: Any, installation: Installation, dav: DavFixture
):
    publish_tomorrow(dav)
    assert installation.cli("sync").returncode == 0
    media = installation.member.media
    outside = media.parent / "secret.png"
    outside.write_bytes(png("blue"))
    (media / TOMORROW / "link.png").symlink_to(outside)
    (media / "loose.png").write_bytes(png("green"))
    url = base_url(panel)

    def get(query: str) -> Any:
        return panel.request.get(f"{url}/status/thumb?{query}")

    good = get(f"date={TOMORROW}&name=slide.png")
    assert good.status == 200
    assert good.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(good.body())) as image:
        assert image.format == "JPEG"
        assert image.width <= 160 and image.height <= 100

    refused = [
        f"date={TOMORROW}&name=../../secret.png",
        f"date={TOMORROW}&name=..",
        "date=..&name=secret.png",
        f"date={TOMORROW}/..&name=secret.png",
        "date=.congsync&name=manifest.json",
        "date=&name=loose.png",
        f"date={TOMORROW.replace('-', '')}&name=slide.png",
        f"date={TOMORROW}&name=link.png",  # a link out of the media folder
        f"date={TOMORROW}&name=song.mp4",  # not a picture
        f"date={TOMORROW}&name=missing.png",
        f"date={TOMORROW}&name={media.parent / 'secret.png'}",
    ]
    for query in refused:
        answer = get(query)
        assert answer.status == 404, query
        assert b"PNG" not in answer.body() and b"JFIF" not in answer.body(), query


@needs_browser
def test_a_member_is_told_that_managing_media_is_for_organizers(panel: Any):
    panel.goto(base_url(panel) + "/media")
    sentence = panel.get_by_test_id("members-sentence").inner_text()
    assert "Only the congregation's organizers manage its media" in sentence
    assert panel.locator('input[type="file"]').count() == 0
    # The member's navigation offers no Manage media page.
    panel.goto(base_url(panel) + "/status")
    assert panel.get_by_role("link", name="Manage media").count() == 0
