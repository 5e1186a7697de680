"""`congsync setup`: ask for (or take) the connection, test it, store the password, save the file."""

from __future__ import annotations

import argparse
import getpass
import sys
import unicodedata
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from daemon.config import Config, Profile
from daemon.core.settings import language_setting
from daemon.credentials import (
    CREDENTIAL_NAME,
    ENV_VAR,
    FILE_ENV_VAR,
    file_password,
    supplied_password,
)
from daemon.errors import ConfigError, CongsyncError, NotFound
from daemon.i18n import _, fact, weekday_name
from daemon.service.control import ControlClient
from daemon.service.setup_flow import FolderNotThere, build_config, save_setup
from daemon.sync.connection import read_congregation_settings

_A_MONDAY = date(2024, 1, 1)
_ENGLISH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _ask(prompt: str, default: str | None = None) -> str:
    suffix = f" [{default}]" if default else ""
    answer = input(f"{prompt}{suffix}: ").strip()
    return answer or (default or "")


def says_yes(answer: str) -> bool:
    """Whether a typed answer means yes: in English ("y", "yes") or in the user's language
    ("da", "sí", "ja", …), whole or by its first letter, in any case and with or without accents."""
    # Translators: the word a user types at a prompt to answer yes (its first letter works too).
    words = {"yes", _("yes")}
    typed = _plain(answer)
    return bool(typed) and any(typed in (_plain(word), _plain(word)[:1]) for word in words)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _interactive(args: argparse.Namespace) -> bool:
    given = [args.url, args.username, args.folder, args.media_dir]
    return (
        sys.stdin.isatty() and not any(given) and not args.password_stdin and not args.password_file
    )


def parse_weekday(raw: str) -> int | None:
    """0 (Monday) … 6 (Sunday) from a number or a day's name (this language's or English, or its
    first three letters); None when `raw` is neither."""
    answer = raw.strip().casefold()
    if answer.isdigit():
        number = int(answer)
        return number if 0 <= number <= 6 else None
    for day in range(7):
        for name in (weekday_name(_A_MONDAY + timedelta(days=day)).casefold(), _ENGLISH_DAYS[day]):
            if len(answer) >= 3 and name.startswith(answer):
                return day
    return None


def _day_flag(raw: str | None, flag: str) -> int | None:
    if raw is None:
        return None
    day = parse_weekday(raw)
    if day is None:
        raise ConfigError(
            fact(
                "{flag} takes a day, Monday to Sunday (or 0 to 6), not “{value}”.",
                flag=flag,
                value=raw,
            )
        )
    return day


def _ask_day(prompt: str) -> int | None:
    hint = _("{first} … {last}, or nothing to leave it open").format(
        first=weekday_name(_A_MONDAY), last=weekday_name(_A_MONDAY + timedelta(days=6))
    )
    while True:
        answer = _ask(f"{prompt} ({hint})")
        if not answer:
            return None
        day = parse_weekday(answer)
        if day is not None:
            return day
        print(_("“{answer}” is not a day of the week.").format(answer=answer))


def _meeting_days(config: Config, password: str, interactive: bool) -> Config:
    """Ask for (or warn about) the meeting days the congregation's settings leave open:
    without them recurring media is placed into no meeting."""
    congregation = read_congregation_settings(config, password)
    open_days = [
        (key, prompt, flag)
        for key, prompt, flag in (
            ("mw_day", _("Day of the midweek meeting"), "--midweek-day"),
            ("we_day", _("Day of the weekend meeting"), "--weekend-day"),
        )
        if getattr(congregation, key) is None and getattr(config, key) is None
    ]
    if open_days and interactive:
        print(
            _(
                "The congregation's settings (forcedPrefs.json) do not say on which days the "
                "meetings are. congsync needs them to put recurring media into each meeting."
            )
        )
        config = config.with_changes(**{key: _ask_day(prompt) for key, prompt, _f in open_days})
    missing = [flag for key, _prompt, flag in open_days if getattr(config, key) is None]
    if missing:
        print(
            _(
                "Warning: neither the congregation's settings (forcedPrefs.json) nor this "
                "computer say on which days the meetings are, so recurring media is not put "
                "into those meetings. Run setup again with {flags} (DAY is a day of the week, "
                "such as Thursday), or ask your organizer to set them for the congregation."
            ).format(flags=", ".join(f"{flag} DAY" for flag in missing)),
            file=sys.stderr,
        )
    return config


