"""The Setup page: the connection to the congregation folder, this computer's folders and
settings, and (organizers) the congregation-wide settings.

Everything goes through what `congsync setup` and `congsync settings push|unlock` use:
`setup_flow.save_setup` (test, keyring, save), `check_server` (the same diagnosis), and the
Publisher's `push_settings` / `unlock_settings` (forcedPrefs.json, unknown keys kept). The
password is never sent back to the page: an empty field keeps the stored one.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

from daemon.config import Config
from daemon.core.layout import SETTING_KEYS, CongregationSettings
from daemon.core.settings import LOCKABLE, describe, parse_local_value
from daemon.credentials import Origin, supplied_password
from daemon.errors import (
    AuthError,
    CongsyncError,
    CredentialsError,
    NetworkError,
    NotFound,
    NotWebDAV,
    RateLimited,
    RequestRefused,
    TLSError,
)
from daemon.i18n import LANGUAGE_NAMES, _, weekday_name
from daemon.service.control.api import Context, Request, Response, Route
from daemon.service.logs import register_secret
from daemon.service.panel.providers import providers
from daemon.service.panel.services import PanelServices
from daemon.service.panel.web import ok, page, refuse
from daemon.service.setup_flow import (
    FolderNotThere,
    build_config,
    check_server,
    known_password,
    retired_provider,
    save_setup,
)
from daemon.sync.connection import FolderLook, look_at_folder, make_subfolder
from daemon.sync.connection import read_congregation_settings as read_settings

log = logging.getLogger(__name__)

_A_MONDAY = date(2024, 1, 1)
_DEFAULT_MEDIA = Path.home() / "Meeting Media"
_DEFAULT_ORGANIZER = Path.home() / "Meeting Media Organizer"


def _labels() -> dict[str, str]:
    return {
        "meeting.mwDay": _("Day of the midweek meeting"),
        "meeting.weDay": _("Day of the weekend meeting"),
        "meeting.coWeek": _("A day in the circuit overseer's week"),
        "meeting.mwStartTime": _("Start of the midweek meeting"),
        "meeting.weStartTime": _("Start of the weekend meeting"),
        "app.outputFolderDateFormat": _("How meeting folders are named"),
        "app.congregationName": _("Congregation name"),
        "media.lang": _("Language of the media (such as E)"),
        "congsync.weeksAhead": _("Weeks ahead to sync"),
        "congsync.keepDays": _("Days an old meeting stays on the server"),
        "congsync.maxRate": _("Bandwidth limit (such as 2MB/s; empty for none)"),
        "congsync.convert": _("Convert PDF, SVG and HEIC into images (true or false)"),
    }


def _kind(key: str) -> str:
    if key in ("meeting.mwDay", "meeting.weDay"):
        return "day"
    if key == "meeting.coWeek":
        return "date"
    if key.endswith("StartTime"):
        return "time"
    if key.startswith("congsync.") and key not in ("congsync.maxRate", "congsync.convert"):
        return "number"
    return "text"


def _congregation_value(settings: CongregationSettings, key: str) -> Any:
    values: dict[str, Any] = {
        "meeting.mwDay": settings.mw_day,
        "meeting.weDay": settings.we_day,
        "meeting.coWeek": settings.co_week.isoformat() if settings.co_week else None,
        "meeting.mwStartTime": settings.mw_start_time,
        "meeting.weStartTime": settings.we_start_time,
        "app.outputFolderDateFormat": settings.output_folder_date_format,
        "app.congregationName": settings.congregation_name,
        "media.lang": settings.lang,
    }
    if key.startswith("congsync."):
        return settings.congsync.get(key.removeprefix("congsync."))
    return values.get(key)


@dataclass(frozen=True)
class CongregationRow:
    key: str
    label: str
    kind: str
    value: str  # as the input shows it ("" when open)
    enforced: bool
    default: str = ""  # what applies when the congregation sets nothing (congsync's own)


def _default(key: str) -> str:
    """congsync's own default of a congregation-wide congsync.* setting (Config's), or ""."""
    local = next((name for name, prefs in LOCKABLE.items() if prefs == key), None)
    if local is None or not key.startswith("congsync."):
        return ""
    field = next(f for f in dataclasses.fields(Config) if f.name == local)
    return "" if field.default is dataclasses.MISSING else str(field.default)


def _advice(exc: CongsyncError) -> str:
    """What to do, in the panel's words, after the sentence of what is wrong (the most
    specific error type first)."""
    table: tuple[tuple[type[CongsyncError] | tuple[type[CongsyncError], ...], str], ...] = (
        (
            (AuthError, CredentialsError),
            _(
                "Check the username and the password and test again. Some providers need an "
                "app password instead of your login password (see Providers)."
            ),
        ),
        (
            TLSError,
            _(
                "congsync never turns the certificate check off. If this is a server of your "
                "own, ask whoever runs it for its certificate, or give it with “congsync setup "
                "--ca-bundle FILE”, or enter the fingerprint “congsync serve” printed."
            ),
        ),
        (RateLimited, _("The server asks to slow down: wait a few minutes, then test again.")),
        (
            FolderNotThere,
            _(
                "Choose an existing folder with Browse…, or create it there with Create folder "
                "(organizers)."
            ),
        ),
        (NotFound, _("Choose the folder with Browse…, or check it for typing mistakes.")),
        (
            NotWebDAV,
            _(
                "Check the web address: it must be the WebDAV address of your account "
                "(Providers lists the usual ones)."
            ),
        ),
        (
            NetworkError,
            _("Check the web address and that this computer is online, then test again."),
        ),
    )
    return next((advice for kind, advice in table if isinstance(exc, kind)), "")


def _explain(exc: CongsyncError) -> RequestRefused:
    advice = _advice(exc)
    return refuse(HTTPStatus.BAD_REQUEST, f"{exc.message} {advice}".strip())


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    return value.strip() if isinstance(value, str) else ""


def _day(raw: Any) -> int | None:
    text = str(raw).strip() if raw is not None else ""
    if not text:
        return None
    if not text.isdigit() or not 0 <= int(text) <= 6:
        raise refuse(HTTPStatus.BAD_REQUEST, _("Choose a day of the week."))
    return int(text)


def _number(raw: Any, name: str) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise refuse(
            HTTPStatus.BAD_REQUEST, _("{name} takes a whole number.").format(name=name)
        ) from None


class _Setup:
    def __init__(self, services: PanelServices) -> None:
        self.services = services

    # -- what the page works with ----------------------------------------------------------------

    def current(self) -> Config | None:
        if not self.services.configured:
            return None
        try:
            return self.services.profile.config
        except CongsyncError:
            return None

    def _values(self, body: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
        """The form's answers as Config fields (absent or disabled fields keep their value)."""
        values: dict[str, Any] = {
            "url": _text(body, "url"),
            "username": _text(body, "username"),
            "folder": _text(body, "folder").strip("/"),
        }
        role = _text(body, "role") or "member"
        values["role"] = role
        media = _text(body, "media_dir")
        organizer = _text(body, "organizer_dir")
        export = _text(body, "export_dir")
        if complete:
            for value, name in (
                (values["url"], _("Web address")),
                (values["username"], _("Username")),
                (values["folder"], _("Congregation folder")),
                (media, _("Media folder")),
            ):
                if not value:
                    raise refuse(HTTPStatus.BAD_REQUEST, _("Fill in “{field}”.").format(field=name))
        values["media_dir"] = media or str(_DEFAULT_MEDIA)
        values["organizer_dir"] = (
            (organizer or str(_DEFAULT_ORGANIZER)) if role == "organizer" else ""
        )
        if "pin_sha256" in body:
            values["pin_sha256"] = _text(body, "pin_sha256") or None
        values["export_dir"] = export if role == "organizer" else ""
        if "weeks_ahead" in body:
            values["weeks_ahead"] = _number(body["weeks_ahead"], _("Weeks ahead"))
        for key in ("mw_day", "we_day"):
            if key in body:
                values[key] = _day(body[key])
        for key in ("convert", "language"):
            if key in body:
                try:
                    values[key] = parse_local_value(key, str(body[key]))
                except CongsyncError as exc:
                    raise refuse(HTTPStatus.BAD_REQUEST, exc.message) from None
        if not values["url"]:
            raise refuse(
                HTTPStatus.BAD_REQUEST, _("Fill in “{field}”.").format(field=_("Web address"))
            )
        return values

    def config_from(self, body: Mapping[str, Any], *, complete: bool = False) -> Config:
        try:
            return build_config(
                self.services.profile, self.current(), **self._values(body, complete=complete)
            )
        except CongsyncError as exc:
            raise refuse(HTTPStatus.BAD_REQUEST, exc.message) from None

    def password_for(self, body: Mapping[str, Any], config: Config) -> tuple[str | None, str]:
        """The typed password (None when the field was left empty) and the one to use."""
        retired = retired_provider(config.url)
        if retired is not None:
            raise refuse(HTTPStatus.BAD_REQUEST, retired)  # whatever the password: say that first
        typed = body.get("password")
        if isinstance(typed, str) and typed:
            register_secret(typed)
            return typed, typed
        try:
            return None, known_password(self.services.profile, config)
        except CredentialsError:
            raise refuse(
                HTTPStatus.BAD_REQUEST,
                _("Enter the password: none is stored for this account yet."),
            ) from None

    def congregation(self, config: Config | None) -> tuple[CongregationSettings, str | None]:
        """The congregation's forcedPrefs.json as the server has it now (and why not, if not)."""
        if config is None:
            return CongregationSettings(), None
        try:
            return read_settings(config, known_password(self.services.profile, config)), None
        except CongsyncError as exc:
            return CongregationSettings(), exc.message

    def password_source(self) -> str | None:
        """Where a password given outside the keyring comes from, in words (None: the keyring)."""
        try:
            supplied = supplied_password(self.services.profile)
        except CongsyncError as exc:
            return exc.message
        if supplied is None:
            return None
        if supplied.origin is Origin.ENVIRONMENT:
            return _(
                "The password comes from the environment variable CONGSYNC_PASSWORD, which "
                "congsync uses before the keyring. Leave the field empty to keep it."
            )
        if supplied.origin is Origin.SYSTEMD:
            where = _("the systemd credential {path}")
        else:
            where = _("the password file {path}")
        return _(
            "The password comes from {where}, which congsync uses before the keyring. Leave "
            "the field empty to keep it."
        ).format(where=where.format(path=supplied.path))

    # -- routes ------------------------------------------------------------------------------------

    def show(self, context: Context, request: Request) -> Response:
        config = self.current()
        congregation, unreadable = self.congregation(config)
        views = {v.key: v for v in describe(config, congregation)} if config else {}
        labels = _labels()
        rows = []
        for key in SETTING_KEYS:
            value = _congregation_value(congregation, key)
            default = _default(key)
            rows.append(
                CongregationRow(
                    key,
                    labels[key],
                    _kind(key),
                    default if value is None else str(value),
                    key in congregation.locked,
                    default,
                )
            )
        days = [(str(n), weekday_name(_A_MONDAY + timedelta(days=n))) for n in range(7)]
        form = {
            "url": config.url if config else "",
            "username": config.username if config else "",
            "folder": config.folder.strip("/") if config else "",
            "role": config.role if config else "member",
            "media_dir": str(config.media_dir) if config else str(_DEFAULT_MEDIA),
            "organizer_dir": str(config.organizer_dir)
            if config and config.organizer_dir
            else str(_DEFAULT_ORGANIZER),
            "export_dir": str(config.export_dir) if config and config.export_dir else "",
            "weeks_ahead": config.weeks_ahead if config else 2,
            "pin_sha256": (config.pin_sha256 or "") if config else "",
            "mw_day": "" if not config or config.mw_day is None else str(config.mw_day),
            "we_day": "" if not config or config.we_day is None else str(config.we_day),
            "convert": config.convert if config else True,
            "language": config.language if config else "",
        }
        locked = {
            local: views[local].locked and views[local].source == "congregation"
            for local in LOCKABLE
            if local in views
        }
        return page(
            context,
            request,
            self.services,
            "setup.html",
            form=form,
            has_password=config is not None,
            password_source=self.password_source(),
            providers=providers(),
            days=days,
            languages=list(LANGUAGE_NAMES.items()),
            locked=locked,
            views=views,
            rows=rows,
            enforced=[row for row in rows if row.enforced],
            unreadable=unreadable,
        )

    def test(self, context: Context, request: Request) -> Response:
        config = self.config_from(request.body)
        _typed, password = self.password_for(request.body, config)
        try:
            look = check_server(config, password)
        except CongsyncError as exc:
            raise _explain(exc) from None
        return ok({"message": _("The connection works.") + " " + _describe(look), **_look(look)})

    def browse(self, context: Context, request: Request) -> Response:
        config = self.config_from(request.body)
        _typed, password = self.password_for(request.body, config)
        path = _text(request.body, "path").strip("/")
        fallback = request.body.get("fallback")
        try:
            try:
                look = look_at_folder(config, password, path)
            except NotFound:
                # The typed folder is not there (yet): start where the account's files start.
                if not isinstance(fallback, str) or fallback.strip("/") == path:
                    raise
                look = look_at_folder(config, password, fallback.strip("/"))
        except CongsyncError as exc:
            raise _explain(exc) from None
        return ok(_look(look))

    def new_folder(self, context: Context, request: Request) -> Response:
        config = self.config_from(request.body)
        _typed, password = self.password_for(request.body, config)
        try:
            created = make_subfolder(
                config, password, _text(request.body, "path"), _text(request.body, "name")
            )
            look = look_at_folder(config, password, created)
        except CongsyncError as exc:
            raise _explain(exc) from None
        return ok(
            {"message": _("Created the folder {folder}.").format(folder=created), **_look(look)}
        )

    def save(self, context: Context, request: Request) -> Response:
        config = self.config_from(request.body, complete=True)
        typed, _password = self.password_for(request.body, config)
        first = not self.services.configured  # the first start: nothing was configured before
        said: list[str] = []
        try:
            done = save_setup(
                self.services.profile,
                config,
                typed,
                store=True,
                say=said.append,
                notify=context.controls.credentials_changed,
            )
        except CongsyncError as exc:
            raise _explain(exc) from None
        log.info("The setup was saved from the panel")
        if first:
            message = _("Saved. congsync starts syncing; your browser opens its status page.")
        else:
            message = _("Saved. congsync uses the new settings and syncs now.")
        if done.created_folder:
            message = (
                _("Created the folder {folder}.").format(folder=done.config.folder) + " " + message
            )
        restart = "" if first else self._needs_restart(context, done.config)
        if restart:
            message += " " + restart
        return ok({"message": message, **_look(done.look)})

    def _needs_restart(self, context: Context, config: Config) -> str:
        snapshot = context.controls.snapshot()
        role = getattr(snapshot, "role", None)
        if role is not None and role != config.role:
            return _(
                "The new role takes effect once congsync is restarted (Quit in the tray, then "
                "start congsync again)."
            )
        return ""

    def congregation_save(self, context: Context, request: Request) -> Response:
        settings = request.body.get("settings")
        if not isinstance(settings, dict):
            raise refuse(HTTPStatus.BAD_REQUEST, _("settings must be an object."))
        config = self.current()
        if config is None:
            raise refuse(HTTPStatus.CONFLICT, _("Set up this computer first."))
        current, unreadable = self.congregation(config)
        if unreadable:
            raise refuse(HTTPStatus.BAD_GATEWAY, unreadable)
        push: list[str] = []
        unlock: list[str] = []
        for key, wanted in settings.items():
            if key not in SETTING_KEYS or not isinstance(wanted, dict):
                raise refuse(
                    HTTPStatus.BAD_REQUEST,
                    _("congsync has no congregation-wide setting {key}.").format(key=key),
                )
            value = str(wanted.get("value", "")).strip()
            if wanted.get("enforce") is True:
                if not value:
                    raise refuse(
                        HTTPStatus.BAD_REQUEST,
                        _("Give “{label}” a value to enforce it.").format(label=_labels()[key]),
                    )
                if value != _shown(_congregation_value(current, key)) or key not in current.locked:
                    push.append(f"{key}={value}")
            elif key in current.locked:
                unlock.append(key)
        if not push and not unlock:
            return ok({"message": _("Nothing changed.")})
        lines: list[str] = []
        try:
            with self.services.publisher(True) as publisher:
                if push:
                    lines += publisher.push_settings(push)
                if unlock:
                    lines += publisher.unlock_settings(unlock)
        except CongsyncError as exc:
            raise refuse(HTTPStatus.BAD_REQUEST, exc.message) from None
        context.controls.sync_now()
        return ok({"message": " ".join(lines)})


