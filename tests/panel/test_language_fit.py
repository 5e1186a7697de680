"""Every panel page, in every language congsync ships, fits a 1366×768 screen: no label, button,
badge or heading runs out of its box and nothing pushes the page sideways (German and Slovenian
are the long ones). A real browser against real daemons and the real TLS WebDAV server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from davserver import DavFixture
from file_keyring import file_keyring_env
from installation import TOMORROW, Installation
from panel_support import needs_browser, sign_in_url
from support import make_profile

from daemon.i18n import SUPPORTED_LANGUAGES

pytestmark = needs_browser

SCREEN = {"width": 1366, "height": 768}

# What spills: a visible element whose content is wider than its box (a label cut off or running
# over its neighbour), or that reaches past the right edge of the screen, or a page that scrolls
# sideways. Boxes made to scroll (overflow auto/scroll), the file-name column's ellipsis, a typed
# value in its field and words hidden for screen readers are meant to.
OVERFLOWS = """
() => {
  const found = [];
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1) {
    found.push(`the page is ${document.documentElement.scrollWidth} px wide`);
  }
  const describe = (el) =>
    `<${el.tagName.toLowerCase()}${el.id ? " id=" + el.id : ""}> ` +
    JSON.stringify((el.innerText || el.value || "").trim().slice(0, 60));
  for (const el of document.body.querySelectorAll("*")) {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || style.visibility === "hidden") continue;
    if (!(el.innerText || el.value || "").trim()) continue;
    if (box.right > width + 1) {
      found.push(`${describe(el)} reaches ${Math.round(box.right)} px of ${width}`);
      continue;
    }
    if (style.display.startsWith("inline") && !style.display.includes("block")) continue;
    if (["auto", "scroll"].includes(style.overflowX) || style.textOverflow === "ellipsis") continue;
    // a typed value scrolls inside its field; visually hidden words (for screen readers) are
    // clipped to a pixel on purpose
    if (["INPUT", "TEXTAREA"].includes(el.tagName) || el.clientWidth <= 2) continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      found.push(`${describe(el)} needs ${el.scrollWidth} px, has ${el.clientWidth}`);
    }
  }
  return found;
}
"""


def overflows(tab: Any) -> list[str]:
    found: list[str] = tab.evaluate(OVERFLOWS)
    return found


@pytest.fixture(scope="module")
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


def test_the_check_sees_a_label_that_spills(tab: Any) -> None:
    """The check itself: a button too narrow for its words and a too-wide line are found."""
    tab.set_content(
        '<button style="width:60px;white-space:nowrap">Medijske datoteke sinhroniziraj</button>'
        '<p style="white-space:nowrap">' + "Zelo dolga vrstica " * 40 + "</p>"
    )
    found = overflows(tab)
    assert any("<button>" in line for line in found), found
    assert any("the page is" in line for line in found), found
    tab.set_content('<button style="white-space:nowrap">Sync now</button>')
    assert overflows(tab) == []


def _organizer(dav: DavFixture, home: Path, language: str) -> Installation:
    installed = Installation(dav, home)
    make_profile(
        dav, home, role="organizer", organizer_dir=home / "organizer", media_dir=home / "media"
    )
    installed.env.update(file_keyring_env(home / "keyring.json"))
    installed.env.update(LANGUAGE=language, LC_ALL="", LANG=f"{language}.UTF-8")
    # a meeting with media, so that the pages show their tables, badges and buttons
    dav.put_file(f"Media/{TOMORROW}/Pesem 151 – Jehova bo poklical.mp4", b"\x00" * 40_000)
    dav.put_file(f"Media/{TOMORROW}/Oznanila.jpg", b"\xff\xd8" + b"\x00" * 1000)
    installed.start("--interval", "3600")
    installed.wait_state("idle")
    return installed


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_page_fits_the_screen(
    language: str, tab: Any, dav: DavFixture, tmp_path: Path
) -> None:
    installed = _organizer(dav, tmp_path / language, language)
    try:
        spilled: dict[str, list[str]] = {}
        for page in ("status", "media", "setup"):
            tab.goto(sign_in_url(installed, page))
            tab.wait_for_load_state("networkidle")
            assert tab.evaluate("document.documentElement.lang") == language
            if found := overflows(tab):
                spilled[page] = found
        assert not spilled, f"{language}: {spilled}"
    finally:
        installed.close()
