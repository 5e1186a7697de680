"""Every path the panel serves, gathered from its pages."""

from __future__ import annotations

from daemon.service.control.api import Context, Request, Response, Route
from daemon.service.panel import media_page, setup_page, status_page
from daemon.service.panel.services import PanelServices
from daemon.service.panel.web import redirect, static_file


def panel_routes(services: PanelServices) -> dict[str, dict[str, Route]]:
    """Every path the panel serves, for `ControlServer(routes=…)`."""

    def home(context: Context, request: Request) -> Response:
        return redirect("/status" if services.configured else "/setup")

    routes: dict[str, dict[str, Route]] = {"/": {"GET": home}}
    for name in ("panel.css", "panel.js", "setup.js", "status.js", "media.js", "video.svg"):
        routes[f"/static/{name}"] = {"GET": static_file}
    for module in (status_page, setup_page, media_page):
        for path, methods in module.routes(services).items():
            routes.setdefault(path, {}).update(methods)
    return routes