def _shown(value: Any) -> str:
    return "" if value is None else str(value)


def _describe(look: FolderLook) -> str:
    folder = "/" + look.folder.strip("/")
    if look.congregation_folder:
        return _("{folder} already looks like a congregation folder.").format(folder=folder)
    return _(
        "{folder} does not look like a congregation folder yet (no Media folder, no "
        "forcedPrefs.json): check that it is the one your congregation uses."
    ).format(folder=folder)


def _look(look: FolderLook) -> dict[str, Any]:
    parent = look.folder.rpartition("/")[0] if look.folder else None
    return {
        "folder": look.folder,
        "parent": parent,
        "subfolders": list(look.subfolders),
        "has_media": look.has_media,
        "has_prefs": look.has_prefs,
        "congregation_folder": look.congregation_folder,
        "verdict": _describe(look),
    }


def routes(services: PanelServices) -> dict[str, dict[str, Route]]:
    setup = _Setup(services)
    table: dict[str, tuple[str, Callable[[Context, Request], Response]]] = {
        "/setup": ("GET", setup.show),
        "/setup/test": ("POST", setup.test),
        "/setup/folders": ("POST", setup.browse),
        "/setup/folders/new": ("POST", setup.new_folder),
        "/setup/save": ("POST", setup.save),
        "/setup/congregation": ("POST", setup.congregation_save),
    }
    return {path: {method: route} for path, (method, route) in table.items()}
