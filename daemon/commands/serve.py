"""`congsync serve`: host the congregation folder yourself; `congsync serve user …`: its accounts."""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
import threading
from pathlib import Path

from daemon.config import Profile
from daemon.errors import AccountsError, ConfigError
from daemon.i18n import _, fact
from daemon.server.accounts import add_account, load_accounts, remove_account
from daemon.server.certificate import spaced
from daemon.server.serve import ServeOptions, ServeServer, default_users_file
from daemon.service.serve_unit import install_service


def _users_file(args: argparse.Namespace) -> Path:
    if args.users:
        return Path(args.users).expanduser().absolute()
    if not args.root:
        raise ConfigError(fact("Say which folder is served (--root DIR) or give --users FILE."))
    return default_users_file(Path(args.root).expanduser())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(_("Password: "))
    if getpass.getpass(_("The same password again: ")) != first:
        raise AccountsError(fact("The two passwords differ; nothing was changed."))
    return first


def _user(args: argparse.Namespace) -> int:
    path = _users_file(args)
    if args.user_action == "ls":
        accounts = load_accounts(path)
        if not accounts:
            print(_("No accounts in {path}.").format(path=path))
        for account in sorted(accounts.values(), key=lambda a: a.name):
            print(f"{account.name}\t{account.role}")
        return 0
    if args.user_action == "rm":
        remove_account(path, args.name)
        print(_("Removed the account “{name}”.").format(name=args.name))
        return 0
    replaced = add_account(path, args.name, args.role, _read_password(args.password_stdin))
    message = (
        _("Replaced the account “{name}” ({role}) in {path}.")
        if replaced
        else _("Added the account “{name}” ({role}) to {path}.")
    )
    print(message.format(name=args.name, role=args.role, path=path))
    return 0


def options_from(args: argparse.Namespace) -> ServeOptions:
    if not args.root:
        raise ConfigError(fact("Say which folder to serve: congsync serve --root DIR"))
    return ServeOptions(
        root=Path(args.root).expanduser().absolute(),
        host=args.host,
        port=args.port,
        cert=Path(args.cert).expanduser().absolute() if args.cert else None,
        key=Path(args.key).expanduser().absolute() if args.key else None,
        users=Path(args.users).expanduser().absolute() if args.users else None,
    )


def run(args: argparse.Namespace, _profile: Profile | None = None) -> int:
    if args.serve_action == "user":
        return _user(args)
    options = options_from(args)
    if args.install_service:
        return install_service(options, system=args.system, print_only=args.print_unit)
    server = ServeServer(options)
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda _signum, _frame: stop.set())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        server.dav.start()
        print(_("Serving {root} at {url}").format(root=options.root, url=server.dav.url))
        print(_("Accounts: {path}").format(path=server.users_file))
        print(_("Access log: {path}").format(path=server.access_log_path))
        if server.self_signed:
            print(
                _(
                    "Certificate SHA-256 fingerprint: {fingerprint}\n"
                    "Members connect with: congsync setup --url {url} --pin-sha256 {plain}"
                ).format(
                    fingerprint=spaced(server.fingerprint),
                    url=server.dav.url,
                    plain=server.fingerprint,
                ),
                flush=True,
            )
        else:
            print(
                _("Certificate SHA-256 fingerprint: {fingerprint}").format(
                    fingerprint=spaced(server.fingerprint)
                ),
                flush=True,
            )
        server.dav.serve_forever_until(stop)
    finally:
        server.dav.stop()
        server.close_log()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
