"""`congsync open`: the control panel in the browser, signed in with a one-time address."""

from __future__ import annotations

import argparse
import webbrowser

from daemon.commands.control import client_for
from daemon.config import Profile
from daemon.i18n import _

PAGES = {"status": "/status", "setup": "/setup", "media": "/media"}


def run(args: argparse.Namespace, profile: Profile) -> int:
    with client_for(profile) as client:
        url = client.panel_url(PAGES[args.page])
    if args.print_url:
        # Valid once and for two minutes: whoever opens it first is signed in.
        print(url)
        return 0
    show_in_browser(url)
    return 0


def show_in_browser(url: str) -> None:
    """Open a one-time sign-in address in the browser, or print it when none can be started."""
    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        print(
            _("No browser could be opened; open this address (valid once, for two minutes):"),
            flush=True,
        )
        print(url, flush=True)