def _read_password(
    args: argparse.Namespace, interactive: bool, profile: Profile
) -> tuple[str, bool]:
    """The password and whether to store it (a password given for one run is not stored)."""
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError(fact("--password-stdin was given, but standard input was empty."))
        return line, True
    if args.password_file:
        named = replace(profile, password_file=Path(args.password_file).expanduser())
        supplied = file_password(named)
        assert supplied is not None  # a named file gives a password or raises
        # Every run reads it from there (a computer without a keyring): not copied into one.
        return supplied.password, False
    if interactive or sys.stdin.isatty():
        password = getpass.getpass(_("Password (stored in the OS keyring): "))
        if not password:
            raise ConfigError(fact("The password is empty."))
        return password, True
    supplied = supplied_password(profile)  # CONGSYNC_PASSWORD(_FILE), a systemd credential
    if supplied is not None:
        return supplied.password, False
    raise ConfigError(
        fact(
            "No password given. Use --password-stdin (e.g. from a password manager), run setup in "
            "a terminal to be asked, name a password file with --password-file FILE, or set "
            "{env} for this run.",
            env=ENV_VAR,
        )
    )


def _where_the_password_is(args: argparse.Namespace, profile: Profile) -> str:
    """Where a password setup did not store is read from on every run."""
    if args.password_file:
        return _(
            "The password is read from the file {path} at every run (it was not stored in the "
            "OS keyring); keep the file private."
        ).format(path=Path(args.password_file).expanduser().absolute())
    if profile.password_file is not None and not profile.password:
        return _(
            "The password is read from the file {path} and was not stored in the OS keyring; "
            "give every run that file (--password-file or {file_env})."
        ).format(path=profile.password_file, file_env=FILE_ENV_VAR)
    if profile.password:
        return _("The password came from {env} and was not stored; set it for every run.").format(
            env=ENV_VAR
        )
    return _(
        "The password is the systemd credential {name} and was not stored in the OS keyring."
    ).format(name=CREDENTIAL_NAME)


def _tell_running_daemon(profile: Profile) -> None:
    """A congsync running for this configuration syncs at once with the new password and
    settings (also out of a "wrong password" error), without a restart."""
    try:
        client = ControlClient.from_paths(profile.paths)
        if client is None:
            return
        with client:
            client.credentials_changed()
    except CongsyncError as exc:
        print(
            _(
                "The running congsync did not take the new settings ({reason}); restart it "
                "(“congsync stop”, then “congsync run”)."
            ).format(reason=exc.message),
            file=sys.stderr,
        )
        return
    print(_("The running congsync uses the new settings and syncs now."))


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
            fact(
                "setup needs {flags} (or run it in a terminal without flags to be asked).",
                flags=", ".join(missing),
            )
        )
    config = build_config(
        profile,
        url=args.url,
        username=args.username,
        folder=args.folder,
        media_dir=args.media_dir,
        role=args.role or "member",
        organizer_dir=args.organizer_dir,
        export_dir=args.export_dir,
        ca_bundle=args.ca_bundle,
        pin_sha256=args.pin_sha256,
        weeks_ahead=args.weeks_ahead or 2,
        language=language_setting(getattr(args, "language", None) or ""),
        mw_day=_day_flag(args.mw_day, "--midweek-day"),
        we_day=_day_flag(args.we_day, "--weekend-day"),
        password_file=args.password_file,
    )
    # Before the password is asked for: overlapping folders are refused whatever the server says
    # (build_config checked them).
    password, store = _read_password(args, interactive, profile)

    def save(create: bool) -> None:
        save_setup(
            profile,
            config,
            password,
            store=store,
            create=create,
            say=print,
            before_save=lambda checked, known: _meeting_days(checked, known, interactive),
            notify=lambda: _tell_running_daemon(profile),
        )

    try:
        save(args.create_folder)
    except FolderNotThere as exc:
        # Translators: the answer taken when the user just presses Enter (in this language).
        if not (interactive and says_yes(_ask(_("Create it? (yes/no)"), _("no")))):
            raise NotFound(
                fact(
                    "{problem} Run setup again with --create-folder to create it.", problem=exc.text
                ),
                404,
            ) from None
        save(True)
    if not store:
        print(_where_the_password_is(args, profile))
    print(_("Next: “congsync sync” to sync once, or “congsync run” to keep syncing."))
    return 0
