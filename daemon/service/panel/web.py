"""The panel's HTTP side: templates (Jinja2, autoescaped), static assets, and its routes.

Pages are plain HTML rendered on the daemon; `static/panel.js` adds what needs a script
(sending the CSRF token with every change, uploads with progress, live status). Everything
ships in the package: no CDN, works offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from importlib import resources
from typing import Any

import jinja2

from daemon.errors import CongsyncError, RequestRefused
from daemon.i18n import _, current_language, fact, format_day, ngettext
from daemon.service.control.api import Context, Request, Response, json_response
from daemon.service.panel.services import PanelServices

_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# Pages only load what the panel serves itself; no inline script, no framing by other pages.
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("daemon.service.panel", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.globals.update(_=_, ngettext=ngettext, format_day=format_day)


def page(
    context: Context,
    request: Request,
    services: PanelServices,
    template: str,
    **values: Any,
) -> Response:
    """A rendered page of the panel, with what every page needs (navigation, CSRF token)."""
    csrf = ""
    if request.session is not None and context.guards is not None:
        csrf = context.guards.csrf_token(request.session)
    organizer = False
    if services.configured:
        try:
            organizer = services.profile.config.is_organizer
        except CongsyncError:  # a broken configuration: the setup page says what is wrong
            organizer = False
    html = _ENV.get_template(template).render(
        csrf=csrf,
        path=request.path,
        configured=services.configured,
        organizer=organizer,
        language=current_language(),
        **values,
    )
    return Response(
        HTTPStatus.OK,
        html.encode("utf-8"),
        "text/html; charset=utf-8",
        headers={"Content-Security-Policy": _CSP, "X-Frame-Options": "DENY"},
    )


def redirect(location: str) -> Response:
    return Response(HTTPStatus.SEE_OTHER, b"", "text/plain", headers={"Location": location})


def refuse(status: HTTPStatus, sentence: str) -> RequestRefused:
    """An error the page's script shows as it is (a sentence a volunteer understands)."""
    return RequestRefused(status, sentence)


def ok(data: Mapping[str, Any] | None = None) -> Response:
    return json_response(HTTPStatus.OK, dict(data or {"ok": True}))


def static_file(context: Context, request: Request) -> Response:
    name = request.path.rsplit("/", 1)[-1]
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in _STATIC_TYPES or "/" in name or name.startswith("."):
        raise RequestRefused(HTTPStatus.NOT_FOUND, fact("There is no such endpoint."))
    try:
        data = resources.files("daemon.service.panel").joinpath("static", name).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise RequestRefused(HTTPStatus.NOT_FOUND, fact("There is no such endpoint.")) from None
    return Response(HTTPStatus.OK, data, _STATIC_TYPES[suffix])
