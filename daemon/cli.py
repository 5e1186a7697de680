"""Command-line entry: parse, call the command's function, print its error in one sentence."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from daemon import __version__
from daemon.commands.serve_args import add_arguments as add_serve_arguments
from daemon.config import Profile, load_config
from daemon.errors import CongsyncError, ExitCode
from daemon.i18n import SUPPORTED_LANGUAGES, _, apply_setting, pin_language, supported_language
from daemon.paths import default_paths

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    password_file_help = _(
        "without a keyring: read the password from this file (only you may read it); "
        "also CONGSYNC_PASSWORD_FILE"
    )
    parser = argparse.ArgumentParser(
        prog="congsync",
        description=_(
            "Keeps this computer's meeting media in step with the congregation's folder."
        ),
    )
    parser.add_argument("--version", action="version", version=f"congsync {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help=_("say more about what happens")
    )
    parser.add_argument(
        "--lang",
        metavar="LANG",
        help=_(
            "the language of this command: {languages}; default: the setting, else the system's"
        ).format(languages=", ".join(SUPPORTED_LANGUAGES)),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help=_("try congsync with a local sample server"))
    demo.add_argument("--dir", default="congsync-demo", help=_("where the demo keeps its files"))
    demo.add_argument(
        "--keep-running", action="store_true", help=_("leave the demo server running")
    )

    setup = sub.add_parser("setup", help=_("connect this computer to the congregation folder"))
    setup.add_argument("--url", help=_("the WebDAV server address (https://…)"))
    setup.add_argument("--username")
    setup.add_argument("--folder", help=_("the congregation folder on the server"))
    setup.add_argument("--media-dir", help=_("the local media folder presentation software reads"))
    setup.add_argument("--role", choices=["member", "organizer"])
    setup.add_argument("--organizer-dir", help=_("organizers: the folder to publish from"))
    setup.add_argument(
        "--export-dir",
        help=_("organizers: Meeting Media Manager's media auto-export folder, published as it is"),
    )
    setup.add_argument("--ca-bundle", help=_("a PEM file with an extra CA to trust"))
    setup.add_argument(
        "--pin-sha256",
        metavar="HEX",
        help=_("trust exactly the certificate with this SHA-256 fingerprint (congsync serve)"),
    )
    setup.add_argument(
        "--password-stdin", action="store_true", help=_("read the password from stdin")
    )
    setup.add_argument(
        "--create-folder", action="store_true", help=_("organizers: create the folder if missing")
    )
    setup.add_argument("--weeks-ahead", type=int, help=_("how many weeks of meetings to keep"))
    setup.add_argument(
        "--language",
        metavar="LANG",
        help=_("the language congsync speaks here ({languages}); default: the system's").format(
            languages=", ".join(SUPPORTED_LANGUAGES)
        ),
    )
    setup.add_argument("--password-file", help=password_file_help)
    setup.add_argument(
        "--midweek-day",
        "--mw-day",
        dest="mw_day",
        metavar="DAY",
        help=_("the midweek meeting's day, if the congregation does not set it"),
    )
    setup.add_argument(
        "--weekend-day",
        "--we-day",
        dest="we_day",
        metavar="DAY",
        help=_("the weekend meeting's day, if the congregation does not set it"),
    )

    add_serve_arguments(
        sub.add_parser("serve", help=_("host the congregation folder on this computer"))
    )

    sync = sub.add_parser("sync", help=_("sync now"))
    sync.add_argument("--json", action="store_true", help=_("print a machine-readable summary"))
    sync.add_argument("--password-file", help=password_file_help)
    sync.add_argument(
        "--accept-deletions",
        action="store_true",
        help=_("confirm a sync that removes many files (after a safety stop)"),
    )

    status = sub.add_parser("status", help=_("show the configuration, state and upcoming media"))
    status.add_argument("--json", action="store_true")

    run = sub.add_parser("run", help=_("keep syncing in the background (with a tray icon)"))
    run.add_argument("--no-tray", action="store_true", help=_("run without the tray icon"))
    run.add_argument("--interval", type=int, help=_("seconds between checks, for this run"))
    run.add_argument("--password-file", help=password_file_help)

    pause = sub.add_parser("pause", help=_("pause the running congsync"))
    pause.add_argument("--for", dest="duration", help=_("e.g. 30m, 1h, 2d; default: until resumed"))
    sub.add_parser("resume", help=_("resume the running congsync"))
    sub.add_parser("stop", help=_("stop the running congsync"))
    open_ = sub.add_parser("open", help=_("open the control panel in the browser"))
    open_.add_argument(
        "page",
        nargs="?",
        default="status",
        choices=("status", "setup", "media"),
        help=_("the page to open (status, setup or media)"),
    )
    open_.add_argument(
        "--print-url",
        action="store_true",
        help=_("print a one-time sign-in address instead of opening a browser"),
    )
    logs = sub.add_parser("logs", help=_("show the recent log"))
    logs.add_argument("-n", "--lines", type=int, default=100)
    autostart = sub.add_parser(
        "autostart", help=_("start congsync when you log in: on, off, status")
    )
    autostart.add_argument(
        "autostart_action",
        choices=["on", "off", "status"],
        metavar="on|off|status",
        help=_("turn autostart on or off, or show whether it is on and where"),
    )
    autostart.add_argument(
        "--systemd",
        action="store_true",
        help=_("Linux without a desktop: a systemd user service instead of a login entry"),
    )

    settings = sub.add_parser("settings", help=_("show or change settings"))
    settings_sub = settings.add_subparsers(dest="settings_action", metavar="ACTION")
    show = settings_sub.add_parser(
        "show", help=_("every setting, its value and whether it is locked")
    )
    show.add_argument("--json", action="store_true")
    set_ = settings_sub.add_parser("set", help=_("change local settings: KEY=VALUE …"))
    set_.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    # -- organizer commands: parsers added below this line (media, hide, unhide, recurring,
    #    settings push/unlock) --
    push = settings_sub.add_parser(
        "push", help=_("organizers: set congregation-wide settings KEY=VALUE … for every member")
    )
    push.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    unlock = settings_sub.add_parser(
        "unlock", help=_("organizers: stop setting KEY for the whole congregation")
    )
    unlock.add_argument("keys", nargs="+", metavar="KEY")

    media = sub.add_parser("media", help=_("list, add or remove a meeting's media on the server"))
    media_sub = media.add_subparsers(dest="media_action", metavar="ACTION", required=True)
    media_ls = media_sub.add_parser("ls", help=_("the media of upcoming meetings, or of DATE"))
    media_ls.add_argument("date", nargs="?", metavar="DATE")
    media_add = media_sub.add_parser("add", help=_("organizers: publish files for DATE"))
    media_add.add_argument("date", metavar="DATE")
    media_add.add_argument("files", nargs="+", metavar="FILE")
    media_add.add_argument(
        "--replace", action="store_true", help=_("replace files of the same name")
    )
    media_rm = media_sub.add_parser("rm", help=_("organizers: remove a file from DATE"))
    media_rm.add_argument("date", metavar="DATE")
    media_rm.add_argument("name", metavar="NAME")

    hide = sub.add_parser("hide", help=_("organizers: hide media called NAME at DATE"))
    hide.add_argument("date", metavar="DATE")
    hide.add_argument("name", metavar="NAME")
    unhide = sub.add_parser("unhide", help=_("organizers: show hidden media again"))
    unhide.add_argument("date", metavar="DATE")
    unhide.add_argument("name", metavar="NAME")

    recurring = sub.add_parser("recurring", help=_("media that belongs to every meeting"))
    recurring_sub = recurring.add_subparsers(
        dest="recurring_action", metavar="ACTION", required=True
    )
    recurring_sub.add_parser("ls", help=_("list recurring media"))
    recurring_add = recurring_sub.add_parser("add", help=_("organizers: publish recurring media"))
    recurring_add.add_argument("files", nargs="+", metavar="FILE")
    recurring_add.add_argument(
        "--replace", action="store_true", help=_("replace files of the same name")
    )
    recurring_rm = recurring_sub.add_parser("rm", help=_("organizers: remove recurring media"))
    recurring_rm.add_argument("name", metavar="NAME")
    return parser


COMMANDS = {
    "demo": "daemon.commands.demo",
    "serve": "daemon.commands.serve",
    "setup": "daemon.commands.setup",
    "sync": "daemon.commands.sync",
    "status": "daemon.commands.status",
    "settings": "daemon.commands.settings",
    "run": "daemon.commands.run",
    "pause": "daemon.commands.control",
    "resume": "daemon.commands.control",
    "stop": "daemon.commands.control",
    "logs": "daemon.commands.logs",
    "open": "daemon.commands.open",
    "autostart": "daemon.commands.autostart",
    # -- organizer commands: entries added below this line --
    "media": "daemon.commands.media",
    "hide": "daemon.commands.hide",
    "unhide": "daemon.commands.hide",
    "recurring": "daemon.commands.recurring",
}


# A closed pipe (`congsync status | head -1`) ends a command the way the shell reports it.
EXIT_PIPE_CLOSED = 128 + 13  # 128 + SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:
            # Here rather than at interpreter exit, where a closed pipe prints a traceback.
            if sys.stdout is not None:  # None under pythonw (the Windows autostart)
                sys.stdout.flush()
    except BrokenPipeError:
        # Python's recommended way: what is still buffered goes nowhere, quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE_CLOSED


def choose_language(argv: Sequence[str] | None, env: Mapping[str, str]) -> str:
    """Before the parser is built, so that its help is in the chosen language too: `--lang`
    (pinned for this process, a daemon too), else the `language` setting, else the system's."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--lang")
    known, _rest = early.parse_known_args(argv)
    if known.lang:
        if supported_language(known.lang) is None:
            print(
                _("congsync: it does not speak “{lang}”; it speaks {languages}.").format(
                    lang=known.lang, languages=", ".join(SUPPORTED_LANGUAGES)
                ),
                file=sys.stderr,
            )
        pin_language(known.lang)
    setting = ""
    # Not set up, or a broken configuration (the command says so): the system's language.
    with contextlib.suppress(CongsyncError):
        setting = load_config(default_paths(env).config_file).language
    return apply_setting(setting, env)


def _main(argv: Sequence[str] | None) -> int:
    choose_language(argv, os.environ)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return int(ExitCode.CONFIG)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "wsgidav", "cheroot"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    module = importlib.import_module(COMMANDS[args.command])
    try:
        # The one place the environment names the profile; everything below is handed it.
        profile = Profile.from_environment(
            os.environ, password_file=getattr(args, "password_file", None)
        )
        code: int = module.run(args, profile)
    except CongsyncError as exc:
        print(_("congsync: {message}").format(message=exc.message), file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print(_("congsync: interrupted."), file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
