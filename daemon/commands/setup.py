"""`congsync setup`: ask for (or take) the connection, test it, store the password, save the file."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from daemon.config import Config, Profile
from daemon.credentials import ENV_VAR, store_password
from daemon.errors import ConfigError, NotFound
from daemon.i18n import _
from daemon.sync.connection import check_connection, create_folder


def _ask(prompt: str, default: str | None = None) -> str:
    suffix = f" [{default}]" if default else ""
    answer = input(f"{prompt}{suffix}: ").strip()
    return answer or (default or "")


def _interactive(args: argparse.Namespace) -> bool:
    given = [args.url, args.username, args.folder, args.media_dir]
    return sys.stdin.isatty() and not any(given) and not args.password_stdin


def _read_password(
    args: argparse.Namespace, interactive: bool, one_run: str | None
) -> tuple[str, bool]:
    """The password and whether to store it (a password given for one run is not stored)."""
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError(_("--password-stdin was given, but standard input was empty."))
        return line, True
    if interactive or sys.stdin.isatty():
        password = getpass.getpass(_("Password (stored in the OS keyring): "))
        if not password:
            raise ConfigError(_("The password is empty."))
        return password, True
    if one_run:
        return one_run, False
    raise ConfigError(
        _(
            "No password given. Use --password-stdin (e.g. from a password manager), run setup in "
            "a terminal to be asked, or set {env} for this run."
        ).format(env=ENV_VAR)
    )


def run(args: argparse.Namespace, profile: Profile) -> int:
    interactive = _interactive(args)
    if interactive:
        print(_("Connect this computer to your congregation's media folder."))
        args.url = _ask(_("WebDAV server address (https://…)"))
        args.username = _ask(_("Username"))
        args.folder = _ask(_("Congregation folder on the server"))
        args.media_dir = _ask(_("Local media folder"), str(Path.home() / "Meeting Media"))
        args.role = _ask(_("Role (member or organizer)"), "member")
        if args.role == "organizer":
            args.organizer_dir = _ask(
                _("Organizer folder to publish from"), str(Path.home() / "Meeting Media Organizer")
            )
    missing = [
        flag
        for flag, value in (
            ("--url", args.url),
            ("--username", args.username),
            ("--folder", args.folder),
            ("--media-dir", args.media_dir),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            _("setup needs {flags} (or run it in a terminal without flags to be asked).").format(
                flags=", ".join(missing)
            )
        )
    config = Config(
        url=args.url,
        username=args.username,
        folder=args.folder,
        media_dir=Path(args.media_dir).expanduser().absolute(),
        role=args.role or "member",
        organizer_dir=Path(args.organizer_dir).expanduser().absolute()
        if args.organizer_dir
        else None,
        ca_bundle=Path(args.ca_bundle).expanduser().absolute() if args.ca_bundle else None,
        weeks_ahead=args.weeks_ahead or 2,
    )
    password, store = _read_password(args, interactive, profile.password)
    print(_("Testing the connection to {host} …").format(host=config.host))
    try:
        check_connection(config, password)
    except NotFound as exc:
        if not config.is_organizer:
            raise NotFound(
                _(
                    "{problem} Ask your organizer for the right folder, or check for typing mistakes."
                ).format(problem=exc.message),
                404,
            ) from None
        create = args.create_folder
        if not create and interactive:
            create = _ask(_("Create it? (yes/no)"), "no").lower() in ("y", "yes")
        if not create:
            raise NotFound(
                _("{problem} Run setup again with --create-folder to create it.").format(
                    problem=exc.message
                ),
                404,
            ) from None
        create_folder(config, password)
        print(_("Created the folder {folder}.").format(folder=config.folder))
    print(_("The connection works."))
    if store:
        store_password(config, password)
        print(_("The password is stored in the OS keyring."))
    else:
        print(
            _("The password came from {env} and was not stored; set it for every run.").format(
                env=ENV_VAR
            )
        )
    profile.save(config)
    print(_("Saved the configuration to {path}.").format(path=profile.paths.config_file))
    print(_("Next: “congsync sync” to sync once, or “congsync run” to keep syncing."))
    return 0
