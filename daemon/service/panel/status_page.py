"""The status page: the state as the tray shows it, the running sync, and each upcoming meeting."""

from __future__ import annotations

from daemon.service.control.api import Context, Request, Response, Route
from daemon.service.panel.services import PanelServices
from daemon.service.panel.web import page


def routes(services: PanelServices) -> dict[str, dict[str, Route]]:
    def status(context: Context, request: Request) -> Response:
        document = context.board.document()
        return page(
            context,
            request,
            services,
            "status.html",
            status=document,
            meetings=list(services.meetings()) if services.configured else [],
        )

    return {"/status": {"GET": status}}
