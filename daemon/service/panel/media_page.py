"""The media page (being built)."""

from __future__ import annotations

from daemon.service.control.api import Context, Request, Response, Route
from daemon.service.panel.services import PanelServices
from daemon.service.panel.web import page


def routes(services: PanelServices) -> dict[str, dict[str, Route]]:
    def show(context: Context, request: Request) -> Response:
        return page(context, request, services, "media.html")

    return {"/media": {"GET": show}}
